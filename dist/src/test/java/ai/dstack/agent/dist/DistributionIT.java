package ai.dstack.agent.dist;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ai.dstack.agent.testing.Docker;
import ai.dstack.agent.testing.FreePorts;
import ai.dstack.agent.testing.LocalImages;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What an operator and a provisioning dstack server see: the tarball unpacked anywhere, the
 * single-file executables placed where the Go binaries would be, and the systemd unit.
 */
class DistributionIT {
    static final Path DIST = Path.of(System.getProperty("agent.dist.dir", "target"));
    static final String VERSION = System.getProperty("agent.project.version", "0.1.0-SNAPSHOT");
    static final ObjectMapper JSON = new ObjectMapper();
    static final HttpClient HTTP = HttpClient.newHttpClient();

    private final List<Process> started = new ArrayList<>();

    @AfterEach
    void stopEverything() throws InterruptedException {
        for (Process p : started) {
            p.destroy();
            if (!p.waitFor(15, TimeUnit.SECONDS)) {
                p.destroyForcibly();
            }
        }
    }

    @Test
    void tarballUnpackedIntoAnEmptyDirRunsJobsThroughTheCli(@TempDir Path dir) throws Exception {
        run(dir, List.of("tar", "-xzf", DIST.resolve("dstack-shim-" + VERSION + "-linux-x86_64.tar.gz").toString()), Map.of());
        Path launcher = dir.resolve("dstack-shim-" + VERSION + "/bin/dstack-shim");
        assertThat(run(dir, List.of(launcher.toString(), "--version"), Map.of()).out())
                .isEqualTo("dstack-shim version 0.21.2\n");

        int port = FreePorts.next();
        Map<String, String> env = shimEnv(dir, port);
        startShim(dir, List.of(launcher.toString()), env);

        String image = LocalImages.BASE;
        Result hello = run(dir, List.of(launcher.toString(), "run", "--image", image, "--shim-http-port", "" + port,
                "--", "echo", "hello from the tarball"), env);
        assertThat(hello.code()).as(hello.err()).isZero();
        assertThat(hello.out()).contains("hello from the tarball");

        Result seven = run(dir, List.of(launcher.toString(), "run", "--image", image, "--shim-http-port", "" + port,
                "--", "exit", "7"), env);
        assertThat(seven.code()).as(seven.err()).isEqualTo(7);

        Process sleeper = new ProcessBuilder(launcher.toString(), "run", "--image", image, "--shim-http-port", "" + port,
                "--", "sleep", "600").directory(dir.toFile()).redirectErrorStream(true)
                .redirectOutput(dir.resolve("sleeper.log").toFile()).start();
        started.add(sleeper);
        await().atMost(Duration.ofMinutes(2)).until(() -> taskStatuses(port).contains("running"));
        new ProcessBuilder("kill", "-INT", Long.toString(sleeper.pid())).start().waitFor();
        assertThat(sleeper.waitFor(60, TimeUnit.SECONDS)).as("the CLI exits after SIGINT").isTrue();
        await().atMost(Duration.ofSeconds(30)).until(() -> taskStatuses(port).isEmpty());
    }

    @Test
    void aotCacheIsTrainedWhereTheTarballWasUnpackedAndABadOneNeverStopsTheShim(@TempDir Path dir) throws Exception {
        run(dir, List.of("tar", "-xzf", DIST.resolve("dstack-shim-" + VERSION + "-linux-x86_64.tar.gz").toString()), Map.of());
        Path home = dir.resolve("dstack-shim-" + VERSION);
        Path launcher = home.resolve("bin/dstack-shim");
        Path cache = home.resolve("lib/agent-core.aot");
        assertThat(cache).doesNotExist();

        // First start: served without a cache, one is trained beside the jar meanwhile.
        int port = FreePorts.next();
        startShim(dir, List.of(launcher.toString()), shimEnv(dir, port));
        await().atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofMillis(500))
                .until(() -> Files.exists(home.resolve("lib/agent-core.aot.key")) && !Files.exists(home.resolve("lib/agent-core.aot.lock")));
        assertThat(Files.size(cache)).isPositive();
        stopEverything();
        started.clear();

