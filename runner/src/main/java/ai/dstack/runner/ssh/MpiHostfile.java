package ai.dstack.runner.ssh;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Collections;
import java.util.List;

/** {@code /dstack/mpi/hostfile} (docs/runner.md §5.8): {@code <ip> slots=<n>} per node, rewritten per job. */
public final class MpiHostfile {
    private MpiHostfile() {
    }

    /**
     * Writes the hostfile (dir 0755, file 0644). Slots come from {@code gpusPerNode}, or {@code gpusPerJob} for every
     * node when that is null or empty. The file is left empty when any node IP is unknown ({@code ""}).
     *
     * @throws IOException the file cannot be written, or the slot list does not match the node list
     */
    public static void write(Path file, List<String> jobIps, List<Integer> gpusPerNode, int gpusPerJob)
            throws IOException {
        PrivateFiles.directory(file.getParent(), "rwxr-xr-x");
        PrivateFiles.write(file, render(jobIps, gpusPerNode, gpusPerJob), "rw-r--r--", null);
    }

    static String render(List<String> jobIps, List<Integer> gpusPerNode, int gpusPerJob) throws IOException {
        List<String> ips = jobIps == null ? List.of() : jobIps;
        if (ips.stream().anyMatch(ip -> ip == null || ip.isEmpty())) {
            return "";
        }
        List<Integer> slots = gpusPerNode == null || gpusPerNode.isEmpty()
                ? Collections.nCopies(ips.size(), gpusPerJob) : gpusPerNode;
        if (slots.size() != ips.size()) {
            throw new IOException("hostfile: " + slots.size() + " GPU counts for " + ips.size() + " nodes");
        }
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < ips.size(); i++) {
            out.append(ips.get(i));
            if (slots.get(i) != null && slots.get(i) > 0) {
                out.append(" slots=").append(slots.get(i));
            }
            out.append('\n');
        }
        return out.toString();
    }
}
