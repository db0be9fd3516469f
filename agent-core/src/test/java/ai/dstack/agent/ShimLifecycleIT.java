package ai.dstack.agent;

import static org.assertj.core.api.Assertions.assertThat;

import ai.dstack.agent.task.TaskCalls;
import ai.dstack.agent.testing.ApiClient;
import ai.dstack.agent.testing.Docker;
import ai.dstack.agent.testing.FreePorts;
import ai.dstack.agent.testing.ShimProcess;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The process: version, startup errors, host_info.json, shutdown by request and by signal. */
class ShimLifecycleIT {
    @TempDir
    Path tmp;

    @Test
    void versionPrintsTheReportedVersion() {
        ShimProcess.Run run = ShimProcess.runToExit(tmp, Map.of("DSTACK_REPORTED_VERSION", "0.21.7"), "--version");
        assertThat(run.exitCode()).isZero();
        assertThat(run.output()).isEqualTo("dstack-shim version 0.21.7\n");
    }

    @Test
    void badSettingsStopStartupWithExitCodeOne() {
        ShimProcess.Run bool = ShimProcess.runToExit(tmp, Map.of("DSTACK_DOCKER_PRIVILEGED", "yes"));
        assertThat(bool.exitCode()).isEqualTo(1);
        assertThat(bool.output()).contains("invalid boolean value \"yes\"");
        ShimProcess.Run level = ShimProcess.runToExit(tmp, Map.of(), "--shim-log-level", "panic");
        assertThat(level.exitCode()).isEqualTo(1);
        assertThat(level.output()).contains("invalid log level: panic");
        ShimProcess.Run port = ShimProcess.runToExit(tmp, Map.of("DSTACK_SHIM_HTTP_PORT", "ten"));
        assertThat(port.exitCode()).isEqualTo(1);
    }

    @Test
    void aPortInUseStopsStartupWithExitCodeOneSayingSo() throws Exception {
        try (java.net.ServerSocket taken = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            ShimProcess.Run run = ShimProcess.runToExit(tmp, Map.of("DSTACK_SHIM_HTTP_PORT", "" + taken.getLocalPort()));
            assertThat(run.exitCode()).as(run.output()).isEqualTo(1);
            assertThat(run.output()).contains("cannot listen on localhost:" + taken.getLocalPort());
        }
    }

    @Test
    void withoutAnEngineTheShimServesAndSaysHowToGetOne() {
        try (ShimProcess shim = ShimProcess.builder(tmp)
                .env("DOCKER_HOST", "unix://" + tmp.resolve("no-engine.sock")).start()) {
            assertThat(shim.api().get("/api/healthcheck").status()).isEqualTo(200);
            assertThat(shim.output()).contains("cannot reach the Docker engine").contains("apt-get install docker.io");
        }
    }

    @Test
    void tasksSubcommandWithoutARunningShimSaysHowToStartOne() {
        ShimProcess.Run run = ShimProcess.runToExit(tmp, Map.of(), "tasks", "--shim-http-port", "" + FreePorts.next());
        assertThat(run.output()).contains("is not reachable").contains("bin/dstack-shim");
        assertThat(run.exitCode()).isEqualTo(1);
    }

    @Test
    void serviceModeWritesHostInfoOnceAndGracefulShutdownLeavesContainersRunning() throws Exception {
        try (ShimProcess shim = ShimProcess.builder(tmp).env("DSTACK_SERVICE_MODE", "1").start()) {
            Path hostInfo = shim.home().resolve("host_info.json");
            JsonNode info = new ObjectMapper().readTree(hostInfo.toFile());
            assertThat(info.path("gpu_vendor").asText()).isEqualTo("none");
            assertThat(info.path("gpu_count").asInt()).isZero();
            assertThat(info.path("addresses").isArray()).isTrue();
            assertThat(info.path("cpus").asInt()).isPositive();
            assertThat(info.path("memory").asLong()).isPositive();
            assertThat(info.path("disk_size").asLong()).isPositive();

            ApiClient api = shim.api();
            String id = TaskCalls.submit(api, TaskCalls.busybox("bridge"));
            String containerId = TaskCalls.awaitStatus(api, id, "running").path("container_id").asText();
            ApiClient.Reply reply = api.post("/api/shutdown", "{\"force\":false}");
            assertThat(reply.status()).isEqualTo(200);
            assertThat(reply.body()).isEqualTo("\n");
            assertThat(shim.waitExit()).isZero();
            assertThat(Docker.client().inspectContainerCmd(containerId).exec().getState().getRunning()).isTrue();

            Files.writeString(hostInfo, "{\"kept\":true}");
            shim.restart();
            assertThat(Files.readString(hostInfo)).isEqualTo("{\"kept\":true}");
            assertThat(TaskCalls.get(shim.api(), id).path("status").asText()).isEqualTo("running");
            TaskCalls.terminateAndRemove(shim.api(), id);
        }
    }

    @Test
    void forcedShutdownAndSigtermExitZero() {
        try (ShimProcess shim = ShimProcess.builder(tmp).start()) {
            assertThat(shim.api().post("/api/shutdown", "{\"force\":true}").status()).isEqualTo(200);
            assertThat(shim.waitExit()).isZero();
            shim.restart();
            assertThat(shim.terminate()).isZero();
            assertThat(shim.output()).contains("shutting down");
        }
    }
}
