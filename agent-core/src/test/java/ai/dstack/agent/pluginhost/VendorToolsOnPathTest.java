package ai.dstack.agent.pluginhost;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.groups.Tuple.tuple;

import ai.dstack.agent.config.ConfigException;
import ai.dstack.agent.host.HostInfo;
import ai.dstack.agent.pluginhost.DeviceInventory.VendorState;
import ai.dstack.agent.spi.Device;
import ai.dstack.agent.spi.Fingerprint;
import ai.dstack.agent.spi.TaskMetrics;
import ai.dstack.agent.testing.FakeExecutables;
import ai.dstack.agent.testing.FakeHost;
import ai.dstack.agent.testing.FreePorts;
import ai.dstack.agent.testing.RepoPaths;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The built plugins, loaded by PF4J, running fake vendor tools from {@code PATH} over a fake host
 * tree: the code path of a real host except for the tools' and device files' contents.
 */
class VendorToolsOnPathTest {
    @TempDir
    Path tmp;

    private FakeExecutables tools;
    private FakeHost tree;
    private final Map<String, String> env = new HashMap<>();

    @BeforeEach
    void setUp() {
        tools = new FakeExecutables(tmp.resolve("bin"));
        tree = new FakeHost(tmp.resolve("root"));
        tree.dir("/");
        RepoPaths.copyBuiltPlugins(tmp.resolve("plugins"));
        env.put("PATH", tools.dir() + ":/usr/bin:/bin");
        env.put("DSTACK_SHIM_PLUGINS_DIR", tmp.resolve("plugins").toString());
        env.put("DSTACK_SHIM_HOST_ROOT", tmp.resolve("root").toString());
        env.put("DSTACK_SHIM_TOOL_TIMEOUT_MS", "3000");
    }

    private static Path fixture(String plugin, String file) {
        return RepoPaths.fixture(plugin, file);
    }

    private PluginRuntime start() {
        return start(false);
    }

    private PluginRuntime start(boolean openTaskMetrics) {
        try {
            return PluginRuntime.start(PluginSettings.fromEnv(env), openTaskMetrics);
        } catch (ConfigException e) {
            throw new IllegalStateException(e);
        }
    }

    private static Fingerprint vendor(PluginRuntime rt, String vendor) {
        return rt.inventory().vendors().stream().filter(s -> s.vendor().equals(vendor)).map(VendorState::fingerprint).findFirst().orElseThrow();
    }

    @Test
    void nvidiaSmiOnPathFindsTheGpusAndNvidiaIsPrimary() throws Exception {
        tree.file("/dev/nvidiactl", "");
        tools.printing("nvidia-smi", fixture("gpu-nvidia", "nvidia-smi/l4-x4.csv"));
        try (PluginRuntime rt = start()) {
            assertThat(rt.inventory().primaryVendor()).isEqualTo("nvidia");
            assertThat(rt.gpus().devices()).extracting(Device::id).containsExactly("GPU-aaaaaaaa-0000-0000-0000-000000000000",
                    "GPU-bbbbbbbb-1111-1111-1111-111111111111", "GPU-cccccccc-2222-2222-2222-222222222222", "GPU-dddddddd-3333-3333-3333-333333333333");
            HostInfo info = HostInfo.collect(rt.gpus().devices(), tmp);
            assertThat(List.of(info.gpuVendor(), info.gpuName(), info.gpuMemory(), info.gpuCount())).containsExactly("nvidia", "NVIDIA L4", 23034L, 4);
            assertThat(rt.gpus().devices().getFirst().driverVersion()).isEqualTo("550.90.07");
        }
    }

    @Test
    void aMissingToolLeavesTheHostGpuLessWithTheReason() {
        tree.file("/dev/nvidiactl", "");
        try (PluginRuntime rt = start()) {
            assertThat(vendor(rt, "nvidia").error()).isEqualTo("nvidia-smi: not found on PATH");
            assertThat(rt.inventory().primaryVendor()).isEqualTo("none");
        }
    }

