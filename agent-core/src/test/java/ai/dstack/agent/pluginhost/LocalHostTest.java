package ai.dstack.agent.pluginhost;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.dstack.agent.spi.ToolResult;
import ai.dstack.agent.testing.FakeExecutables;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LocalHostTest {
    @TempDir
    Path tmp;

    private LocalHost host(Map<String, String> env) {
        return new LocalHost(tmp.resolve("root"), Duration.ofSeconds(5), Map.of("dcgm-exporter-http-port", "10997"), env);
    }

    @Test
    void readsUnderTheRootAndResolvesLinksAsIfTheRootWereSlash() throws Exception {
        Path byPath = Files.createDirectories(tmp.resolve("root/dev/dri/by-path"));
        Files.createSymbolicLink(byPath.resolve("pci-0000:01:00.0-render"), Path.of("../renderD128"));
        Files.createSymbolicLink(byPath.resolve("absolute"), Path.of("/dev/dri/renderD129"));
        LocalHost host = host(Map.of());
        assertThat(host.hostPath("/dev/kfd")).isEqualTo(tmp.resolve("root/dev/kfd"));
        assertThat(host.readLink("/dev/dri/by-path/pci-0000:01:00.0-render")).isEqualTo("/dev/dri/renderD128");
        assertThat(host.readLink("/dev/dri/by-path/absolute")).isEqualTo("/dev/dri/renderD129");
        assertThat(host.readLink("/dev/dri/by-path/missing")).isNull();
    }

    @Test
    void runsToolsFromItsPathWithTheirOutputAndExitCode() {
        FakeExecutables tools = new FakeExecutables(tmp.resolve("bin"));
        tools.script("vendor-smi", "echo \"out $*\"; echo err >&2; exit 3");
        LocalHost host = host(Map.of("PATH", tools.dir() + ":/usr/bin:/bin"));
        assertThat(host.run(List.of("vendor-smi", "a", "b"))).isEqualTo(new ToolResult(3, "out a b\n", "err\n", false, false));
        assertThat(host.run(List.of("absent-smi")).notFound()).isTrue();
        assertThat(host(Map.of("PATH", "/nonexistent")).run(List.of("vendor-smi")).notFound()).isTrue();
    }

    @Test
    void passedThroughValuesAreReadByNameAndAnUnknownNameIsRefused() {
        LocalHost host = host(Map.of());
        assertThat(host.setting("dcgm-exporter-http-port")).isEqualTo("10997");
        assertThatThrownBy(() -> host.setting("dcgm-exporter-port")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("dcgm-exporter-port");
    }

    @Test
    void aToolMissingFromPathRunsFromItsImageWithTheDockerArguments() {
        FakeExecutables tools = new FakeExecutables(tmp.resolve("bin"));
        tools.script("docker", "echo \"docker $*\"");
        LocalHost host = host(Map.of("PATH", tools.dir().toString()));
        assertThat(host.runInstalledOrImage("vendor-smi", List.of("--device", "/dev/x"), List.of("-s")).stdout())
                .isEqualTo("docker run --rm --device /dev/x dstackai/vendor-smi:latest -s\n");
        tools.script("vendor-smi", "echo direct $*");
        assertThat(host.runInstalledOrImage("vendor-smi", List.of("--device", "/dev/x"), List.of("-s")).stdout()).isEqualTo("direct -s\n");
    }
}
