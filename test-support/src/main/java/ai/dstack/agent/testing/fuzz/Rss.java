package ai.dstack.agent.testing.fuzz;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Resident memory of a process, as the kernel reports it (figures for the report, never asserted). */
public final class Rss {
    private Rss() {
    }

    /** VmRSS of {@code pid} in MiB, or -1 where it cannot be read. */
    public static long mib(long pid) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc", String.valueOf(pid), "status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024;
                }
            }
        } catch (IOException | RuntimeException e) {
            return -1;
        }
        return -1;
    }
}