    @Test
    void aHangingToolIsKilledAtTheToolTimeoutWithItsChildren() {
        tree.file("/dev/accel", "");
        env.put("DSTACK_SHIM_TOOL_TIMEOUT_MS", "300");
        tools.script("hl-smi", "sleep 27.1828 ; echo never");
        try (PluginRuntime rt = start()) {
            assertThat(vendor(rt, "intel").error()).isEqualTo("hl-smi: timed out");
        }
        Awaitility.await().atMost(Duration.ofSeconds(5)).until(() ->
                ProcessHandle.allProcesses().noneMatch(p -> p.info().commandLine().orElse("").contains("27.1828")));
    }

    @Test
    void amdSmiRunsThroughDockerWhenNotInstalledAndAFailedRunIsRetriedOnceWithoutDriver() throws IOException {
        tree.file("/dev/kfd", "");
        tree.file("/dev/dri/renderD128", "").link("/dev/dri/by-path/pci-0000:0c:00.0-render", "../renderD128");
        tree.file("/dev/dri/renderD129", "").link("/dev/dri/by-path/pci-0000:22:00.0-render", "../renderD129");
        Path calls = tmp.resolve("docker-calls");
        String expected = "run --rm --device /dev/kfd --device /dev/dri dstackai/amd-smi:latest static --json --asic --vram --bus";
        tools.script("docker", """
                echo "$*" >> '%s'
                case "$*" in
                  "%s --driver") echo 'docker: Error response from daemon: pull access denied for dstackai/amd-smi' >&2; exit 125 ;;
                  "%s") cat '%s' ;;
                  *) echo "unexpected docker arguments: $*" >&2; exit 2 ;;
                esac
                """.formatted(calls, expected, expected, fixture("gpu-amd", "amd-smi/mi300x-x2-array.json")));
        try (PluginRuntime rt = start()) {
            assertThat(rt.gpus().vendor()).isEqualTo("amd");
            assertThat(rt.gpus().devices()).extracting(Device::id).containsExactly("/dev/dri/renderD128", "/dev/dri/renderD129");
        }
        assertThat(Files.readAllLines(calls)).containsExactly(expected + " --driver", expected);
    }

    @Test
    void ttSmiRunsThroughDockerAndAFailedRunIsReportedThenFoundAtTheNextFingerprint() throws IOException {
        tree.dir("/dev/tenstorrent").file("/sys/module/tenstorrent/version", "1.34\n");
        Path calls = tmp.resolve("docker-calls");
        Path failedOnce = tmp.resolve("failed-once");
        tools.script("docker", """
                echo "$*" >> '%s'
                [ "$*" = "run --rm --device /dev/tenstorrent dstackai/tt-smi:latest -s" ] || { echo "unexpected docker arguments: $*" >&2; exit 2; }
                if [ ! -e '%s' ]; then touch '%s'; echo 'docker: Error response from daemon' >&2; exit 125; fi
                cat '%s'
                """.formatted(calls, failedOnce, failedOnce, fixture("gpu-tenstorrent", "tt-smi/n300-x2.json")));
        try (PluginRuntime rt = start()) {
            assertThat(rt.gpus().devices()).isEmpty();
            assertThat(vendor(rt, "tenstorrent").error()).isEqualTo("tt-smi: exit code 125: docker: Error response from daemon");
            assertThat(Files.readAllLines(calls)).hasSize(1);
            rt.inventory().refresh();
            assertThat(rt.gpus().devices()).extracting(Device::id, Device::name, Device::driverVersion)
                    .containsExactly(tuple("0", "n300", "1.34"), tuple("1", "n300", "1.34"));
        }
        assertThat(Files.readAllLines(calls)).hasSize(2);
    }

    @Test
    void theVendorWithTheMostDevicesIsPrimaryAndTheOthersAreStillListed() {
        tree.file("/dev/nvidiactl", "").dir("/dev/accel");
        tools.printing("nvidia-smi", fixture("gpu-nvidia", "nvidia-smi/l4-x4.csv"));
        tools.printing("hl-smi", fixture("gpu-gaudi", "hl-smi/gaudi2-x8.csv"));
        try (PluginRuntime rt = start()) {
            assertThat(rt.inventory().primaryVendor()).isEqualTo("intel");
            assertThat(rt.gpus().devices()).hasSize(8);
            assertThat(vendor(rt, "nvidia").devices()).hasSize(4);
        }
    }

