package ai.dstack.agent.plugin;

import static org.assertj.core.api.Assertions.assertThat;

import ai.dstack.agent.task.TaskCalls;
import ai.dstack.agent.testing.ApiClient;
import ai.dstack.agent.testing.FakeExecutables;
import ai.dstack.agent.testing.FakeHost;
import ai.dstack.agent.testing.LocalImages;
import ai.dstack.agent.testing.RepoPaths;
import ai.dstack.agent.testing.StubRunner;
import ai.dstack.agent.testing.TestDockerd;
import com.fasterxml.jackson.databind.JsonNode;
import com.github.dockerjava.api.command.InspectContainerResponse;
import com.github.dockerjava.api.model.Capability;
import com.github.dockerjava.api.model.Device;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * GPU tasks through the shim's API and pipeline with the built plugins, on a Docker 20.10 engine
 * without GPUs: a test-only dockerd has a fake {@code nvidia-container-runtime-hook} on its PATH
 * (Docker honours NVIDIA device requests then) and {@code habana} as another name for runc. The
 * vendor tools are fakes printing recorded output; everything else is the production code path.
 */
class GpuTasksOnTestDockerdIT {
    static Path hookDir;
    static TestDockerd engine;

    @TempDir
    Path tmp;

    private final List<AutoCloseable> open = new ArrayList<>();
    private final List<String> submitted = new ArrayList<>();
    private ApiClient api;
    private InProcessShim current;

    @BeforeAll
    static void startEngine() throws Exception {
        String why = TestDockerd.unavailableBecause();
        Assumptions.assumeTrue(why == null, () -> "skipped: " + why);
        hookDir = Files.createTempDirectory("nvidia-hook-");
        // The hook reads the container's OCI config from its bundle; with the fail-on-display flag set it
        // fails like a host without /dev/nvidia-modeset whenever the display capability is requested.
        new FakeExecutables(hookDir).script("nvidia-container-runtime-hook", """
                state=$(cat)
                bundle=$(printf '%s' "$state" | sed -n 's/.*"bundle":"\\([^"]*\\)".*/\\1/p')
                if [ -e '""" + hookDir + """
                /fail-on-display' ] && grep -q 'NVIDIA_DRIVER_CAPABILITIES=[^"]*display' "$bundle/config.json"; then
                  echo 'nvidia-container-cli: mount error: stat failed: /dev/nvidia-modeset: no such file or directory' >&2
                  exit 1
                fi
                exit 0
                """);
        engine = TestDockerd.start(List.of(hookDir), Map.of("habana", "runc"));
        engine.loadImage(LocalImages.BUSYBOX);
    }

    @AfterAll
    static void stopEngine() throws Exception {
        if (engine != null) {
            engine.close();
        }
        if (hookDir != null) {
            new ProcessBuilder("rm", "-rf", hookDir.toString()).start().waitFor();
        }
    }

    @BeforeEach
    void noFailingHook() throws Exception {
        Files.deleteIfExists(hookDir.resolve("fail-on-display"));
    }

    @AfterEach
    void cleanUp() throws Exception {
        // Through the latest shim: after a restart it is the one that knows the tasks.
        for (String id : submitted) {
            api.post("/api/tasks/" + id + "/terminate", Map.of("termination_reason", "terminated_by_user", "termination_message", "", "timeout", 0));
            api.post("/api/tasks/" + id + "/remove", "");
        }
        for (AutoCloseable c : open.reversed()) {
            c.close();
        }
    }

