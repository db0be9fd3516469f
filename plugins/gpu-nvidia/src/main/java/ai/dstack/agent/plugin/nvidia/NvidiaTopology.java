package ai.dstack.agent.plugin.nvidia;

import ai.dstack.agent.spi.topology.Link;
import ai.dstack.agent.spi.topology.LinkKind;
import ai.dstack.agent.spi.topology.Topology;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads {@code nvidia-smi topo -m}: the GPU-to-GPU part of its matrix and each GPU's NUMA node.
 * <p>
 * The format, as drivers print it: a header line ({@code GPU0 … GPUn}, then NIC columns such as
 * {@code NIC0} or {@code mlx5_0}, then {@code CPU Affinity}, {@code NUMA Affinity} and, on newer
 * drivers, {@code GPU NUMA ID}), wrapped in terminal underline escapes ({@code ESC[4m … ESC[0m})
 * even when written to a pipe; one row per GPU, cells separated by tabs, the diagonal {@code " X "};
 * NIC rows; then the legends. Pasted copies turn tabs into spaces, drop the escapes or the ESC byte,
 * and sometimes glue two NIC cells together, so cells are split on any whitespace, the GPU cells
 * are the first ones of a row (GPU columns come first) and the affinity values are read from the
 * row's end. NIC rows and columns and the legends are ignored.
 */
final class NvidiaTopology {
    static final List<String> COMMAND = List.of("nvidia-smi", "topo", "-m");

    /** SGR sequences, also with the ESC byte lost (a paste of {@code ESC[4m} shows {@code [4m}). */
    private static final Pattern SGR = Pattern.compile("\u001B?\\[[0-9;]*m");
    private static final Pattern GPU = Pattern.compile("GPU(\\d+)");
    private static final Pattern NVLINK = Pattern.compile("NV(\\d+)");

    private NvidiaTopology() {
    }

    /**
     * The topology of the GPUs in {@code output}.
     *
     * @throws IllegalArgumentException with a one-line reason when the output has no GPU matrix or a
     *                                  cell is not one of the legend's link kinds
     */
    static Topology parse(String output) {
        List<String> lines = output.lines().map(l -> SGR.matcher(l).replaceAll("")).toList();
        int headerAt = -1;
        for (int i = 0; i < lines.size() && headerAt < 0; i++) {
            List<String> tokens = tokens(lines.get(i));
            if (!tokens.isEmpty() && tokens.getFirst().equals("GPU0")) {
                headerAt = i;
            }
        }
        if (headerAt < 0) {
            throw new IllegalArgumentException("no GPU0 column header in the topology matrix");
        }
        String header = lines.get(headerAt);
        int gpus = leadingGpuColumns(tokens(header));
        boolean hasGpuNumaId = header.contains("GPU NUMA ID");
        boolean hasNumaAffinity = header.contains("NUMA Affinity");

        Map<Integer, Integer> numaNodes = new HashMap<>();
        String[][] cells = new String[gpus][];
        for (int i = headerAt + 1; i < lines.size(); i++) {
            List<String> row = tokens(lines.get(i));
            if (row.isEmpty() || row.getFirst().startsWith("Legend")) {
                break;
            }
            Matcher m = GPU.matcher(row.getFirst());
            if (!m.matches()) {
                continue; // a NIC row
            }
            int gpu = Integer.parseInt(m.group(1));
            if (gpu >= gpus) {
                throw new IllegalArgumentException("row GPU" + gpu + " has no column in the header");
            }
            if (row.size() < 1 + gpus) {
                throw new IllegalArgumentException("row GPU" + gpu + " has " + (row.size() - 1) + " cells for " + gpus + " GPUs");
            }
            cells[gpu] = row.subList(1, 1 + gpus).toArray(String[]::new);
            if (hasNumaAffinity) {
                // From the end: [CPU Affinity] NUMA Affinity [GPU NUMA ID]; an empty CPU Affinity leaves no token.
                int at = row.size() - (hasGpuNumaId ? 2 : 1);
                if (at > gpus) {
                    parseNode(row.get(at)).ifPresent(node -> numaNodes.put(gpu, node));
                }
            }
        }
        List<Link> links = new ArrayList<>();
        for (int a = 0; a < gpus; a++) {
            if (cells[a] == null) {
                throw new IllegalArgumentException("no row for GPU" + a);
            }
            if (!cells[a][a].equals("X")) {
                throw new IllegalArgumentException("row GPU" + a + " does not have X on the diagonal but " + cells[a][a]);
            }
            for (int b = a + 1; b < gpus; b++) {
                links.add(link(a, b, cells[a][b]));
            }
        }
        return new Topology(numaNodes, links);
    }

    /** {@code GPU0 GPU1 …}: how many columns at the header's start are GPUs, checking they count up from 0. */
    private static int leadingGpuColumns(List<String> header) {
        int n = 0;
        while (n < header.size() && header.get(n).equals("GPU" + n)) {
            n++;
        }
        return n;
    }

    private static Link link(int a, int b, String cell) {
        Matcher nv = NVLINK.matcher(cell);
        if (nv.matches()) {
            return new Link(a, b, LinkKind.NVLINK, Integer.parseInt(nv.group(1)));
        }
        return switch (cell.toUpperCase(Locale.ROOT)) {
            case "PIX" -> Link.of(a, b, LinkKind.PIX);
            case "PXB" -> Link.of(a, b, LinkKind.PXB);
            case "PHB" -> Link.of(a, b, LinkKind.PHB);
            case "NODE" -> Link.of(a, b, LinkKind.NODE);
            case "SYS", "SOC" -> Link.of(a, b, LinkKind.SYS);
            default -> throw new IllegalArgumentException("GPU" + a + "-GPU" + b + ": unknown link '" + cell + "'");
        };
    }

    /** A single NUMA node number; {@code N/A} or a range (several nodes) tell nothing usable. */
    private static Optional<Integer> parseNode(String value) {
        try {
            return Optional.of(Integer.parseInt(value));
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
    }

    private static List<String> tokens(String line) {
        String trimmed = line.strip();
        return trimmed.isEmpty() ? List.of() : List.of(trimmed.split("\\s+"));
    }
}
