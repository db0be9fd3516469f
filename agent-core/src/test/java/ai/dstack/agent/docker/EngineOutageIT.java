package ai.dstack.agent.docker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ai.dstack.agent.task.FakeGpuHost;
import ai.dstack.agent.task.TaskCalls;
import ai.dstack.agent.testing.ApiClient;
import ai.dstack.agent.testing.Commands;
import ai.dstack.agent.testing.FakeExecutables;
import ai.dstack.agent.testing.ShimProcess;
import ai.dstack.agent.testing.TestDockerd;
import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Docker engine goes away and comes back (docs/shim-operations.md), on a test engine this test
 * stops and starts: the shim starts and serves without it, fails new tasks naming it, judges
 * restored tasks and writes host_info.json only once it answers, and runs new tasks after it is
 * back without being restarted. A 4-GPU fake NVIDIA host shows which GPUs stay held meanwhile.
 */
class EngineOutageIT {
    @TempDir
    Path tmp;
    FakeGpuHost gpuHost;
    TestDockerd engine;
    ShimProcess shim;

    @BeforeEach
    void startEngine() throws Exception {
        gpuHost = FakeGpuHost.start(tmp);
        engine = gpuHost.engine();
    }

    @AfterEach
    void stopAll() {
        if (gpuHost != null) {
            gpuHost.close();
        }
    }

    @Test
    void theShimServesWithoutTheEngineAndPicksItUpWhenItComesBack() throws Exception {
        engine.stop();
        ApiClient api = startShim();
        assertThat(api.get("/api/healthcheck").status()).isEqualTo(200);
        Path hostInfo = shim.home().resolve("host_info.json");
        assertThat(hostInfo).as("host_info.json needs the engine's DockerRootDir").doesNotExist();

        // A task submitted while the engine is down fails, naming the engine.
        JsonNode failed = TaskCalls.awaitStatus(api, TaskCalls.submit(api, TaskCalls.busybox("host")), "terminated");
        assertThat(failed.path("termination_reason").asText()).isEqualTo("creating_container_error");
        assertThat(failed.path("termination_message").asText()).contains("Docker engine");

        // The engine comes back: host_info.json is written and new tasks run, without restarting the shim.
        engine.restart();
        await().atMost(Duration.ofSeconds(60)).until(() -> Files.exists(hostInfo));
        String first = submitGpuTask(api, 4);
        TaskCalls.awaitStatus(api, first, "running");

        // Its container dies with the engine (a stopping engine stops its containers): terminated with a
        // reason, as soon as the engine tells (on its way down, or once it answers again).
        engine.stop();
        engine.restart();
        JsonNode died = TaskCalls.awaitStatus(api, first, "terminated");
        assertThat(died.path("termination_reason").asText()).isEqualTo("container_exited_with_error");
        assertThat(died.path("termination_message").asText()).isNotEmpty();
        TaskCalls.terminateAndRemove(api, first);

        // A task restored from disk while the engine is down is not judged: it stays running and keeps its GPUs.
        String restored = submitGpuTask(api, 4);
        TaskCalls.awaitStatus(api, restored, "running");
        shim.kill();
        engine.stop();
        shim.restart();
        api = shim.api();
        assertThat(TaskCalls.get(api, restored).path("status").asText()).isEqualTo("running");
        JsonNode noCapacity = TaskCalls.awaitStatus(api, submitGpuTask(api, 1), "terminated");
        assertThat(noCapacity.path("termination_reason").asText()).isEqualTo("executor_error");
        assertThat(noCapacity.path("termination_message").asText()).contains("no capacity");
        engine.restart();
        JsonNode judged = TaskCalls.awaitStatus(api, restored, "terminated");
        assertThat(judged.path("termination_reason").asText()).isEqualTo("container_exited_with_error");
        TaskCalls.terminateAndRemove(api, restored);
        String after = submitGpuTask(api, 4);
        assertThat(TaskCalls.awaitStatus(api, after, "running").path("gpus_ids")).hasSize(4);
        TaskCalls.terminateAndRemove(api, after);
    }

    /** The shim on the test engine, as a 4×L4 NVIDIA host, writing host_info.json. */
    private ApiClient startShim() throws Exception {
        shim = gpuHost.start(gpuHost.shim(new FakeExecutables(tmp.resolve("bin")))
                .env("DSTACK_SERVICE_MODE", "1"));
        return shim.api();
    }

    private String submitGpuTask(ApiClient api, int gpus) {
        return gpuHost.submitSleeping(api, gpus);
    }
}