    /** Plugins over a fake host whose vendor tool prints the fixture, and a shim using them on the test engine. */
    private ApiClient shim(String plugin, String deviceFile, String tool, String fixture, FakeHost tree, Path home) throws Exception {
        FakeExecutables tools = new FakeExecutables(tmp.resolve("bin"));
        tools.printing(tool, RepoPaths.fixture(plugin, fixture));
        tree.file(deviceFile, "");
        if (!Files.exists(tmp.resolve("plugins"))) {
            RepoPaths.copyBuiltPlugins(tmp.resolve("plugins"), plugin);
        }
        Map<String, String> env = new HashMap<>();
        env.put("PATH", tools.dir() + ":/usr/bin:/bin");
        env.put("DSTACK_SHIM_PLUGINS_DIR", tmp.resolve("plugins").toString());
        env.put("DSTACK_SHIM_HOST_ROOT", tmp.resolve("root").toString());
        PluginRuntime plugins = PluginRuntime.start(PluginSettings.fromEnv(env), false);
        open.add(plugins);
        current = InProcessShim.start(home, engine.host(), plugins);
        open.add(current);
        api = current.api();
        return api;
    }

    private ApiClient nvidiaShim(Path home) throws Exception {
        return shim("gpu-nvidia", "/dev/nvidiactl", "nvidia-smi", "nvidia-smi/l4-x4.csv", new FakeHost(tmp.resolve("root")), home);
    }

    /** A task whose stub runner writes its GPU environment into a host folder, then waits. */
    private String submitGpuTask(ApiClient api, int gpus, Path out) throws Exception {
        Path stub = StubRunner.override(tmp.resolve("stub-" + submitted.size()), """
                echo "$NVIDIA_VISIBLE_DEVICES" > /out/visible
                echo "$NVIDIA_DRIVER_CAPABILITIES" > /out/caps
                echo "$HABANA_VISIBLE_DEVICES" > /out/habana
                exec sleep 600
                """);
        Files.createDirectories(out);
        Map<String, Object> body = TaskCalls.busybox("host");
        body.put("gpu", gpus);
        body.put("instance_mounts", List.of(Map.of("instance_path", stub.toString(), "path", StubRunner.OVERRIDE_DIR),
                Map.of("instance_path", out.toString(), "path", "/out")));
        String id = TaskCalls.submit(api, body);
        submitted.add(id);
        return id;
    }

