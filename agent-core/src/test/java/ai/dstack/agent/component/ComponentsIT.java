package ai.dstack.agent.component;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ai.dstack.agent.testing.ApiClient;
import ai.dstack.agent.testing.ShimProcess;
import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpServer;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Component installs from a local HTTP server (docs/shim.md §7): good, 404, concurrent. */
class ComponentsIT {
    @TempDir
    Path tmp;
    HttpServer files;
    CountDownLatch slowGate = new CountDownLatch(1);
    ShimProcess shim;
    ApiClient api;

    @BeforeEach
    void start() throws Exception {
        files = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        files.createContext("/runner", ex -> {
            byte[] body = "#!/bin/sh\necho dstack-runner version 9.9.9\n".getBytes(StandardCharsets.UTF_8);
            ex.sendResponseHeaders(200, body.length);
            try (OutputStream out = ex.getResponseBody()) {
                out.write(body);
            }
        });
        files.createContext("/shim", ex -> {
            byte[] body = "#!/bin/sh\necho dstack-shim version 0.30.0\n".getBytes(StandardCharsets.UTF_8);
            try {
                slowGate.await(60, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            ex.sendResponseHeaders(200, body.length);
            try (OutputStream out = ex.getResponseBody()) {
                out.write(body);
            }
        });
        files.setExecutor(java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor());
        files.start();
        Path shimBinary = tmp.resolve("bin/dstack-shim");
        Files.createDirectories(shimBinary.getParent());
        Files.writeString(shimBinary, "#!/bin/sh\necho dstack-shim version 0.21.2\n");
        Files.setPosixFilePermissions(shimBinary, PosixFilePermissions.fromString("rwxr-xr-x"));
        shim = ShimProcess.builder(tmp).env("DSTACK_SHIM_BINARY_PATH", shimBinary.toString()).start();
        api = shim.api();
    }

    @AfterEach
    void stop() {
        slowGate.countDown();
        shim.close();
        files.stop(0);
    }

    private String url(String path) {
        return "http://127.0.0.1:" + files.getAddress().getPort() + path;
    }

    private JsonNode component(int index) {
        return api.get("/api/components").json().path("components").get(index);
    }

    @Test
    void installReplacesTheRunnerAndTheNewVersionIsReported() {
        assertThat(component(0).path("version").asText()).isEqualTo("0.0.0-stub");
        ApiClient.Reply r = api.post("/api/components/install", "{\"name\":\"dstack-runner\",\"url\":\"" + url("/runner") + "\"}");
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.body()).isEqualTo("\n");
        JsonNode done = await().atMost(Duration.ofSeconds(30)).until(() -> component(0),
                c -> c.path("status").asText().equals("installed") && c.path("version").asText().equals("9.9.9"));
        assertThat(done.path("name").asText()).isEqualTo("dstack-runner");
        assertThat(tmp.resolve("runner-bin").toFile().list()).containsExactly("dstack-runner"); // no temp file left
    }

    @Test
    void aFailedDownloadKeepsTheOldBinary() {
        assertThat(api.post("/api/components/install", "{\"name\":\"dstack-runner\",\"url\":\"" + url("/missing") + "\"}")
                .status()).isEqualTo(200);
        await().atMost(Duration.ofSeconds(30)).until(() -> component(0).path("status").asText().equals("installed"));
        assertThat(component(0).path("version").asText()).isEqualTo("0.0.0-stub");
        assertThat(tmp.resolve("runner-bin").toFile().list()).containsExactly("dstack-runner");
    }

    @Test
    void aSecondInstallWhileInstallingIs409() {
        String body = "{\"name\":\"dstack-shim\",\"url\":\"" + url("/shim") + "\"}";
        assertThat(api.post("/api/components/install", body).status()).isEqualTo(200);
        assertThat(component(1).path("status").asText()).isEqualTo("installing");
        assertThat(component(1).path("version").asText()).isEmpty();
        ApiClient.Reply second = api.post("/api/components/install", body);
        assertThat(second.status()).isEqualTo(409);
        assertThat(second.body()).isEqualTo("already installing\n");
        slowGate.countDown();
        await().atMost(Duration.ofSeconds(30)).until(() -> component(1).path("version").asText().equals("0.30.0"));
    }
}
