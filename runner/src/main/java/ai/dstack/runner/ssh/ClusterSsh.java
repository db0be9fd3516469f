package ai.dstack.runner.ssh;

import ai.dstack.runner.user.JobUser;
import ai.dstack.runner.user.Ownership;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Inter-node SSH for multi-node jobs (docs/runner.md §5.4): the job's private key as {@code ~/.ssh/dstack_job} and one
 * {@code Host} block per node in {@code ~/.ssh/config}. The blocks live between marker lines that are replaced on
 * every run, so re-runs do not duplicate them and the user's own config is kept.
 */
public final class ClusterSsh {
    static final String BEGIN = "# >>> dstack cluster nodes (managed by dstack-runner) >>>";
    static final String END = "# <<< dstack cluster nodes <<<";

    private ClusterSsh() {
    }

    /** Whether a job needs cluster SSH: a key was given and the replica has at least two nodes. */
    public static boolean needed(String privateKey, List<String> jobIps) {
        return privateKey != null && jobIps != null && jobIps.size() >= 2;
    }

    /**
     * Writes the key and config into {@code user}'s home; the caller also appends the job's public key to sshd's
     * authorized keys ({@link Sshd#addAuthorizedKey}).
     *
     * @param sshPort the port every node's runner sshd listens on
     */
    public static void provision(JobUser user, String privateKey, List<String> jobIps, int sshPort) throws IOException {
        Path home = Path.of(user.home());
        Path ssh = home.resolve(".ssh");
        if (!Files.isDirectory(ssh)) {
            PrivateFiles.directory(ssh, "rwx------");
        } else {
            Files.setPosixFilePermissions(ssh, java.nio.file.attribute.PosixFilePermissions.fromString("rwx------"));
        }
        Ownership.chown(ssh, user);
        Path key = ssh.resolve("dstack_job");
        PrivateFiles.write(key, privateKey.endsWith("\n") ? privateKey : privateKey + "\n", "rw-------", user);

        Path config = ssh.resolve("config");
        String existing = Files.exists(config) ? withoutManagedBlock(Files.readString(config)) : "";
        StringBuilder out = new StringBuilder(existing);
        if (!existing.isEmpty() && !existing.endsWith("\n")) {
            out.append('\n');
        }
        out.append(BEGIN).append('\n');
        for (String ip : jobIps) {
            if (ip != null && !ip.isBlank()) {
                out.append("Host ").append(ip).append('\n')
                        .append("    Port ").append(sshPort).append('\n')
                        .append("    StrictHostKeyChecking no\n")
                        .append("    UserKnownHostsFile /dev/null\n")
                        .append("    IdentityFile ").append(key.toAbsolutePath()).append('\n');
            }
        }
        out.append(END).append('\n');
        PrivateFiles.write(config, out.toString(), "rw-------", user);
    }

    private static String withoutManagedBlock(String config) {
        int begin = config.indexOf(BEGIN);
        int end = config.indexOf(END);
        if (begin < 0 || end < begin) {
            return config;
        }
        int after = end + END.length();
        if (after < config.length() && config.charAt(after) == '\n') {
            after++;
        }
        return config.substring(0, begin) + config.substring(after);
    }
}
