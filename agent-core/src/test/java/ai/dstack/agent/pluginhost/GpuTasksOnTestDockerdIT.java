package ai.dstack.agent.pluginhost;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.groups.Tuple.tuple;

import ai.dstack.agent.task.TaskCalls;
import ai.dstack.agent.testing.ApiClient;
import ai.dstack.agent.testing.Commands;
import ai.dstack.agent.testing.FakeExecutables;
import ai.dstack.agent.testing.FakeHost;
import ai.dstack.agent.testing.FreePorts;
import ai.dstack.agent.testing.LocalImages;
import ai.dstack.agent.testing.RepoPaths;
import ai.dstack.agent.testing.ShimProcess;
import ai.dstack.agent.testing.StubRunner;
import ai.dstack.agent.testing.TestDockerd;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.github.dockerjava.api.command.InspectContainerResponse;
import com.github.dockerjava.api.model.Capability;
import com.github.dockerjava.api.model.Device;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * GPU tasks through the real shim process ({@code Main} in its own JVM) and its HTTP API only, with
 * the built plugins, on a Docker 20.10 engine without GPUs: a test-only dockerd has a fake
 * {@code nvidia-container-runtime-hook} on its PATH (Docker honours NVIDIA device requests then) and
 * {@code habana} as another name for runc. The shim sees a fake host: a root folder with the device
 * files the plugins probe ({@code DSTACK_SHIM_HOST_ROOT}) and fake vendor tools first on its
 * {@code PATH} printing the plugins' recorded outputs.
 */
class GpuTasksOnTestDockerdIT {
    private static final List<String> L4_UUIDS = List.of("GPU-aaaaaaaa-0000-0000-0000-000000000000",
            "GPU-bbbbbbbb-1111-1111-1111-111111111111", "GPU-cccccccc-2222-2222-2222-222222222222",
            "GPU-dddddddd-3333-3333-3333-333333333333");

    static Path hookDir;
    static TestDockerd engine;

    @TempDir
    Path tmp;

