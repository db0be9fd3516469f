package ai.dstack.runner.metrics;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The runner's own cgroup (= the container's) in a v2 or v1 hierarchy, found from {@code /proc/self/mounts} and
 * {@code /proc/self/cgroup} under a root directory.
 */
sealed interface Cgroup {
    /** CPU time, memory usage and working set. */
    record Usage(long cpuMicros, long memoryBytes, long workingSetBytes) {
    }

    Usage read() throws IOException;

    /** Detects the hierarchy: v2 when its root delegates {@code memory} or no v1 pair exists, else v1, else none. */
    static Optional<Cgroup> detect(Path root) throws IOException {
        List<Mount> mounts = mounts(root);
        Optional<Mount> v2 = mounts.stream().filter(m -> m.type().equals("cgroup2")).findFirst();
        Optional<Mount> memory = v1Mount(mounts, "memory");
        Optional<Mount> cpuacct = v1Mount(mounts, "cpuacct");
        boolean v1 = memory.isPresent() && cpuacct.isPresent();
        if (v2.isPresent() && (!v1 || delegatesMemory(root, v2.get()))) {
            return Optional.of(new V2(root, v2.get().point()));
        }
        if (v1) {
            return Optional.of(new V1(root, memory.get().point(), cpuacct.get().point()));
        }
        return Optional.empty();
    }

    record Mount(String point, String type, Set<String> options) {
    }

    private static List<Mount> mounts(Path root) throws IOException {
        List<Mount> out = new ArrayList<>();
        for (String line : Files.readAllLines(root.resolve("proc/self/mounts"))) {
            String[] f = line.split(" ");
            if (f.length >= 4) {
                out.add(new Mount(unescape(f[1]), f[2], Set.of(f[3].split(","))));
            }
        }
        return out;
    }

    /** {@code /proc/self/mounts} encodes space, tab, newline and backslash as octal escapes. */
    private static String unescape(String s) {
        return s.replace("\\040", " ").replace("\\011", "\t").replace("\\012", "\n").replace("\\134", "\\");
    }

    private static Optional<Mount> v1Mount(List<Mount> mounts, String controller) {
        return mounts.stream().filter(m -> m.type().equals("cgroup") && m.options().contains(controller)).findFirst();
    }

    private static boolean delegatesMemory(Path root, Mount v2) {
        try {
            String controllers = Files.readString(under(root, v2.point()).resolve("cgroup.controllers"));
            return Arrays.asList(controllers.trim().split("\\s+")).contains("memory");
        } catch (IOException e) {
            return false;
        }
    }

    private static Path under(Path root, String absolute) {
        return root.resolve(absolute.replaceFirst("^/+", ""));
    }

    /**
     * The directory of this process's cgroup: mount point + path from {@code /proc/self/cgroup} when that exists
     * (host, or a private cgroup namespace), else the mount point itself (a container without its own cgroup
     * namespace sees its cgroup mounted at the controller's mount root).
     *
     * @param hierarchy {@code ""} for the v2 {@code 0::} line, else a v1 controller name
     */
    private static Path ownDir(Path root, String mountPoint, String hierarchy) throws IOException {
        Path mount = under(root, mountPoint);
        for (String line : Files.readAllLines(root.resolve("proc/self/cgroup"))) {
            String[] f = line.split(":", 3);
            if (f.length < 3) {
                continue;
            }
            boolean match = hierarchy.isEmpty()
                    ? f[0].equals("0") && f[1].isEmpty()
                    : Arrays.asList(f[1].split(",")).contains(hierarchy);
            if (match) {
                Path own = mount.resolve(f[2].replaceFirst("^/+", ""));
                return Files.isDirectory(own) ? own : mount;
            }
        }
        throw new IOException("no " + (hierarchy.isEmpty() ? "0::" : hierarchy) + " line in /proc/self/cgroup");
    }

    private static long number(Path file) throws IOException {
        String s = Files.readString(file).trim();
        try {
            return Long.parseUnsignedLong(s);
        } catch (NumberFormatException e) {
            throw new IOException("not a number in " + file + ": " + s, e);
        }
    }

    /** The value of {@code key} in a flat-keyed file such as {@code memory.stat} or {@code cpu.stat}. */
    private static long keyed(Path file, String key) throws IOException {
        for (String line : Files.readAllLines(file)) {
            String[] f = line.trim().split("\\s+");
            if (f.length == 2 && f[0].equals(key)) {
                try {
                    return Long.parseUnsignedLong(f[1]);
                } catch (NumberFormatException e) {
                    throw new IOException("not a number for " + key + " in " + file, e);
                }
            }
        }
        throw new IOException("no " + key + " in " + file);
    }

    private static long workingSet(long usage, long inactiveFile) {
        return Math.max(0, usage - inactiveFile);
    }

    /** cgroup v2: {@code cpu.stat usage_usec}, {@code memory.current}, {@code memory.stat inactive_file}. */
    record V2(Path root, String mountPoint) implements Cgroup {
        @Override
        public Usage read() throws IOException {
            Path dir = ownDir(root, mountPoint, "");
            long usage = number(dir.resolve("memory.current"));
            return new Usage(keyed(dir.resolve("cpu.stat"), "usage_usec"), usage,
                    workingSet(usage, keyed(dir.resolve("memory.stat"), "inactive_file")));
        }
    }

    /** cgroup v1: {@code cpuacct.usage} (ns), {@code memory.usage_in_bytes}, {@code memory.stat total_inactive_file}. */
    record V1(Path root, String memoryMount, String cpuacctMount) implements Cgroup {
        @Override
        public Usage read() throws IOException {
            Path memory = ownDir(root, memoryMount, "memory");
            Path cpu = ownDir(root, cpuacctMount, "cpuacct");
            long usage = number(memory.resolve("memory.usage_in_bytes"));
            return new Usage(number(cpu.resolve("cpuacct.usage")) / 1000, usage,
                    workingSet(usage, keyed(memory.resolve("memory.stat"), "total_inactive_file")));
        }
    }
}
