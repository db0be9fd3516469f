package ai.dstack.agent.plugin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.dstack.agent.spi.ContainerEdits;
import ai.dstack.agent.testing.FakeExecutables;
import ai.dstack.agent.testing.FakeHost;
import ai.dstack.agent.testing.LocalImages;
import ai.dstack.agent.testing.RepoPaths;
import ai.dstack.agent.testing.TestDockerd;
import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.command.InspectContainerResponse;
import com.github.dockerjava.api.exception.DockerException;
import com.github.dockerjava.api.model.Capability;
import com.github.dockerjava.api.model.Device;
import com.github.dockerjava.api.model.Frame;
import com.github.dockerjava.api.model.HostConfig;
import com.github.dockerjava.core.command.LogContainerResultCallback;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Containers made from the plugins' edits really start on a Docker 20.10 engine without GPUs: a
 * test-only dockerd has a fake {@code nvidia-container-runtime-hook} on its PATH (it honours NVIDIA
 * device requests then) and {@code habana} as another name for runc.
 */
class GpuContainersOnTestDockerdIT {
    static Path hookDir;
    static TestDockerd engine;

    @TempDir
    Path tmp;

    private final List<String> containers = new ArrayList<>();
    private PluginRuntime runtime;

    @BeforeAll
    static void startEngine() throws Exception {
        String why = TestDockerd.unavailableBecause();
        Assumptions.assumeTrue(why == null, () -> "skipped: " + why);
        hookDir = Files.createTempDirectory("nvidia-hook-");
        // The hook reads the container's OCI config from its bundle; with the fail-on-display flag set it
        // fails like a host without /dev/nvidia-modeset when the display capability is requested.
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
    void removeContainers() {
        containers.forEach(id -> engine.client().removeContainerCmd(id).withForce(true).exec());
        if (runtime != null) {
            runtime.close();
        }
    }

    /** The built plugins over a fake host whose vendor tool prints the fixture. */
    private PluginRuntime host(String plugin, String deviceFile, String tool, String fixture, FakeHost tree) {
        FakeExecutables tools = new FakeExecutables(tmp.resolve("bin"));
        tools.printing(tool, RepoPaths.fixture(plugin, fixture));
        tree.file(deviceFile, "");
        RepoPaths.copyBuiltPlugins(tmp.resolve("plugins"), plugin);
        Map<String, String> env = new HashMap<>();
        env.put("PATH", tools.dir() + ":/usr/bin:/bin");
        env.put("DSTACK_SHIM_PLUGINS_DIR", tmp.resolve("plugins").toString());
        env.put("DSTACK_SHIM_HOST_ROOT", tmp.resolve("root").toString());
        runtime = PluginRuntime.start(PluginSettings.fromEnv(env), false);
        return runtime;
    }

    private String create(ContainerEdits edits, String script) {
        DockerClient docker = engine.client();
        HostConfig config = DockerEdits.apply(HostConfig.newHostConfig().withNetworkMode("none"), edits);
        String id = docker.createContainerCmd(LocalImages.BUSYBOX)
                .withName("dstack-it-gpu-" + UUID.randomUUID().toString().substring(0, 8))
                .withLabels(TestDockerd.testLabels())
                .withEnv(DockerEdits.env(edits))
                .withCmd("sh", "-c", script)
                .withHostConfig(config)
                .exec().getId();
        containers.add(id);
        return id;
    }

    private String runToEnd(String id) throws Exception {
        DockerClient docker = engine.client();
        docker.startContainerCmd(id).exec();
        assertThat(docker.waitContainerCmd(id).start().awaitStatusCode()).isZero();
        StringBuilder out = new StringBuilder();
        docker.logContainerCmd(id).withStdOut(true).withStdErr(true).exec(new LogContainerResultCallback() {
            @Override
            public void onNext(Frame frame) {
                out.append(new String(frame.getPayload()));
            }
        }).awaitCompletion();
        return out.toString().strip();
    }

    @Test
    void anNvidiaDeviceRequestStartsAndTheContainerSeesItsUuids() throws Exception {
        PluginRuntime rt = host("gpu-nvidia", "/dev/nvidiactl", "nvidia-smi", "nvidia-smi/l4-x4.csv", new FakeHost(tmp.resolve("root")));
        List<String> ids = rt.gpus().allocate("task-a", 2);
        String id = create(rt.gpus().edits(ids), "echo $NVIDIA_VISIBLE_DEVICES; echo $NVIDIA_DRIVER_CAPABILITIES");

        String[] lines = runToEnd(id).split("\n");
        assertThat(lines[0]).isEqualTo("GPU-aaaaaaaa-0000-0000-0000-000000000000,GPU-bbbbbbbb-1111-1111-1111-111111111111");
        // Docker passes every capability but the "gpu" selector on as the driver capabilities.
        assertThat(lines[1].split(",")).containsExactlyInAnyOrder("utility", "compute", "graphics", "video", "display", "compat32");
        InspectContainerResponse inspected = engine.client().inspectContainerCmd(id).exec();
        assertThat(rt.gpus().recover(DockerEdits.view(inspected))).isEqualTo(ids);
    }

    @Test
    void aMissingModesetDeviceIsRetriedWithoutDisplay() throws Exception {
        Files.createFile(hookDir.resolve("fail-on-display"));
        PluginRuntime rt = host("gpu-nvidia", "/dev/nvidiactl", "nvidia-smi", "nvidia-smi/l4-x4.csv", new FakeHost(tmp.resolve("root")));
        List<String> ids = rt.gpus().allocate("task-a", 1);
        String first = create(rt.gpus().edits(ids), "echo $NVIDIA_DRIVER_CAPABILITIES");
        DockerException refused = (DockerException) org.assertj.core.api.Assertions.catchThrowable(() -> engine.client().startContainerCmd(first).exec());
        assertThat(refused).as("the hook refuses display").isNotNull();
        assertThat(refused.getMessage()).contains("/dev/nvidia-modeset");

        ContainerEdits retry = rt.gpus().retryAfterStartFailure(ids, refused.getMessage()).orElseThrow();
        engine.client().removeContainerCmd(first).withForce(true).exec();
        containers.remove(first);
        String second = create(retry, "echo $NVIDIA_DRIVER_CAPABILITIES");
        assertThat(runToEnd(second).split(",")).containsExactlyInAnyOrder("utility", "compute", "graphics", "video", "compat32");
    }

    @Test
    void aGaudiContainerStartsWithTheHabanaRuntime() throws Exception {
        PluginRuntime rt = host("gpu-gaudi", "/dev/accel/accel0", "hl-smi", "hl-smi/gaudi2-x8.csv", new FakeHost(tmp.resolve("root")));
        List<String> ids = rt.gpus().allocate("task-g", 2);
        String id = create(rt.gpus().edits(ids), "echo $HABANA_VISIBLE_DEVICES");
        assertThat(runToEnd(id)).isEqualTo("0,1");
        InspectContainerResponse inspected = engine.client().inspectContainerCmd(id).exec();
        assertThat(inspected.getHostConfig().getRuntime()).isEqualTo("habana");
        assertThat(inspected.getHostConfig().getIpcMode()).isEqualTo("host");
        assertThat(inspected.getHostConfig().getCapAdd()).contains(Capability.SYS_NICE);
        assertThat(rt.gpus().recover(DockerEdits.view(inspected))).containsExactly("0", "1");
    }

    @Test
    void anAmdContainerIsCreatedWithKfdAndItsRenderNodes() throws Exception {
        FakeHost tree = new FakeHost(tmp.resolve("root"));
        tree.file("/dev/dri/renderD128", "").link("/dev/dri/by-path/pci-0000:0c:00.0-render", "../renderD128");
        tree.file("/dev/dri/renderD129", "").link("/dev/dri/by-path/pci-0000:22:00.0-render", "../renderD129");
        PluginRuntime rt = host("gpu-amd", "/dev/kfd", "amd-smi", "amd-smi/mi300x-x2-array.json", tree);
        List<String> ids = rt.gpus().allocate("task-r", 1);
        String id = create(rt.gpus().edits(ids), "true");

        InspectContainerResponse inspected = engine.client().inspectContainerCmd(id).exec();
        assertThat(inspected.getHostConfig().getDevices()).extracting(Device::getPathOnHost, Device::getPathInContainer, Device::getcGroupPermissions)
                .containsExactly(org.assertj.core.groups.Tuple.tuple("/dev/kfd", "/dev/kfd", "rwm"),
                        org.assertj.core.groups.Tuple.tuple("/dev/dri/renderD128", "/dev/dri/renderD128", "rwm"));
        assertThat(inspected.getHostConfig().getIpcMode()).isEqualTo("host");
        assertThat(inspected.getHostConfig().getCapAdd()).contains(Capability.SYS_PTRACE);
        assertThat(inspected.getHostConfig().getSecurityOpts()).contains("seccomp=unconfined");
        assertThat(rt.gpus().recover(DockerEdits.view(inspected))).containsExactly("/dev/dri/renderD128");
        assertThatThrownBy(() -> engine.client().startContainerCmd(id).exec()).as("no /dev/kfd on this machine").isInstanceOf(DockerException.class);
    }
}
