package ai.dstack.agent.cli;

import java.util.Locale;

/** Byte sizes as operators type and read them. */
final class Sizes {
    private Sizes() {
    }

    /** {@code 1024}, {@code 512M}, {@code 2G}, {@code 1Gi} (binary units) → bytes. */
    static long parseBytes(String text) {
        String t = text.strip().toUpperCase(Locale.ROOT).replaceFirst("I?B?$", "");
        long unit = 1;
        if (!t.isEmpty() && "KMGT".indexOf(t.charAt(t.length() - 1)) >= 0) {
            unit = 1L << (10 * ("KMGT".indexOf(t.charAt(t.length() - 1)) + 1));
            t = t.substring(0, t.length() - 1);
        }
        try {
            return (long) (Double.parseDouble(t) * unit);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("not a size: " + text + " (examples: 512M, 2G)");
        }
    }

    static String human(long bytes) {
        if (bytes < 1024) {
            return bytes + " B";
        }
        int exp = (int) (Math.log(bytes) / Math.log(1024));
        return String.format(Locale.ROOT, "%.1f %sB", bytes / Math.pow(1024, exp), "KMGTPE".charAt(exp - 1));
    }
}
