package ai.dstack.agent.cli;

import static org.assertj.core.api.Assertions.assertThat;

import ai.dstack.agent.testing.FakeExecutables;
import ai.dstack.agent.testing.FakeHost;
import ai.dstack.agent.testing.RepoPaths;
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
                "DSTACK_SHIM_HOST_ROOT", tmp.resolve("root").toString());
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
    void aBadArgumentIsAUsageError() {
        assertThat(run(2, "--bogus")).contains("unknown argument: --bogus", "usage: dstack-shim host");
    }
}
