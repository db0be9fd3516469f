package ai.dstack.runner.ssh;

import ai.dstack.agent.testing.FreePorts;
import ai.dstack.runner.files.Trees;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * A real sshd started through {@link Sshd} on a free loopback port, with a fresh client key. sshd's
 * StrictModes refuses key files below group- or world-writable dirs such as {@code /tmp}, so it lives
 * under {@code target/} when no parent of that is writable by others (a checkout under {@code /tmp}
 * is not), else under {@code /var/lib/dstack-agent-tests}.
 */
public final class SshFixture implements AutoCloseable {
    public final Path base;
    public final Path clientKey;
    public final int port;
    public final Sshd sshd;

    private SshFixture(Path base, Path clientKey, int port, Sshd sshd) {
        this.base = base;
        this.clientKey = clientKey;
        this.port = port;
        this.sshd = sshd;
    }

    /** Starts sshd authorising the fixture's client key behind {@code keyOptions} (may be empty). */
    public static SshFixture start(String keyOptions) throws Exception {
        Path base = Files.createTempDirectory(safeParent(), "sshd-");
        // the host's sshd is compiled with /run/sshd as privilege-separation dir
        Files.createDirectories(Path.of("/run/sshd"));
        Path clientKey = newKey(base, "client");
        int port = FreePorts.next();
        String pub = Files.readString(Path.of(clientKey + ".pub")).strip();
        Sshd sshd = Sshd.start(new SshdSettings(base.resolve("dstack"), base.resolve("sys"), Path.of("/usr/sbin/sshd"),
                port, "DEBUG", List.of((keyOptions.isEmpty() ? "" : keyOptions + " ") + pub)));
        sshd.awaitListening(Duration.ofSeconds(20));
        return new SshFixture(base, clientKey, port, sshd);
    }

    /** A directory whose whole chain of parents passes sshd's StrictModes checks. */
    static Path safeParent() throws IOException {
        Path target = Files.createDirectories(Path.of("target").toAbsolutePath());
        if (noParentWritableByOthers(target)) {
            return target;
        }
        Path dir = Files.createDirectories(Path.of("/var/lib/dstack-agent-tests"));
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        return dir;
    }

    private static boolean noParentWritableByOthers(Path dir) throws IOException {
        for (Path p = dir.toRealPath(); p != null; p = p.getParent()) {
            Set<PosixFilePermission> perms = Files.getPosixFilePermissions(p);
            if (perms.contains(PosixFilePermission.GROUP_WRITE) || perms.contains(PosixFilePermission.OTHERS_WRITE)) {
                return false;
            }
        }
        return true;
    }

    /** A new ed25519 key pair {@code dir/name} and {@code dir/name.pub}. */
    public static Path newKey(Path dir, String name) throws Exception {
        Path key = dir.resolve(name);
        Process p = new ProcessBuilder("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", key.toString())
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (p.waitFor() != 0) {
            throw new IOException("ssh-keygen: " + out);
        }
        return key;
    }

    /** Runs {@code command} over ssh as root with {@code key}; returns exit code and output. */
    public Result ssh(Path key, String command) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("ssh", "-i", key.toString(), "-p", String.valueOf(port),
                "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "BatchMode=yes",
                "-o", "IdentitiesOnly=yes", "-o", "LogLevel=ERROR", "root@127.0.0.1", command));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        return new Result(p.waitFor(), out);
    }

    public record Result(int exit, String output) {
    }

    @Override
    public void close() throws IOException {
        sshd.stop(Duration.ofSeconds(10));
        Trees.delete(base);
    }
}
