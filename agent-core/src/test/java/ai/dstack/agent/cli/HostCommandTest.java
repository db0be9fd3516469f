package ai.dstack.agent.cli;

import static org.assertj.core.api.Assertions.assertThat;

import ai.dstack.agent.testing.FakeExecutables;
import ai.dstack.agent.testing.FakeHost;
import ai.dstack.agent.testing.RepoPaths;
import ai.dstack.agent.pluginhost.InventoryState;
import ai.dstack.agent.spi.Device;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HostCommandTest {
    @TempDir
    Path tmp;

    private Map<String, String> env;

    @BeforeEach
    void fakeHostWithFourL4sAndNoGaudiTool() {
        FakeExecutables tools = new FakeExecutables(tmp.resolve("bin"));
        tools.printing("nvidia-smi", RepoPaths.fixture("gpu-nvidia", "nvidia-smi/l4-x4.csv"));
        new FakeHost(tmp.resolve("root")).file("/dev/nvidiactl", "").dir("/dev/accel");
        RepoPaths.copyBuiltPlugins(tmp.resolve("plugins"));
        env = Map.of("PATH", tools.dir() + ":/usr/bin:/bin", "DSTACK_SHIM_PLUGINS_DIR", tmp.resolve("plugins").toString(),
                "DSTACK_SHIM_HOST_ROOT", tmp.resolve("root").toString(), "DSTACK_SHIM_HOME", tmp.resolve("home").toString());
    }

    /** A running shim's state on the home: two of the four GPUs kept after a failed refresh, written by {@code pid}. */
    private void stateOf(long pid, String pidStartedAt) throws Exception {
        List<Device> two = List.of(Device.of("nvidia", "GPU-kept-0", 0, "NVIDIA L4", 23034, "550.90.07"),
                Device.of("nvidia", "GPU-kept-1", 1, "NVIDIA L4", 23034, "550.90.07"));
        new InventoryState(pid, pidStartedAt, "2026-12-06T03:00:05Z", "nvidia", List.of(
                new InventoryState.Vendor("nvidia", true, two, "2026-12-06T02:59:00Z", false,
                        new InventoryState.Failure("2026-12-06T03:00:05Z", "nvidia-smi: exit code 9: NVIDIA-SMI has failed\nno driver"))))
                .write(tmp.resolve("home").resolve(InventoryState.FILE_NAME));
    }

    private static String thisProcessStart() {
        return ProcessHandle.current().info().startInstant().orElseThrow().toString();
    }

    private String run(int expectedExit, String... args) {
        var bytes = new ByteArrayOutputStream();
        int exit = HostCommand.run(List.of(args), env, new PrintStream(bytes, true, StandardCharsets.UTF_8));
        String out = bytes.toString(StandardCharsets.UTF_8);
        assertThat(exit).as(out).isEqualTo(expectedExit);
        return out;
    }

    @Test
    void jsonListsPluginsVendorsDevicesAndHostFacts() throws Exception {
        JsonNode json = new ObjectMapper().readTree(run(0, "--json"));
        assertThat(json.path("primary_vendor").asText()).isEqualTo("nvidia");
        assertThat(json.path("plugins")).hasSize(5);
        assertThat(json.path("plugins").get(0).path("state").asText()).isEqualTo("started");
        JsonNode nvidia = json.path("accelerators").get(0);
        assertThat(nvidia.path("vendor").asText()).isEqualTo("nvidia");
        assertThat(nvidia.path("devices")).hasSize(4);
        assertThat(json.path("accelerators").get(2).path("error").asText()).isEqualTo("hl-smi: not found on PATH");
        assertThat(json.path("host_info").path("gpu_vendor").asText()).isEqualTo("nvidia");
        assertThat(json.path("host_info").path("gpu_count").asInt()).isEqualTo(4);
        assertThat(json.path("host_info").path("addresses").isArray()).isTrue();
    }

    @Test
    void textIsReadableAndHonoursThePluginSelection() {
        String out = run(0, "--plugins", "gpu-nvidia");
        assertThat(out).contains("gpu-nvidia", "started", "gpu-amd", "disabled", "primary vendor: nvidia",
                "[0] NVIDIA L4, 23034 MiB, id GPU-aaaaaaaa-0000-0000-0000-000000000000", "driver 550.90.07, healthy");
        assertThat(out).doesNotContain("intel:");
    }

    @Test
    void withAShimRunningOnTheHomeItShowsTheShimsDevicesAndItsLastRefreshError() throws Exception {
        stateOf(ProcessHandle.current().pid(), thisProcessStart());
        String out = run(0);
        assertThat(out).contains("Accelerators (of the running shim, pid " + ProcessHandle.current().pid(),
                "nvidia: 2 device(s) (kept by the running shim, pid " + ProcessHandle.current().pid() + ", found at 2026-12-06T02:59:00Z;"
                + " last refresh failed at 2026-12-06T03:00:05Z: nvidia-smi: exit code 9: NVIDIA-SMI has failed no driver)",
                "[1] NVIDIA L4, 23034 MiB, id GPU-kept-1", "gpu_count 2");

        JsonNode json = new ObjectMapper().readTree(run(0, "--json"));
        assertThat(json.path("devices_from").path("kind").asText()).isEqualTo("running_shim");
        assertThat(json.path("devices_from").path("pid").asLong()).isEqualTo(ProcessHandle.current().pid());
        JsonNode nvidia = json.path("accelerators").get(0);
        assertThat(nvidia.path("devices")).hasSize(2);
        assertThat(nvidia.path("last_failure").path("at").asText()).isEqualTo("2026-12-06T03:00:05Z");
        assertThat(nvidia.path("error").asText()).isEqualTo("nvidia-smi: exit code 9: NVIDIA-SMI has failed no driver");
        assertThat(json.path("host_info").path("gpu_count").asInt()).isEqualTo(2);
    }

    @Test
    void aStateLeftByAShimThatNoLongerRunsIsIgnoredAndSaidSo() throws Exception {
        Process ended = new ProcessBuilder("true").start();
        ended.waitFor();
        stateOf(ended.pid(), "");
        String out = run(0, "--shim-home", tmp.resolve("home").toString());
        assertThat(out).contains("Accelerators (fingerprinted by this command; primary vendor: nvidia)",
                "note: shim pid " + ended.pid() + " (" + tmp.resolve("home").resolve(InventoryState.FILE_NAME) + ") no longer runs",
                "nvidia: 4 device(s)", "gpu_count 4");
        assertThat(out).doesNotContain("running shim");
        // Another home: no state there, no note.
        assertThat(run(0, "--shim-home=" + tmp.resolve("elsewhere"))).contains("nvidia: 4 device(s)").doesNotContain("note:");
    }

    @Test
    void aBadArgumentIsAUsageError() {
        assertThat(run(2, "--bogus")).contains("unknown argument: --bogus", "usage: dstack-shim host");
    }
}
