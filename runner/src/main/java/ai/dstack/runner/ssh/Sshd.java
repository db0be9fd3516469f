package ai.dstack.runner.ssh;

import ai.dstack.runner.env.ImageEnvironment;
import ai.dstack.runner.files.Trees;
import java.io.IOException;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The runner's sshd (docs/runner.md §8): lays out {@code <dstack>/ssh} with fresh host keys, the authorized keys and the
 * config, recreates the privilege-separation dirs and runs {@code sshd -D} as a child. Without an sshd binary it
 * reports {@code sshd not available} instead of failing.
 */
public final class Sshd implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(Sshd.class.getName());
    /** The key types generated, in the order of the {@code HostKey} lines. */
    static final List<String> HOST_KEY_TYPES = List.of("ecdsa", "ed25519");

    private final SshdSettings settings;
    private final Path authorizedKeys;
    private final Process process;

    private Sshd(SshdSettings settings, Path authorizedKeys, Process process) {
        this.settings = settings;
        this.authorizedKeys = authorizedKeys;
        this.process = process;
    }

    /**
     * Prepares the layout and starts sshd. Also creates {@code <dstack>} (0755, root-owned) and deletes the old
     * {@code <dstack>/ssh} (startup step 4), since StrictModes needs root-owned, non-writable parents.
     *
     * @throws IOException the layout cannot be written, host keys cannot be generated, or sshd cannot be spawned
     */
    public static Sshd start(SshdSettings settings) throws IOException {
        Path dstack = settings.dstackDir();
        Files.createDirectories(dstack);
        Files.setAttribute(dstack, "unix:uid", 0, LinkOption.NOFOLLOW_LINKS);
        Files.setAttribute(dstack, "unix:gid", 0, LinkOption.NOFOLLOW_LINKS);
        Files.setPosixFilePermissions(dstack, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path ssh = dstack.resolve("ssh");
        Trees.delete(ssh);
        Path conf = PrivateFiles.directory(ssh.resolve("conf"), "rwxr-xr-x");
        PrivateFiles.directory(ssh, "rwxr-xr-x");
        Path log = PrivateFiles.directory(ssh.resolve("log"), "rwxr-xr-x").resolve("sshd.log");

        Path keys = conf.resolve("authorized_keys");
        PrivateFiles.write(keys, "", "rw-r--r--", null);
        Sshd sshd = new Sshd(settings, keys, null);
        for (String key : settings.authorizedKeys()) {
            sshd.addAuthorizedKey(key);
        }
        for (String dir : List.of("var/empty", "run/sshd")) {
            Path d = settings.systemRoot().resolve(dir);
            Trees.delete(d);
            PrivateFiles.directory(d, "rwxr-xr-x");
        }
        if (!Files.isExecutable(settings.sshdBinary())) {
            // the runner reports this in its own log ("SSH is unavailable"); a warning here would also load and
            // run JUL's formatter on every start in sshd-less images
            LOG.log(System.Logger.Level.DEBUG, "sshd not available: {0} is missing", settings.sshdBinary());
            return sshd;
        }
        List<Path> hostKeys = generateHostKeys(conf);
        Path config = conf.resolve("sshd_config");
        PrivateFiles.write(config, config(settings, keys, hostKeys), "rw-r--r--", null);

        ProcessBuilder pb = new ProcessBuilder(settings.sshdBinary().toString(), "-D", "-f", config.toString(),
                "-E", log.toString())
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        ImageEnvironment.restore(pb.environment());
        Process p = pb.start();
        LOG.log(System.Logger.Level.INFO, "sshd started on port {0} (pid {1})", settings.port(), p.pid());
        return new Sshd(settings, keys, p);
    }

    /** The {@code sshd_config} text: the spec's directives, in its order, one per line. */
    static String config(SshdSettings s, Path authorizedKeys, List<Path> hostKeys) {
        List<String> lines = new ArrayList<>(List.of(
                "LogLevel " + s.logLevel(),
                "Port " + s.port(),
                "PidFile none",
                "Subsystem sftp internal-sftp",
                "PasswordAuthentication no",
                "KbdInteractiveAuthentication no",
                "UsePAM yes",
                "AuthorizedKeysFile " + authorizedKeys.toAbsolutePath() + " .ssh/authorized_keys",
                "AcceptEnv LANG LC_* COLORTERM NO_COLOR",
                "ClientAliveInterval 30",
                "ClientAliveCountMax 4"));
        hostKeys.forEach(k -> lines.add("HostKey " + k.toAbsolutePath()));
        return String.join("\n", lines) + "\n";
    }

    /**
     * Fresh host keys with an empty passphrase, generated in a temp dir (all types at once: the runner answers
     * its first healthcheck only after sshd started) and copied (private 0600, public 0644).
     */
    private static List<Path> generateHostKeys(Path conf) throws IOException {
        Path tmp = Files.createTempDirectory("dstack-host-keys",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        try {
            List<Process> running = new ArrayList<>();
            for (String type : HOST_KEY_TYPES) {
                ProcessBuilder pb = new ProcessBuilder("ssh-keygen", "-q", "-t", type, "-N", "", "-C", "dstack", "-f",
                        tmp.resolve("ssh_host_" + type + "_key").toString()).redirectErrorStream(true);
                ImageEnvironment.restore(pb.environment());
                running.add(pb.start());
            }
            for (Process p : running) {
                await(p);
            }
            List<Path> keys = new ArrayList<>();
            for (String type : HOST_KEY_TYPES) {
                String name = "ssh_host_" + type + "_key";
                Path key = conf.resolve(name);
                Files.copy(tmp.resolve(name), key, StandardCopyOption.REPLACE_EXISTING);
                Files.setPosixFilePermissions(key, PosixFilePermissions.fromString("rw-------"));
                Path pub = conf.resolve(name + ".pub");
                Files.copy(tmp.resolve(name + ".pub"), pub, StandardCopyOption.REPLACE_EXISTING);
                Files.setPosixFilePermissions(pub, PosixFilePermissions.fromString("rw-r--r--"));
                keys.add(key);
            }
            return keys;
        } finally {
            Trees.delete(tmp);
        }
    }

    private static void await(Process p) throws IOException {
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        try {
            if (p.waitFor() != 0) {
                throw new IOException("ssh-keygen failed (" + p.exitValue() + "): " + out.strip());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            p.destroyForcibly();
            throw new IOException("ssh-keygen interrupted", e);
        }
    }

    /** Whether an sshd process was started (false when the binary is missing). */
    public boolean available() {
        return process != null;
    }

    /** {@code running}, {@code exited (<code>)} or {@code sshd not available}. */
    public String status() {
        if (process == null) {
            return "sshd not available";
        }
        return process.isAlive() ? "running" : "exited (" + process.exitValue() + ")";
    }

    /** The authorized_keys file sshd reads. */
    public Path authorizedKeysFile() {
        return authorizedKeys;
    }

    /**
     * Appends one public key line (e.g. a multi-node job's {@code ssh_key.public}); appends are serialised and a
     * value is never split on commas. Blank values are ignored.
     */
    public synchronized void addAuthorizedKey(String key) throws IOException {
        String line = key == null ? "" : key.strip();
        if (line.isEmpty()) {
            return;
        }
        Files.writeString(authorizedKeys, line + "\n", StandardOpenOption.APPEND);
    }

    /**
     * Waits until sshd accepts TCP connections on loopback (an early exit, e.g. a config error, is reported with
     * the log tail).
     */
    public void awaitListening(Duration timeout) throws IOException {
        if (process == null) {
            return;
        }
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            if (!process.isAlive()) {
                throw new IOException("sshd exited with " + process.exitValue() + ": " + logTail());
            }
            try (Socket s = new Socket(InetAddress.getLoopbackAddress(), settings.port())) {
                return;
            } catch (IOException notYet) {
                if (System.nanoTime() > deadline) {
                    throw new IOException("sshd does not listen on port " + settings.port() + " after " + timeout);
                }
                try {
                    Thread.sleep(20);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IOException("interrupted", e);
                }
            }
        }
    }

    private String logTail() {
        try {
            List<String> lines = Files.readAllLines(settings.dstackDir().resolve("ssh/log/sshd.log"));
            return String.join(" | ", lines.subList(Math.max(0, lines.size() - 5), lines.size()));
        } catch (IOException e) {
            return "(no log)";
        }
    }

    /** SIGTERM, then wait up to {@code grace}; SIGKILL if it is still there. */
    public void stop(Duration grace) {
        if (process == null || !process.isAlive()) {
            return;
        }
        process.destroy();
        try {
            if (!process.waitFor(grace.toMillis(), TimeUnit.MILLISECONDS)) {
                LOG.log(System.Logger.Level.WARNING, "sshd ignored SIGTERM for {0}, killing it", grace);
                process.destroyForcibly();
                process.waitFor();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
        }
    }

    /** {@link #stop(Duration)} with a 10 s grace. */
    @Override
    public void close() {
        stop(Duration.ofSeconds(10));
    }
}