        // A damaged cache under a matching key: the JVM rejects it silently and the shim still serves.
        Files.writeString(cache, "not an AOT cache");
        int again = FreePorts.next();
        startShim(dir, List.of(launcher.toString()), shimEnv(dir, again));
        assertThat(Files.readString(dir.resolve("shim.out"))).doesNotContain("AOT", "aot]");
    }

    @Test
    void singleFileExecutablesStandInForTheGoBinaries(@TempDir Path dir) throws Exception {
        Path bin = Files.createDirectories(dir.resolve("bin"));
        Path shim = Files.copy(DIST.resolve("dstack-shim-linux-amd64"), bin.resolve("dstack-shim"));
        Path runnerFile = DIST.resolve("dstack-runner-linux-amd64");
        Path runner = Files.copy(runnerFile, bin.resolve("dstack-runner"));
        assertThat(run(dir, List.of(runner.toString(), "--version"), Map.of()).out()).isEqualTo("dstack-runner version 0.21.2\n");

        int port = FreePorts.next();
        Map<String, String> env = new HashMap<>(shimEnv(dir, port));
        env.put("DSTACK_SHIM_LOG_LEVEL", "5");
        env.put("DSTACK_RUNNER_LOG_LEVEL", "5");
        env.put("DSTACK_SERVICE_MODE", "1");
        startShim(dir, List.of(shim.toString()), env);

        JsonNode components = get(port, "/api/components");
        assertThat(components.path("components")).hasSize(2);
        for (JsonNode c : components.path("components")) {
            assertThat(c.path("status").asText()).as(c.toString()).isEqualTo("installed");
            assertThat(c.path("version").asText()).as(c.toString()).isEqualTo("0.21.2");
        }
        JsonNode hostInfo = JSON.readTree(dir.resolve("home/host_info.json").toFile());
        assertThat(hostInfo.path("addresses").isArray()).isTrue();

        Result job = run(dir, List.of(shim.toString(), "run", "--image", LocalImages.BUSYBOX, "--shim-http-port", "" + port,
                "--", "echo", "runner from the single file"), env);
        assertThat(job.code()).as(job.err()).isZero();
        assertThat(job.out()).contains("runner from the single file");

        Files.delete(runner);
        HttpServer files = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        files.createContext("/dstack-runner", exchange -> {
            exchange.sendResponseHeaders(200, Files.size(runnerFile));
            try (var body = exchange.getResponseBody()) {
                Files.copy(runnerFile, body);
            }
        });
        files.start();
        try {
            String url = "http://127.0.0.1:" + files.getAddress().getPort() + "/dstack-runner";
            HttpResponse<String> install = post(port, "/api/components/install",
                    "{\"name\":\"dstack-runner\",\"url\":\"" + url + "\"}");
            assertThat(install.statusCode()).as(install.body()).isEqualTo(200);
            await().atMost(Duration.ofMinutes(1)).until(() ->
                    get(port, "/api/components").path("components").get(0).path("status").asText().equals("installed"));
            assertThat(Files.mismatch(runner, runnerFile)).isEqualTo(-1L);
            assertThat(Files.isExecutable(runner)).isTrue();
            try (var leftovers = Files.list(bin)) {
                assertThat(leftovers.map(p -> p.getFileName().toString()))
                        .as("no half-written temp file left").allMatch(n -> !n.startsWith(".") || n.endsWith(".d"));
            }
        } finally {
            files.stop(0);
        }
    }

    @Test
    void systemdUnitPassesVerification(@TempDir Path dir) throws Exception {
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/systemd-analyze")), "systemd-analyze is not installed");
        Path unpacked = dir.resolve("dist");
        Files.createDirectories(unpacked);
        run(unpacked, List.of("tar", "-xzf", DIST.resolve("dstack-shim-" + VERSION + "-linux-x86_64.tar.gz").toString(),
                "--strip-components=1"), Map.of());
        // Verify the unit as shipped, pointing ExecStart at this unpacked launcher (verify checks it exists).
        String unit = Files.readString(unpacked.resolve("systemd/dstack-shim.service"))
                .replace("ExecStart=/usr/local/bin/dstack-shim", "ExecStart=" + unpacked.resolve("bin/dstack-shim"));
        Path copy = Files.writeString(dir.resolve("dstack-shim.service"), unit);
        Result verify = run(dir, List.of("systemd-analyze", "verify", copy.toString()), Map.of());
        assertThat(verify.code()).as(verify.out() + verify.err()).isZero();
    }

    private Map<String, String> shimEnv(Path dir, int port) {
        return Map.of("DSTACK_SHIM_HOME", dir.resolve("home").toString(),
                "DSTACK_SHIM_HTTP_PORT", Integer.toString(port),
                "DSTACK_RUNNER_BINARY_PATH", dir.resolve("bin/dstack-runner").toString(),
                "DOCKER_HOST", Docker.host());
    }

    private void startShim(Path dir, List<String> command, Map<String, String> env) throws IOException {
        ProcessBuilder pb = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true)
                .redirectOutput(dir.resolve("shim.out").toFile());
        pb.environment().putAll(env);
        Process shim = pb.start();
        started.add(shim);
        await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(200)).until(() -> {
            if (!shim.isAlive()) {
                throw new AssertionError("the shim exited: " + Files.readString(dir.resolve("shim.out")));
            }
            try {
                return get(Integer.parseInt(env.get("DSTACK_SHIM_HTTP_PORT")), "/api/healthcheck")
                        .path("service").asText().equals("dstack-shim");
            } catch (IOException e) {
                return false;
            }
        });
    }

    private static List<String> taskStatuses(int port) throws IOException, InterruptedException {
        List<String> statuses = new ArrayList<>();
        for (JsonNode t : get(port, "/api/tasks").path("tasks")) {
            statuses.add(t.path("status").asText());
        }
        return statuses;
    }

    private static JsonNode get(int port, String path) throws IOException, InterruptedException {
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://localhost:" + port + path)).build(),
                HttpResponse.BodyHandlers.ofString());
        return JSON.readTree(r.body());
    }

    private static HttpResponse<String> post(int port, String path, String json) throws IOException, InterruptedException {
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://localhost:" + port + path))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(json)).build(), HttpResponse.BodyHandlers.ofString());
    }

    record Result(int code, String out, String err) {
    }

    private static Result run(Path dir, List<String> command, Map<String, String> env) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(command).directory(dir.toFile());
        pb.environment().putAll(env);
        Path out = Files.createTempFile(dir, "out", ".txt");
        Path err = Files.createTempFile(dir, "err", ".txt");
        Process p = pb.redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        if (!p.waitFor(5, TimeUnit.MINUTES)) {
            p.destroyForcibly();
            throw new AssertionError("timed out: " + command);
        }
        return new Result(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8), Files.readString(err, StandardCharsets.UTF_8));
    }
}
