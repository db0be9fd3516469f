package ai.dstack.agent.testing;

import com.github.dockerjava.api.DockerClient;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * A second, test-only Docker engine beside the main one: its own socket, data root, exec root and
 * pidfile, and its own pre-created bridge with {@code --iptables=false --ip-masq=false} (never
 * {@code docker0}: a second engine stopping would take the main engine's bridge away). Extra
 * {@code PATH} entries let tests give it fake tools (e.g. {@code nvidia-container-runtime-hook},
 * which Docker needs for NVIDIA device requests), extra runtimes map names to runc (e.g.
 * {@code habana=runc}). Images come from the main engine ({@code docker save | docker -H … load}).
 * Needs root, {@code dockerd} and {@code ip}.
 */
public final class TestDockerd implements AutoCloseable {
    private final Path dir;
    private final String bridge;
    private final Process process;
    private final String host;
    private DockerClient client;

    private TestDockerd(Path dir, String bridge, Process process, String host) {
        this.dir = dir;
        this.bridge = bridge;
        this.process = process;
        this.host = host;
    }

    /** Why a test-only engine cannot run here, or null when it can. */
    public static String unavailableBecause() {
        if (!Commands.isRoot()) {
            return "needs root (a second dockerd and its bridge)";
        }
        for (String tool : List.of("dockerd", "ip", "docker")) {
            if (!onPath(tool)) {
                return "needs " + tool + " on PATH";
            }
        }
        return null;
    }

    private static boolean onPath(String tool) {
        for (String d : System.getenv().getOrDefault("PATH", "").split(":")) {
            if (!d.isEmpty() && Files.isExecutable(Path.of(d, tool))) {
                return true;
            }
        }
        return false;
    }

    /** Starts an engine; {@code extraPath} goes before the system {@code PATH}, {@code runtimes} name → runc path. */
    public static TestDockerd start(List<Path> extraPath, Map<String, String> runtimes) {
        return start(extraPath, runtimes, "{}");
    }

    /** As {@link #start(List, Map)} with {@code daemonJson} as the engine's config file (e.g. default ulimits). */
    public static TestDockerd start(List<Path> extraPath, Map<String, String> runtimes, String daemonJson) {
        try {
            Path dir = Files.createTempDirectory(Path.of("/tmp"), "dockerd-");
            String suffix = HexFormat.of().toHexDigits((byte) ThreadLocalRandom.current().nextInt()) + HexFormat.of().toHexDigits((byte) ThreadLocalRandom.current().nextInt());
            String bridge = "dstk" + suffix;
            int subnet = 100 + ThreadLocalRandom.current().nextInt(100);
            Commands.run("ip", "link", "add", bridge, "type", "bridge");
            Commands.run("ip", "addr", "add", "10.213." + subnet + ".1/24", "dev", bridge);
            Commands.run("ip", "link", "set", bridge, "up");
            Files.writeString(dir.resolve("daemon.json"), daemonJson);
            String host = "unix://" + dir.resolve("docker.sock");
            List<String> cmd = new ArrayList<>(List.of("dockerd", "--host", host,
                    "--config-file", dir.resolve("daemon.json").toString(),
                    "--data-root", dir.resolve("data").toString(), "--exec-root", dir.resolve("exec").toString(),
                    "--pidfile", dir.resolve("docker.pid").toString(), "--bridge", bridge,
                    "--iptables=false", "--ip-masq=false", "--ip6tables=false"));
            runtimes.forEach((name, path) -> cmd.addAll(List.of("--add-runtime", name + "=" + path)));
            ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(dir.resolve("dockerd.log").toFile());
            StringBuilder path = new StringBuilder();
            extraPath.forEach(p -> path.append(p).append(':'));
            path.append(System.getenv().getOrDefault("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"));
            pb.environment().put("PATH", path.toString());
            pb.environment().remove("DOCKER_HOST");
            TestDockerd engine = new TestDockerd(dir, bridge, pb.start(), host);
            engine.awaitReady();
            return engine;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private void awaitReady() {
        try {
            org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200)).until(() -> {
                if (!process.isAlive()) {
                    throw new IllegalStateException("test dockerd exited: " + log());
                }
                return Commands.succeeds("docker", "-H", host, "version");
            });
        } catch (org.awaitility.core.ConditionTimeoutException e) {
            close();
            throw new IllegalStateException("test dockerd did not answer within 60 s: " + log());
        }
    }

    /** The engine's endpoint, e.g. {@code unix:///tmp/dockerd-…/docker.sock}. */
    public String host() {
        return host;
    }

    /** A client for this engine. */
    public synchronized DockerClient client() {
        if (client == null) {
            client = Docker.client(host);
        }
        return client;
    }

    /** Copies an image from the main engine into this one. */
    public void loadImage(String image) {
        Commands.run("sh", "-c", "docker save '" + image + "' | docker -H '" + host + "' load");
    }

    /** The engine's log so far (for failure messages). */
    public String log() {
        try {
            return Files.readString(dir.resolve("dockerd.log"));
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }

    @Override
    public void close() {
        try {
            if (client != null) {
                client.close();
            }
        } catch (IOException ignored) {
            // closing anyway
        }
        process.destroy();
        try {
            if (!process.waitFor(30, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                process.waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try {
            Commands.run("ip", "link", "del", bridge);
        } catch (IllegalStateException ignored) {
            // already gone
        }
        unmountEverythingUnder(dir);
        try {
            Commands.run("rm", "-rf", dir.toString());
        } catch (IllegalStateException ignored) {
            // something is still mounted there; the temp dir is only litter
        }
    }

    /** dockerd leaves its default network namespace bind-mounted under the exec root. */
    private static void unmountEverythingUnder(Path dir) {
        try {
            List<String> mountPoints = new ArrayList<>();
            for (String line : Files.readAllLines(Path.of("/proc/self/mounts"))) {
                String[] f = line.split(" ");
                if (f.length > 1 && f[1].startsWith(dir + "/")) {
                    mountPoints.add(f[1]);
                }
            }
            for (String mp : mountPoints.reversed()) {
                Commands.succeeds("umount", "-l", mp);
            }
        } catch (IOException ignored) {
            // no mount table: nothing to do
        }
    }

    /** Labels every test container carries so leftovers can be found. */
    public static Map<String, String> testLabels() {
        Map<String, String> labels = new LinkedHashMap<>();
        labels.put("ai.dstack.agent.test", "true");
        return labels;
    }
}
