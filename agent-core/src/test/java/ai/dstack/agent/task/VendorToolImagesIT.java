package ai.dstack.agent.task;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ai.dstack.agent.pluginhost.InventoryState;
import ai.dstack.agent.testing.ApiClient;
import ai.dstack.agent.testing.EngineProxy;
import ai.dstack.agent.testing.FakeExecutables;
import ai.dstack.agent.testing.FakeHost;
import ai.dstack.agent.testing.RepoPaths;
import ai.dstack.agent.testing.ShimProcess;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A vendor tool that is not installed runs from its image ({@code docker run --rm … dstackai/amd-smi}),
 * and such a run is not repeated at every refresh while tasks hold GPUs (docs/shim-operations.md,
 * "Devices survive a failing vendor tool"). The host has no {@code amd-smi}; a fake {@code docker}
 * first on the shim's PATH records each run and prints the plugin's recorded {@code amd-smi} output.
 * The shim itself talks to the main engine through its socket (behind a proxy that holds the task's
 * pull, so the task holds its GPU for as long as the test wants).
 */
class VendorToolImagesIT {
    private static final Set<String> BEFORE_THE_CONTAINER = Set.of("pending", "preparing", "pulling", "creating");

    @TempDir
    Path tmp;
    EngineProxy proxy;
    ShimProcess shim;
    Path runs;

    @AfterEach
    void stopAll() {
        if (proxy != null) {
            proxy.release(true);
        }
        if (shim != null) {
            shim.close();
        }
        if (proxy != null) {
            proxy.close();
        }
    }

    private ApiClient startShim() {
        FakeHost root = new FakeHost(tmp.resolve("root"));
        root.file("/dev/kfd", "");
        root.file("/dev/dri/renderD128", "").link("/dev/dri/by-path/pci-0000:0c:00.0-render", "../renderD128");
        root.file("/dev/dri/renderD129", "").link("/dev/dri/by-path/pci-0000:22:00.0-render", "../renderD129");
        FakeExecutables tools = new FakeExecutables(tmp.resolve("bin"));
        runs = tools.dir().resolve("docker-runs");
        // Only the tool-image form: anything else the shim asked of a docker CLI would be a bug.
        tools.script("docker", """
                echo "$*" >> '%s'
                case "$*" in
                  "run --rm "*" dstackai/amd-smi:latest static --json "*) cat '%s' ;;
                  *) echo "fake docker: unexpected arguments: $*" >&2; exit 125 ;;
                esac
                """.formatted(runs, RepoPaths.fixture("gpu-amd", "amd-smi/mi300x-x2-array.json")));
        RepoPaths.copyBuiltPlugins(tmp.resolve("plugins"), "gpu-amd");
        proxy = EngineProxy.start(tmp.resolve("engine.sock"), EngineProxy.mainEngineSocket());
        shim = ShimProcess.builder(tmp)
                .env("DOCKER_HOST", proxy.dockerHost())
                .env("PATH", tools.dir() + ":/usr/sbin:/usr/bin:/sbin:/bin")
                .env("DSTACK_SHIM_HOST_ROOT", tmp.resolve("root").toString())
                .env("DSTACK_SHIM_PLUGINS_DIR", tmp.resolve("plugins").toString())
                .env("DSTACK_SHIM_FINGERPRINT_INTERVAL_MS", "100")
                .start();
        return shim.api();
    }

    private List<String> runs() throws IOException {
        return Files.exists(runs) ? Files.readAllLines(runs) : List.of();
    }

    private InventoryState state() throws IOException {
        return InventoryState.read(shim.home().resolve(InventoryState.FILE_NAME)).orElseThrow();
    }

    /** Waits until the shim has ended {@code n} more refreshes (its state file says when each ended). */
    private void awaitRefreshes(int n) throws IOException {
        for (int i = 0; i < n; i++) {
            String before = state().refreshedAt();
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(20))
                    .until(() -> !state().refreshedAt().equals(before));
        }
    }

    @Test
    void theToolImageIsNotRunAgainWhileATaskHoldsGpusAndIsOnceTheyAreFree() throws Exception {
        ApiClient api = startShim();
        // Idle: every refresh runs the tool's image.
        await().atMost(Duration.ofSeconds(60)).until(() -> runs().size() >= 3);
        InventoryState.Vendor amd = state().vendors().getFirst();
        assertThat(amd.vendor()).isEqualTo("amd");
        assertThat(amd.devices()).hasSize(2);
        assertThat(amd.viaImage()).isTrue();

        proxy.hold("/images/.*");
        Map<String, Object> body = TaskCalls.busybox("bridge");
        body.put("gpu", 1);
        String id = TaskCalls.submit(api, body);
        assertThat(proxy.awaitHeld(Duration.ofSeconds(30))).isTrue();
        // Its GPU was taken before the pull, which the proxy holds.
        assertThat(TaskCalls.get(api, id).path("status").asText()).isEqualTo("pulling");
        awaitRefreshes(2); // the second began after the GPU was taken
        int whileHeld = runs().size();
        awaitRefreshes(3);
        assertThat(runs()).hasSize(whileHeld);

        proxy.release(true);
        // This machine has no /dev/kfd: the engine creates the container but cannot start it, and the GPU is free.
        JsonNode ended = await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(100))
                .until(() -> TaskCalls.get(api, id), t -> !BEFORE_THE_CONTAINER.contains(t.path("status").asText()));
        TaskCalls.terminateAndRemove(api, id);
        await().atMost(Duration.ofSeconds(60)).until(() -> runs().size() > whileHeld);

        // The container was made through the engine's socket; the docker on PATH only ever ran the tool.
        assertThat(ended.path("container_id").asText()).isNotEmpty();
        assertThat(runs()).allSatisfy(line -> assertThat(line)
                .startsWith("run --rm --device /dev/kfd --device /dev/dri dstackai/amd-smi:latest static --json"));
    }
}
