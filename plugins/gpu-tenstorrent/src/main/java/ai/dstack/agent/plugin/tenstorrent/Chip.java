package ai.dstack.agent.plugin.tenstorrent;

import java.util.Locale;

/**
 * One chip as {@code tt-smi} lists it.
 *
 * @param name    normalised board name without the chip-side suffix (e.g. {@code n300}, {@code p100a})
 * @param side    {@code L}, {@code R} or "" for boards without sides
 * @param boardId the board the chip sits on
 * @param busId   PCI address, or {@code N/A} for a chip reached through another one
 */
record Chip(String name, String side, String boardId, String busId) {
    static Chip of(String boardType, String boardId, String busId) {
        String type = boardType.strip();
        String side = "";
        if (type.endsWith(" L") || type.endsWith(" R")) {
            side = type.substring(type.length() - 1);
            type = type.substring(0, type.length() - 2).strip();
        }
        return new Chip(normalise(type), side, boardId.strip(), busId.strip());
    }

    private static String normalise(String type) {
        if (type.equals("bh-scrappy") || type.equals("p100")) return "p100a";
        if (type.startsWith("p150")) return "p150";
        if (type.startsWith("p300")) return "p300";
        return type;
    }

    boolean remote() {
        return busId.equalsIgnoreCase("N/A");
    }

    boolean blackhole() {
        return switch (name) {
            case "p100a", "p150", "p300", "tt-galaxy-bh" -> true;
            default -> false;
        };
    }

    /** Device memory of one chip in MiB, 0 when the board is unknown. */
    long vramMib() {
        String n = name.toLowerCase(Locale.ROOT);
        if (n.startsWith("n150") || n.startsWith("n300") || n.startsWith("tt-galaxy-wh")) return 12288;
        if (n.equals("p100a")) return 28672;
        if (n.equals("p150") || n.equals("p300") || n.equals("tt-galaxy-bh")) return 32768;
        return 0;
    }
}