    @Test
    void healthComesFromNvidiaSmiAndDcgmiAndFailingGpusAreNotAllocated() throws Exception {
        tree.file("/dev/nvidiactl", "");
        tools.script("nvidia-smi", """
                case "$1" in
                  --query-gpu=index,*) cat '%s' ;;
                  *) cat '%s' ;;
                esac
                """.formatted(fixture("gpu-nvidia", "nvidia-smi/health-faults.csv"), fixture("gpu-nvidia", "nvidia-smi/l4-x4.csv")));
        tools.script("dcgmi", """
                case "$*" in
                  "health -s a") echo 'Health monitor systems set successfully.' ;;
                  "health -c -j") cat '%s' ;;
                  *) exit 2 ;;
                esac
                """.formatted(fixture("gpu-nvidia", "nvidia-smi/dcgmi-incidents.json")));
        try (PluginRuntime rt = start()) {
            InstanceHealth.Response health = rt.health();
            assertThat(health.dcgm().overallHealth()).isEqualTo(20);
            assertThat(health.dcgm().incidents()).extracting(InstanceHealth.Incident::entityId, InstanceHealth.Incident::health)
                    .containsExactly(tuple(1, 20), tuple(2, 10), tuple(3, 20));
            assertThat(rt.gpus().allocate("t", -1)).containsExactly("GPU-aaaaaaaa-0000-0000-0000-000000000000", "GPU-cccccccc-2222-2222-2222-222222222222");
        }
    }

    @Test
    void dcgmExporterIsStartedOnNvidiaHostsAndItsScrapeIsFilteredPerTask() throws Exception {
        tree.file("/dev/nvidiactl", "");
        tools.printing("nvidia-smi", fixture("gpu-nvidia", "nvidia-smi/l4-x4.csv"));
        Path www = tmp.resolve("www");
        Files.createDirectories(www);
        Files.copy(RepoPaths.root().resolve("agent-core/src/test/resources/dcgm-exporter/scrape.txt"), www.resolve("metrics"));
        tools.script("dcgm-exporter", """
                [ "$1" = "-v" ] && { echo 'DCGM Exporter version 3.3.9-3.6.1'; exit 0; }
                while [ $# -gt 0 ]; do case "$1" in -a) addr="$2"; shift ;; esac; shift; done
                exec busybox httpd -f -p "127.0.0.1:${addr##*:}" -h '%s'
                """.formatted(www));
        env.put("PATH", tools.dir() + ":/usr/bin:/bin");
        env.put("DSTACK_DCGM_EXPORTER_HTTP_PORT", String.valueOf(FreePorts.next()));
        env.put("DSTACK_DCGM_EXPORTER_INTERVAL_MS", "100");
        PluginRuntime rt = start(true);
        TaskMetrics metrics = rt.taskMetrics().orElseThrow();
        try {
            Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> scrapes(metrics, "GPU-bbbbbbbb-1111-1111-1111-111111111111"));
            assertThat(metrics.scrape(List.of("GPU-bbbbbbbb-1111-1111-1111-111111111111")))
                    .contains("DCGM_FI_DEV_GPU_UTIL{gpu=\"1\"").doesNotContain("GPU-aaaaaaaa");
            assertThat(metrics.scrape(List.of())).isEqualTo("");
        } finally {
            rt.close();
        }
        Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> !scrapes(metrics, "GPU-b"));
    }

    /** Whether the source answers now (a scrape that fails throws). */
    private static boolean scrapes(TaskMetrics metrics, String id) {
        try {
            metrics.scrape(List.of(id));
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    @Test
    void withoutDcgmExporterMetricsAreUnavailable() {
        tree.file("/dev/nvidiactl", "");
        tools.printing("nvidia-smi", fixture("gpu-nvidia", "nvidia-smi/l4-x4.csv"));
        try (PluginRuntime rt = start(true)) {
            assertThat(rt.taskMetrics()).isEmpty();
        }
    }
}
