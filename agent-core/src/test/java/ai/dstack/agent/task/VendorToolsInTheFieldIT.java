package ai.dstack.agent.task;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ai.dstack.agent.testing.ApiClient;
import ai.dstack.agent.testing.Commands;
import ai.dstack.agent.testing.FakeExecutables;
import ai.dstack.agent.testing.RepoPaths;
import ai.dstack.agent.testing.ShimProcess;
import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Vendor tools that hang or start failing after start, on a 4×L4 fake NVIDIA host: the health
 * endpoint answers from the last background check while {@code nvidia-smi} is blocked on a FIFO,
 * and a device refresh that fails keeps the devices found before, which {@code dstack-shim host} shows
 * with the error beside them.
 */
class VendorToolsInTheFieldIT {
    @TempDir
    Path tmp;
    FakeGpuHost gpuHost;
    ShimProcess shim;
    Path bin;

    @BeforeEach
    void startEngine() throws Exception {
        gpuHost = FakeGpuHost.start(tmp);
        bin = Files.createDirectories(tmp.resolve("bin"));
        Commands.run("mkfifo", bin.resolve("health.fifo").toString());
        // Device list and health from the plugin's fixtures; with 'block-health' the health query
        // blocks on the FIFO (after leaving a mark), with 'broken' the device list fails as a
        // driver hiccup does (one line per failure in 'failures').
        new FakeExecutables(bin).script("nvidia-smi", """
                d='%s'
                case "$*" in
                  *--query-gpu=index,uuid,*)
                    if [ -e "$d/block-health" ]; then touch "$d/health.blocked"; cat "$d/health.fifo" >/dev/null; fi
                    cat '%s' ;;
                  *--query-gpu=uuid,memory.used,*) cat '%s' ;;
                  *)
                    if [ -e "$d/broken" ]; then echo failed >> "$d/failures"
                      echo 'NVIDIA-SMI has failed because it could not communicate with the NVIDIA driver.'; exit 9; fi
                    cat '%s' ;;
                esac
                """.formatted(bin, RepoPaths.fixture("gpu-nvidia", "nvidia-smi/health-ok.csv"),
                RepoPaths.fixture("gpu-nvidia", "nvidia-smi/stats.csv"),
                RepoPaths.fixture("gpu-nvidia", "nvidia-smi/l4-x4.csv")));
    }

    @AfterEach
    void stopAll() {
        Commands.succeeds("timeout", "5", "sh", "-c", "echo > '" + bin.resolve("health.fifo") + "'"); // frees a blocked check
        if (gpuHost != null) {
            gpuHost.close();
        }
    }

    private ApiClient startShim() {
        shim = gpuHost.start(gpuHost.shim(new FakeExecutables(bin))
                .env("DSTACK_SHIM_HEALTH_INTERVAL_MS", "100")
                .env("DSTACK_SHIM_FINGERPRINT_INTERVAL_MS", "100")
                .env("DSTACK_SHIM_TOOL_TIMEOUT_MS", "600000")
                );
        return shim.api();
    }

    @Test
    void healthAnswersFromTheLastCheckWhileTheToolHangs() throws Exception {
        Files.createFile(bin.resolve("block-health"));
        ApiClient api = startShim();
        await().atMost(Duration.ofSeconds(60)).until(() -> Files.exists(bin.resolve("health.blocked")));
        // The first check is blocked: no result yet, answered as Go answers without DCGM.
        assertThat(api.get("/api/instance/health").body()).isEqualTo("{\"dcgm\":null}\n");

        Files.delete(bin.resolve("block-health"));
        Commands.run("timeout", "30", "sh", "-c", "echo > '" + bin.resolve("health.fifo") + "'");
        JsonNode first = await().atMost(Duration.ofSeconds(60)).until(
                () -> api.get("/api/instance/health").json().path("dcgm"), d -> !d.isNull());
        assertThat(first.path("overall_health").asInt()).isZero();

        // The tool hangs again: the answer is the last result, given while it is still blocked.
        Files.delete(bin.resolve("health.blocked"));
        Files.createFile(bin.resolve("block-health"));
        await().atMost(Duration.ofSeconds(60)).until(() -> Files.exists(bin.resolve("health.blocked")));
        JsonNode again = api.get("/api/instance/health").json().path("dcgm");
        assertThat(again.path("overall_health").asInt()).isZero();
        assertThat(again.path("incidents")).isEmpty();
    }

    @Test
    void aRefreshThatFailsAfterStartKeepsTheDevices() throws Exception {
        ApiClient api = startShim();
        Files.createFile(bin.resolve("broken"));
        // Two failures logged: the refresh that saw the first one has finished.
        await().atMost(Duration.ofSeconds(60)).until(() -> Files.exists(bin.resolve("failures"))
                && Files.readAllLines(bin.resolve("failures")).size() >= 2);
        String id = gpuHost.submitSleeping(api, 2);
        assertThat(TaskCalls.awaitStatus(api, id, "running").path("gpus_ids")).hasSize(2);
        assertThat(api.get("/api/instance/info").json().path("gpu_vendor").asText()).isEqualTo("nvidia");
        TaskCalls.terminateAndRemove(api, id);
        assertThat(shim.output()).contains("refresh failed, keeping the 4 device(s) of the last good fingerprint");

        // The operator's view of the running shim: its kept devices, the error beside them.
        ShimProcess.Run host = shim.runCommand("host");
        assertThat(host.exitCode()).as(host.output()).isZero();
        assertThat(host.output()).contains("Accelerators (of the running shim, pid " + shim.pid(),
                "nvidia: 4 device(s) (kept by the running shim, pid " + shim.pid(),
                "; last refresh failed at ", ": nvidia-smi: exit code 9)",
                "gpu_count 4");

        // No shim runs on the home any more: the command fingerprints the host itself, as it did before.
        shim.kill();
        Files.delete(bin.resolve("broken"));
        host = shim.runCommand("host");
        assertThat(host.output()).contains("Accelerators (fingerprinted by this command; primary vendor: nvidia)",
                "no longer runs: fingerprinted by this command", "nvidia: 4 device(s)\n", "gpu_count 4");
    }
}