    private final List<String> submitted = new ArrayList<>();
    private ShimProcess shim;

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
            Commands.run("rm", "-rf", hookDir.toString());
        }
    }

    @BeforeEach
    void noFailingHook() throws Exception {
        Files.deleteIfExists(hookDir.resolve("fail-on-display"));
    }

    @AfterEach
    void cleanUp() {
        if (shim == null) {
            return;
        }
        if (shim.alive()) {
            for (String id : submitted) {
                shim.api().post("/api/tasks/" + id + "/terminate", Map.of("termination_reason", "terminated_by_user", "termination_message", "", "timeout", 0));
                shim.api().post("/api/tasks/" + id + "/remove", "");
            }
        }
        shim.close();
    }

    /**
     * The shim process on the test engine with one plugin over a fake host: {@code deviceFile} (and
     * whatever {@code tree} already holds) under the host root, {@code tools} first on its PATH.
     */
    private ApiClient startShim(String plugin, String deviceFile, FakeHost tree, FakeExecutables tools) {
        tree.file(deviceFile, "");
        RepoPaths.copyBuiltPlugins(tmp.resolve("plugins")); // all of them; DSTACK_SHIM_PLUGINS picks one
        shim = ShimProcess.builder(tmp)
                .engine(engine.host())
                .env("PATH", tools.dir() + ":/usr/sbin:/usr/bin:/sbin:/bin")
                .env("DSTACK_SHIM_HOST_ROOT", tmp.resolve("root").toString())
                .env("DSTACK_SHIM_PLUGINS_DIR", tmp.resolve("plugins").toString())
                .env("DSTACK_SHIM_PLUGINS", plugin)
                .env("DSTACK_RUNNER_HTTP_PORT", String.valueOf(FreePorts.next()))
                .env("DSTACK_RUNNER_SSH_PORT", String.valueOf(FreePorts.next()))
                .start();
        return shim.api();
    }

    private ApiClient startShim(String plugin, String deviceFile, String tool, String fixture, FakeHost tree) {
        FakeExecutables tools = new FakeExecutables(tmp.resolve("bin"));
        tools.printing(tool, RepoPaths.fixture(plugin, fixture));
        return startShim(plugin, deviceFile, tree, tools);
    }

    /**
     * A 4×L4 host: the fake {@code nvidia-smi} answers the plugin's device, health and stats queries
     * from the plugin's fixtures; once {@code unhealthy} exists in its folder, GPU 1 reports 2
     * uncorrectable ECC errors.
     */
    private ApiClient startNvidiaShim() throws Exception {
        FakeExecutables tools = new FakeExecutables(tmp.resolve("bin"));
        String healthy = Files.readString(RepoPaths.fixture("gpu-nvidia", "nvidia-smi/health-ok.csv"));
        String eccOnGpu1 = healthy.replace("1, " + L4_UUIDS.get(1) + ", 0,", "1, " + L4_UUIDS.get(1) + ", 2,");
        assertThat(eccOnGpu1).isNotEqualTo(healthy);
        Files.writeString(tools.dir().resolve("health-ok.csv"), healthy);
        Files.writeString(tools.dir().resolve("health-ecc.csv"), eccOnGpu1);
        tools.script("nvidia-smi", """
                d='%s'
                case "$*" in
                  *--query-gpu=index,uuid,*) if [ -e "$d/unhealthy" ]; then cat "$d/health-ecc.csv"; else cat "$d/health-ok.csv"; fi ;;
                  *--query-gpu=uuid,memory.used,*) cat '%s' ;;
                  *) cat '%s' ;;
                esac
                """.formatted(tools.dir(), RepoPaths.fixture("gpu-nvidia", "nvidia-smi/stats.csv"),
                RepoPaths.fixture("gpu-nvidia", "nvidia-smi/l4-x4.csv")));
        return startShim("gpu-nvidia", "/dev/nvidiactl", new FakeHost(tmp.resolve("root")), tools);
    }

    /** Submits a task of {@code gpus} GPUs whose stub runner only sleeps (no runner port is bound). */
    private String submitGpuTask(ApiClient api, int gpus) {
        Path stub = StubRunner.override(tmp.resolve("stub"), "exec sleep 600");
        Map<String, Object> body = TaskCalls.busybox("host");
        body.put("gpu", gpus);
        body.put("instance_mounts", List.of(Map.of("instance_path", stub.toString(), "path", StubRunner.OVERRIDE_DIR)));
        String id = TaskCalls.submit(api, body);
        submitted.add(id);
        return id;
    }

    /** The environment of the container's main process (the runner), as seen inside through {@code docker exec}. */
    private static Map<String, String> runnerEnv(JsonNode task) {
        String out = Commands.run("docker", "-H", engine.host(), "exec", task.path("container_id").asText(),
                "sh", "-c", "tr '\\0' '\\n' < /proc/1/environ");
        Map<String, String> env = new HashMap<>();
        for (String line : out.split("\n")) {
            int eq = line.indexOf('=');
            if (eq > 0) {
                env.put(line.substring(0, eq), line.substring(eq + 1));
            }
        }
        return env;
    }

    /** The pretty-printed JSON document in a command's output (its log lines, on stderr, come mixed in). */
    private static String jsonIn(String output) {
        int start = ("\n" + output).indexOf("\n{\n");
        assertThat(start).as(output).isNotNegative();
        return output.substring(start);
    }

    private static List<String> ids(JsonNode task) {
        List<String> ids = new ArrayList<>();
        task.path("gpus_ids").forEach(n -> ids.add(n.asText()));
        return ids;
    }

    private static void assertNoCapacity(ApiClient api, String id, int requested, int available) {
        JsonNode t = TaskCalls.awaitStatus(api, id, "terminated");
        assertThat(t.path("termination_reason").asText()).isEqualTo("executor_error");
        assertThat(t.path("termination_message").asText())
                .isEqualTo("no capacity: " + requested + " GPUs requested, " + available + " available");
    }

    private static void assertGpuMetrics(ApiClient api, int allocated, int free, int unhealthy) {
        ApiClient.Reply metrics = api.get("/metrics");
        assertThat(metrics.status()).isEqualTo(200);
        assertThat(metrics.body()).contains("dstack_shim_gpus{state=\"allocated\"} " + allocated + "\n",
                "dstack_shim_gpus{state=\"free\"} " + free + "\n", "dstack_shim_gpus{state=\"unhealthy\"} " + unhealthy + "\n");
    }

    @Test
    void fourNvidiaGpusAreSharedDisjointlyKeptAcrossASigkillFreedOnRemoveAndReportedWithTheirHealth() throws Exception {
        ApiClient api = startNvidiaShim();

        // What the host looks like: the API and `host --json` in the same environment.
        JsonNode info = api.get("/api/instance/info").json();
        assertThat(info.path("gpu_vendor").asText()).isEqualTo("nvidia");
        assertThat(info.path("gpu_driver_version").asText()).isEqualTo("550.90.07");
        ShimProcess.Run host = shim.runCommand("host", "--json");
        assertThat(host.exitCode()).as(host.output()).isZero();
        JsonNode report = new ObjectMapper().readTree(jsonIn(host.output()));
        assertThat(report.path("primary_vendor").asText()).isEqualTo("nvidia");
        Map<String, String> states = new HashMap<>();
        report.path("plugins").forEach(p -> states.put(p.path("id").asText(), p.path("state").asText()));
        assertThat(states).containsExactlyInAnyOrderEntriesOf(Map.of("gpu-nvidia", "started", "gpu-amd", "disabled",
                "gpu-gaudi", "disabled", "gpu-tenstorrent", "disabled", "storage-ext4", "disabled"));
        assertThat(report.path("accelerators").get(0).path("devices").findValuesAsText("id")).containsExactlyElementsOf(L4_UUIDS);
        assertThat(report.path("host_info").path("gpu_count").asInt()).isEqualTo(4);
        JsonNode health = api.get("/api/instance/health").json();
        assertThat(health.path("dcgm").path("overall_health").asInt()).isZero();
        assertThat(health.path("dcgm").path("incidents")).isEmpty();
        assertGpuMetrics(api, 0, 4, 0);

        // Two tasks of two GPUs get disjoint UUIDs and see exactly theirs; a third of three finds none left.
        String a = submitGpuTask(api, 2);
        String b = submitGpuTask(api, 2);
        JsonNode ta = TaskCalls.awaitStatus(api, a, "running");
        JsonNode tb = TaskCalls.awaitStatus(api, b, "running");
        assertThat(ids(ta)).hasSize(2);
        assertThat(ids(tb)).hasSize(2);
        Set<String> all = new HashSet<>(ids(ta));
        all.addAll(ids(tb));
        assertThat(all).containsExactlyInAnyOrderElementsOf(L4_UUIDS);
        Map<String, String> envA = runnerEnv(ta);
        assertThat(envA.get("NVIDIA_VISIBLE_DEVICES")).isEqualTo(String.join(",", ids(ta)));
        assertThat(runnerEnv(tb).get("NVIDIA_VISIBLE_DEVICES")).isEqualTo(String.join(",", ids(tb)));
        assertThat(envA.get("NVIDIA_DRIVER_CAPABILITIES").split(",")).contains("compute", "utility", "display");
        assertGpuMetrics(api, 4, 0, 0);
        assertNoCapacity(api, submitGpuTask(api, 3), 3, 0);

        // SIGKILL and a restart: the same tasks run on the same GPUs, which stay taken.
        shim.kill();
        shim.restart();
        JsonNode ra = TaskCalls.get(api, a);
        JsonNode rb = TaskCalls.get(api, b);
        assertThat(ra.path("status").asText()).isEqualTo("running");
        assertThat(rb.path("status").asText()).isEqualTo("running");
        assertThat(ids(ra)).isEqualTo(ids(ta));
        assertThat(ids(rb)).isEqualTo(ids(tb));
        assertThat(ra.path("container_id").asText()).isEqualTo(ta.path("container_id").asText());
        assertNoCapacity(api, submitGpuTask(api, 1), 1, 0);
        assertGpuMetrics(api, 4, 0, 0);

        // Once a task is gone its GPUs are handed out again.
        TaskCalls.terminateAndRemove(api, a);
        submitted.remove(a);
        assertGpuMetrics(api, 2, 2, 0);
        String e = submitGpuTask(api, 2);
        JsonNode te = TaskCalls.awaitStatus(api, e, "running");
        assertThat(ids(te)).containsExactlyInAnyOrderElementsOf(ids(ta));
        assertThat(runnerEnv(te).get("NVIDIA_VISIBLE_DEVICES")).isEqualTo(String.join(",", ids(te)));

        // nvidia-smi now reports uncorrectable ECC errors on GPU 1: one failing incident.
        Files.createFile(tmp.resolve("bin/unhealthy"));
        JsonNode sick = api.get("/api/instance/health").json().path("dcgm");
        assertThat(sick.path("overall_health").asInt()).isEqualTo(20);
        assertThat(sick.path("incidents")).hasSize(1);
        JsonNode incident = sick.path("incidents").get(0);
        assertThat(incident.path("entity_id").asInt()).isEqualTo(1);
        assertThat(incident.path("health").asInt()).isEqualTo(20);
        assertThat(incident.path("error_message").asText()).isEqualTo("2 uncorrectable ECC errors since the last driver load");
        assertGpuMetrics(api, 3, 0, 1);
    }

    /**
     * Issue 17's host: 8 PCIe GPUs with NVLink bridges in pairs (0-1, 2-3, 4-5, 6-7), 0-3 on NUMA node 0
     * and 4-7 on node 1. The fake {@code nvidia-smi} prints the recorded {@code topo -m} matrix (tabs and
     * underline escapes as the driver writes them) and 8 GPUs for the device query. Tasks of 1, 2 and 4
     * GPUs get GPU 0, the NVLink pair 2-3 and the whole second socket, where the lowest indexes would
     * have given 1-2 (no NVLink) and 3-6 (both sockets); the shim's log says why.
     */
    @Test
    void tasksOnAPcieHostWithNvlinkPairsGetALinkedPairAndAWholeSocket() throws Exception {
        Path devices = RepoPaths.fixture("gpu-nvidia", "nvidia-smi/h100-x8.csv");
        FakeExecutables tools = new FakeExecutables(tmp.resolve("bin"));
        tools.script("nvidia-smi", """
                case "$*" in
                  'topo -m') cat '%s' ;;
                  *--query-gpu=name,*) cat '%s' ;;
                esac
                """.formatted(RepoPaths.fixture("gpu-nvidia", "nvidia-smi/topo/pcie-a6000-x8-nvlink-pairs.raw"), devices));
        ApiClient api = startShim("gpu-nvidia", "/dev/nvidiactl", new FakeHost(tmp.resolve("root")), tools);
        List<String> uuids = Files.readAllLines(devices).stream().map(line -> line.split(", ")[2]).toList();

        JsonNode one = TaskCalls.awaitStatus(api, submitGpuTask(api, 1), "running");
        JsonNode two = TaskCalls.awaitStatus(api, submitGpuTask(api, 2), "running");
        JsonNode four = TaskCalls.awaitStatus(api, submitGpuTask(api, 4), "running");

        assertThat(ids(one)).containsExactly(uuids.get(0));
        assertThat(ids(two)).containsExactly(uuids.get(2), uuids.get(3));
        assertThat(ids(four)).containsExactlyElementsOf(uuids.subList(4, 8));
        assertThat(runnerEnv(two).get("NVIDIA_VISIBLE_DEVICES")).isEqualTo(uuids.get(2) + "," + uuids.get(3));
        assertThat(shim.output()).contains(
                "gets nvidia devices [2, 3] of free [1, 2, 3, 4, 5, 6, 7]: 1xNV4, NUMA node 0; lowest indexes [1, 2] would be linked 1xNODE",
                "gets nvidia devices [4, 5, 6, 7] of free [1, 4, 5, 6, 7]: 2xNV4, 4xNODE, NUMA node 1;"
                        + " lowest indexes [1, 4, 5, 6] would be linked 1xNV4, 2xNODE, 3xSYS");
        assertGpuMetrics(api, 7, 1, 0);
    }

    @Test
    void aHookFailingOnTheMissingModesetDeviceIsRetriedWithoutDisplay() throws Exception {
        Files.createFile(hookDir.resolve("fail-on-display"));
        ApiClient api = startNvidiaShim();
        JsonNode task = TaskCalls.awaitStatus(api, submitGpuTask(api, 1), "running");
        assertThat(runnerEnv(task).get("NVIDIA_DRIVER_CAPABILITIES").split(","))
                .containsExactlyInAnyOrder("utility", "compute", "graphics", "video", "compat32");
    }

    @Test
    void aGaudiTaskRunsWithTheHabanaRuntimeAndItsVisibleDevices() {
        ApiClient api = startShim("gpu-gaudi", "/dev/accel/accel0", "hl-smi", "hl-smi/gaudi2-x8.csv", new FakeHost(tmp.resolve("root")));
        JsonNode task = TaskCalls.awaitStatus(api, submitGpuTask(api, 2), "running");
        assertThat(runnerEnv(task).get("HABANA_VISIBLE_DEVICES")).isEqualTo("0,1");
        InspectContainerResponse c = engine.client().inspectContainerCmd(task.path("container_id").asText()).exec();
        assertThat(c.getHostConfig().getRuntime()).isEqualTo("habana");
        assertThat(c.getHostConfig().getIpcMode()).isEqualTo("host");
        assertThat(c.getHostConfig().getCapAdd()).contains(Capability.SYS_NICE);
    }

    @Test
    void anAmdTaskContainerGetsKfdAndItsRenderNodes() {
        FakeHost tree = new FakeHost(tmp.resolve("root"));
        tree.file("/dev/dri/renderD128", "").link("/dev/dri/by-path/pci-0000:0c:00.0-render", "../renderD128");
        tree.file("/dev/dri/renderD129", "").link("/dev/dri/by-path/pci-0000:22:00.0-render", "../renderD129");
        ApiClient api = startShim("gpu-amd", "/dev/kfd", "amd-smi", "amd-smi/mi300x-x2-array.json", tree);
        // This machine has no /dev/kfd, so the engine cannot start it; the container it made shows the devices.
        JsonNode task = TaskCalls.awaitStatus(api, submitGpuTask(api, 1), "terminated");
        assertThat(ids(task)).containsExactly("/dev/dri/renderD128");
        InspectContainerResponse c = engine.client().inspectContainerCmd(task.path("container_id").asText()).exec();
        assertThat(c.getHostConfig().getDevices()).extracting(Device::getPathOnHost, Device::getPathInContainer, Device::getcGroupPermissions)
                .contains(tuple("/dev/kfd", "/dev/kfd", "rwm"), tuple("/dev/dri/renderD128", "/dev/dri/renderD128", "rwm"));
        assertThat(c.getHostConfig().getIpcMode()).isEqualTo("host");
        assertThat(c.getHostConfig().getCapAdd()).contains(Capability.SYS_PTRACE);
        assertThat(c.getHostConfig().getSecurityOpts()).contains("seccomp=unconfined");
    }
}