    private static String awaitFile(Path file) {
        Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> Files.exists(file) && Files.size(file) > 0);
        try {
            return Files.readString(file).strip();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static List<String> ids(JsonNode task) {
        List<String> ids = new ArrayList<>();
        task.path("gpus_ids").forEach(n -> ids.add(n.asText()));
        return ids;
    }

    @Test
    void twoTasksOfTwoGpusGetDisjointUuidsSeeThemAndAThirdOfThreeFindsNoCapacity() throws Exception {
        ApiClient api = nvidiaShim(tmp.resolve("home"));
        String a = submitGpuTask(api, 2, tmp.resolve("out-a"));
        String b = submitGpuTask(api, 2, tmp.resolve("out-b"));
        JsonNode ta = TaskCalls.awaitStatus(api, a, "running");
        JsonNode tb = TaskCalls.awaitStatus(api, b, "running");

        assertThat(ids(ta)).hasSize(2);
        assertThat(ids(tb)).hasSize(2);
        Set<String> all = new HashSet<>(ids(ta));
        all.addAll(ids(tb));
        assertThat(all).containsExactlyInAnyOrder("GPU-aaaaaaaa-0000-0000-0000-000000000000", "GPU-bbbbbbbb-1111-1111-1111-111111111111",
                "GPU-cccccccc-2222-2222-2222-222222222222", "GPU-dddddddd-3333-3333-3333-333333333333");
        assertThat(awaitFile(tmp.resolve("out-a/visible"))).isEqualTo(String.join(",", ids(ta)));
        assertThat(awaitFile(tmp.resolve("out-b/visible"))).isEqualTo(String.join(",", ids(tb)));
        assertThat(awaitFile(tmp.resolve("out-a/caps")).split(",")).contains("compute", "utility", "display");

        String c = submitGpuTask(api, 3, tmp.resolve("out-c"));
        JsonNode tc = TaskCalls.awaitStatus(api, c, "terminated");
        assertThat(tc.path("termination_reason").asText()).isEqualTo("executor_error");
        assertThat(tc.path("termination_message").asText()).isEqualTo("no capacity: 3 GPUs requested, 0 available");
    }

    @Test
    void afterARestartTheRunningTasksKeepTheirGpus() throws Exception {
        Path home = tmp.resolve("home");
        ApiClient api = nvidiaShim(home);
        String a = submitGpuTask(api, 3, tmp.resolve("out-a"));
        List<String> held = ids(TaskCalls.awaitStatus(api, a, "running"));

        current.crash();
        ApiClient restarted = nvidiaShim(home);
        assertThat(ids(TaskCalls.get(restarted, a))).containsExactlyInAnyOrderElementsOf(held);
        String b = submitGpuTask(restarted, 2, tmp.resolve("out-b"));
        assertThat(TaskCalls.awaitStatus(restarted, b, "terminated").path("termination_message").asText())
                .isEqualTo("no capacity: 2 GPUs requested, 1 available");
    }

    @Test
    void aHookFailingOnTheMissingModesetDeviceIsRetriedWithoutDisplay() throws Exception {
        Files.createFile(hookDir.resolve("fail-on-display"));
        ApiClient api = nvidiaShim(tmp.resolve("home"));
        String a = submitGpuTask(api, 1, tmp.resolve("out-a"));
        TaskCalls.awaitStatus(api, a, "running");
        assertThat(awaitFile(tmp.resolve("out-a/caps")).split(",")).containsExactlyInAnyOrder("utility", "compute", "graphics", "video", "compat32");
    }

    @Test
    void aGaudiTaskRunsWithTheHabanaRuntimeAndItsVisibleDevices() throws Exception {
        ApiClient api = shim("gpu-gaudi", "/dev/accel/accel0", "hl-smi", "hl-smi/gaudi2-x8.csv", new FakeHost(tmp.resolve("root")), tmp.resolve("home"));
        String a = submitGpuTask(api, 2, tmp.resolve("out-a"));
        JsonNode task = TaskCalls.awaitStatus(api, a, "running");
        assertThat(awaitFile(tmp.resolve("out-a/habana"))).isEqualTo("0,1");
        InspectContainerResponse c = engine.client().inspectContainerCmd(task.path("container_id").asText()).exec();
        assertThat(c.getHostConfig().getRuntime()).isEqualTo("habana");
        assertThat(c.getHostConfig().getIpcMode()).isEqualTo("host");
        assertThat(c.getHostConfig().getCapAdd()).contains(Capability.SYS_NICE);
    }

    @Test
    void anAmdTaskContainerGetsKfdAndItsRenderNodes() throws Exception {
        FakeHost tree = new FakeHost(tmp.resolve("root"));
        tree.file("/dev/dri/renderD128", "").link("/dev/dri/by-path/pci-0000:0c:00.0-render", "../renderD128");
        tree.file("/dev/dri/renderD129", "").link("/dev/dri/by-path/pci-0000:22:00.0-render", "../renderD129");
        ApiClient api = shim("gpu-amd", "/dev/kfd", "amd-smi", "amd-smi/mi300x-x2-array.json", tree, tmp.resolve("home"));
        String a = submitGpuTask(api, 1, tmp.resolve("out-a"));
        // This machine has no /dev/kfd, so the engine cannot start it; the container it made shows the devices.
        JsonNode task = TaskCalls.awaitStatus(api, a, "terminated");
        assertThat(ids(task)).containsExactly("/dev/dri/renderD128");
        InspectContainerResponse c = engine.client().inspectContainerCmd(task.path("container_id").asText()).exec();
        assertThat(c.getHostConfig().getDevices()).extracting(Device::getPathOnHost, Device::getPathInContainer, Device::getcGroupPermissions)
                .contains(org.assertj.core.groups.Tuple.tuple("/dev/kfd", "/dev/kfd", "rwm"),
                        org.assertj.core.groups.Tuple.tuple("/dev/dri/renderD128", "/dev/dri/renderD128", "rwm"));
        assertThat(c.getHostConfig().getIpcMode()).isEqualTo("host");
        assertThat(c.getHostConfig().getCapAdd()).contains(Capability.SYS_PTRACE);
        assertThat(c.getHostConfig().getSecurityOpts()).contains("seccomp=unconfined");
    }
}
