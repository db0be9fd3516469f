package ai.dstack.runner.job;

import ai.dstack.runner.env.Shell;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * The job's environment (docs/runner.md §5.7), in increasing precedence: the runner's own
 * environment, the {@code DSTACK_*} variables, secrets, {@code job_spec.env}; exported bash
 * functions removed and {@code HOME} forced to the job user's home. Values are literal.
 */
final class JobEnvironment {
    static final String MPI_HOSTFILE = "/dstack/mpi/hostfile";
    private static final Pattern IDENTIFIER = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");
    private static final Set<String> NOT_PROFILED = Set.of("HOSTNAME", "USER", "HOME", "SHELL", "SHLVL", "PWD", "_");

    private JobEnvironment() {
    }

    static Map<String, String> build(Map<String, String> runnerEnv, Submission sub, JobIdentity user,
                                     Path repoDir, Path workingDir) {
        Map<String, String> env = new LinkedHashMap<>(runnerEnv);
        Submission.JobSpec spec = sub.jobSpecOrEmpty();
        Submission.ClusterInfo cluster = sub.clusterInfoOrEmpty();
        List<String> ips = Submission.orEmpty(cluster.jobIps());
        List<Integer> perNode = Submission.orEmpty(cluster.gpusPerNode());
        int perJob = Submission.orZero(cluster.gpusPerJob());
        int nodes = Submission.orZero(spec.jobsPerReplica());
        long gpus = perNode.isEmpty() ? (long) nodes * perJob : perNode.stream().mapToLong(i -> i == null ? 0 : i).sum();
        env.put("DSTACK_RUN_ID", sub.runId());
        env.put("DSTACK_JOB_ID", sub.jobId());
        env.put("DSTACK_RUN_NAME", sub.runName());
        env.put("DSTACK_REPO_ID", sub.repoId());
        env.put("DSTACK_REPO_DIR", repoDir == null ? "" : repoDir.toString());
        env.put("DSTACK_WORKING_DIR", workingDir.toString());
        env.put("DSTACK_NODES_IPS", String.join("\n", ips));
        env.put("DSTACK_MASTER_NODE_IP", cluster.masterJobIp() == null ? "" : cluster.masterJobIp());
        env.put("DSTACK_NODE_RANK", Integer.toString(Submission.orZero(spec.jobNum())));
        env.put("DSTACK_NODES_NUM", Integer.toString(nodes));
        env.put("DSTACK_GPUS_PER_NODE", Integer.toString(perJob));
        env.put("DSTACK_GPUS_NUM", Long.toString(gpus));
        env.put("DSTACK_MPI_HOSTFILE", MPI_HOSTFILE);
        env.putAll(Submission.orEmpty(sub.secrets()));
        env.putAll(Submission.orEmpty(spec.env()));
        env.keySet().removeIf(k -> k.startsWith("BASH_FUNC_") && (k.endsWith("%%") || k.endsWith("()")));
        env.put("HOME", user.home());
        return env;
    }

    /** {@code NAME=value} strings for execve. */
    static List<String> toEnvp(Map<String, String> env) {
        return env.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue()).collect(Collectors.toList());
    }

    /**
     * Writes {@code /dstack/profile} (readable by root and the job user only) and makes
     * {@code /etc/profile} source it once.
     */
    static void writeProfile(Path dstackDir, Path etcProfile, Map<String, String> env, JobIdentity user)
            throws IOException {
        StringBuilder out = new StringBuilder();
        env.forEach((name, value) -> {
            if (!NOT_PROFILED.contains(name) && IDENTIFIER.matcher(name).matches()) {
                out.append("export ").append(name).append('=').append(Shell.quote(value)).append('\n');
            }
        });
        out.append("cd \"$DSTACK_WORKING_DIR\"\n");
        Path profile = dstackDir.resolve("profile");
        Path tmp = dstackDir.resolve(".profile.tmp");
        Files.deleteIfExists(tmp);
        Files.writeString(tmp, out, StandardCharsets.UTF_8, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-------"));
        JobPaths.chown(tmp, user);
        Files.move(tmp, profile, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        String line = ". " + Shell.quote(profile.toString());
        String current = Files.exists(etcProfile) ? Files.readString(etcProfile, StandardCharsets.ISO_8859_1) : null;
        if (current == null) {
            Files.writeString(etcProfile, "\n" + line + "\n");
            Files.setPosixFilePermissions(etcProfile, PosixFilePermissions.fromString("rw-r--r--"));
        } else if (!current.lines().anyMatch(line::equals)) {
            Files.writeString(etcProfile, "\n" + line + "\n", StandardOpenOption.APPEND);
        }
    }

    /** Writes the MPI hostfile (docs/runner.md §5.8); fails when slots and IPs disagree. */
    static void writeHostfile(Path hostfile, Submission sub) throws IOException, SetupException {
        Submission.ClusterInfo cluster = sub.clusterInfoOrEmpty();
        List<String> ips = Submission.orEmpty(cluster.jobIps());
        List<Integer> slots = Submission.orEmpty(cluster.gpusPerNode());
        if (slots.isEmpty()) {
            slots = new ArrayList<>();
            for (int i = 0; i < ips.size(); i++) {
                slots.add(Submission.orZero(cluster.gpusPerJob()));
            }
        }
        StringBuilder out = new StringBuilder();
        if (ips.stream().noneMatch(ip -> ip == null || ip.isEmpty())) {
            if (slots.size() != ips.size()) {
                throw new SetupException("gpus_per_node has " + slots.size() + " entries for " + ips.size() + " nodes");
            }
            for (int i = 0; i < ips.size(); i++) {
                int n = slots.get(i) == null ? 0 : slots.get(i);
                out.append(ips.get(i)).append(n > 0 ? " slots=" + n : "").append('\n');
            }
        }
        Files.createDirectories(hostfile.getParent());
        Files.writeString(hostfile, out);
        Files.setPosixFilePermissions(hostfile, PosixFilePermissions.fromString("rw-r--r--"));
    }
}
