package ai.dstack.agent.pluginhost;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PluginSettingsTest {
    @Test
    void defaultsFollowTheSpec() {
        PluginSettings s = PluginSettings.fromEnv(Map.of());
        assertThat(s.selected()).isEmpty();
        assertThat(s.hostRoot()).isEqualTo(Path.of("/"));
        assertThat(s.toolTimeout()).isEqualTo(Duration.ofMinutes(2));
        assertThat(s.values()).containsEntry("dcgm-exporter-http-port", "10997").containsEntry("dcgm-exporter-interval-ms", "5000")
                .containsEntry("dcgm-address", "");
        assertThat(s.pluginsDir().toString()).endsWith("plugins/target/plugins");
    }

    @Test
    void environmentAndFlagsOverride() {
        PluginSettings s = PluginSettings.fromEnv(Map.of("DSTACK_SHIM_PLUGINS_DIR", "/opt/p", "DSTACK_SHIM_PLUGINS", " gpu-amd,,storage-ext4 ",
                "DSTACK_SHIM_TOOL_TIMEOUT_MS", "1500", "DSTACK_SHIM_FINGERPRINT_INTERVAL_MS", "0"));
        assertThat(s.pluginsDir()).isEqualTo(Path.of("/opt/p"));
        assertThat(s.selected()).containsExactlyInAnyOrder("gpu-amd", "storage-ext4");
        assertThat(s.toolTimeout()).isEqualTo(Duration.ofMillis(1500));
        assertThat(s.fingerprintInterval()).isZero();
        assertThat(s.withSelected("gpu-nvidia").withPluginsDir(Path.of("/x")).selected()).containsExactly("gpu-nvidia");
    }

    @Test
    void theOldNamesWithoutMsKeepWorkingAndTheCurrentNameWins() {
        PluginSettings old = PluginSettings.fromEnv(Map.of("DSTACK_SHIM_TOOL_TIMEOUT", "1500", "DSTACK_SHIM_FINGERPRINT_INTERVAL", "0",
                "DSTACK_DCGM_EXPORTER_INTERVAL", "100"));
        assertThat(old.toolTimeout()).isEqualTo(Duration.ofMillis(1500));
        assertThat(old.fingerprintInterval()).isZero();
        assertThat(old.values()).containsEntry("dcgm-exporter-interval-ms", "100");
        PluginSettings both = PluginSettings.fromEnv(Map.of("DSTACK_SHIM_TOOL_TIMEOUT", "1500", "DSTACK_SHIM_TOOL_TIMEOUT_MS", "2500"));
        assertThat(both.toolTimeout()).isEqualTo(Duration.ofMillis(2500));
    }

    @Test
    void aValueThatDoesNotParseNamesTheVariable() {
        assertThatThrownBy(() -> PluginSettings.fromEnv(Map.of("DSTACK_SHIM_TOOL_TIMEOUT_MS", "2s")))
                .hasMessageContaining("DSTACK_SHIM_TOOL_TIMEOUT_MS").hasMessageContaining("\"2s\"");
        assertThatThrownBy(() -> PluginSettings.fromEnv(Map.of("DSTACK_SHIM_TOOL_TIMEOUT", "2s")))
                .hasMessageContaining("DSTACK_SHIM_TOOL_TIMEOUT").hasMessageContaining("\"2s\"");
        assertThatThrownBy(() -> PluginSettings.fromEnv(Map.of("DSTACK_DCGM_EXPORTER_HTTP_PORT", "70000")))
                .hasMessageContaining("DSTACK_DCGM_EXPORTER_HTTP_PORT");
    }
}
