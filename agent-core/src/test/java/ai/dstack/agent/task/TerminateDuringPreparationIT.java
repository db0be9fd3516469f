package ai.dstack.agent.task;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ai.dstack.agent.testing.ApiClient;
import ai.dstack.agent.testing.Commands;
import ai.dstack.agent.testing.FakeExecutables;
import ai.dstack.agent.testing.ShimProcess;
import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Terminate interrupts a task's preparation: a task whose AWS volume never shows up (the storage
 * plugin's block-device lookup blocks on a FIFO, and the attach wait is 10 minutes) is terminated
 * and removed while the lookup is still blocked, and its GPUs are free for the next task at once.
 * A 4×L4 fake NVIDIA host on a test-only engine.
 */
class TerminateDuringPreparationIT {
    @TempDir
    Path tmp;
    FakeGpuHost gpuHost;
    ShimProcess shim;
    Path fifo;

    @BeforeEach
    void startEngine() throws Exception {
        gpuHost = FakeGpuHost.start(tmp);
    }

    @AfterEach
    void stopAll() {
        if (fifo != null && Files.exists(fifo)) {
            Commands.succeeds("timeout", "5", "sh", "-c", "echo > '" + fifo + "'"); // frees a still-blocked lsblk
        }
        if (gpuHost != null) {
            gpuHost.close();
        }
    }

    @Test
    void terminateEndsAVolumeWaitAndFreesTheGpusAtOnce() throws Exception {
        FakeExecutables tools = new FakeExecutables(tmp.resolve("bin"));
        fifo = tmp.resolve("bin/lsblk.fifo");
        Commands.run("mkfifo", fifo.toString());
        Path started = tmp.resolve("bin/lsblk.started");
        // The block-device lookup hangs until the FIFO gets a writer (which only the cleanup provides).
        tools.script("lsblk", "touch '" + started + "'\ncat '" + fifo + "' >/dev/null\n");
        shim = gpuHost.start(gpuHost.shim(tools, "storage-ext4")
                .env("DSTACK_SHIM_VOLUME_ATTACH_TIMEOUT_MS", "600000")
                .env("DSTACK_SHIM_REMOVE_WAIT_MS", "30000") // shorter than the tool timeout (2 min): only an interrupt frees it
                );
        ApiClient api = shim.api();

        Map<String, Object> body = TaskCalls.busybox("host");
        body.put("gpu", 2);
        body.put("volumes", List.of(Map.of("backend", "aws", "name", "never-attached", "volume_id", "vol-0deadbeef",
                "init_fs", false)));
        body.put("volume_mounts", List.of(Map.of("name", "never-attached", "path", "/data")));
        String waiting = TaskCalls.submit(api, body);
        await().atMost(Duration.ofSeconds(60)).until(() -> Files.exists(started));
        JsonNode preparing = TaskCalls.get(api, waiting);
        assertThat(preparing.path("status").asText()).isEqualTo("preparing");
        assertThat(preparing.path("gpus_ids")).hasSize(2);

        // Both answers arrive while lsblk is still blocked (its FIFO has no writer until cleanup).
        TaskCalls.terminateAndRemove(api, waiting);
        assertThat(api.get("/api/tasks/" + waiting).status()).isEqualTo(404);

        String next = gpuHost.submitSleeping(api, 4);
        assertThat(TaskCalls.awaitStatus(api, next, "running").path("gpus_ids")).hasSize(4);
        TaskCalls.terminateAndRemove(api, next);
    }
}
