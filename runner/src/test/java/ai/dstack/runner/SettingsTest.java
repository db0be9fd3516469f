package ai.dstack.runner;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SettingsTest {
    @Test
    void defaultsApplyWhenTheEnvironmentIsEmpty() {
        Settings s = Settings.fromEnv(Map.of());
        assertThat(s.logsTimeoutMs()).isEqualTo(300_000);
        assertThat(s.gpuToolTimeoutMs()).isEqualTo(5000);
        assertThat(s.gpuMetricsCacheMs()).isEqualTo(2000);
        assertThat(s.reportedVersion()).isNull();
    }

    @Test
    void durationsEndInMsAndTheOldNamesStillWork() {
        Settings old = Settings.fromEnv(Map.of("DSTACK_RUNNER_GPU_TOOL_TIMEOUT", "700", "DSTACK_RUNNER_GPU_METRICS_CACHE", "9"));
        assertThat(old.gpuToolTimeoutMs()).isEqualTo(700);
        assertThat(old.gpuMetricsCacheMs()).isEqualTo(9);
        Settings both = Settings.fromEnv(Map.of("DSTACK_RUNNER_GPU_TOOL_TIMEOUT", "700", "DSTACK_RUNNER_GPU_TOOL_TIMEOUT_MS", "800"));
        assertThat(both.gpuToolTimeoutMs()).as("the new name wins").isEqualTo(800);
        for (Settings.Setting setting : Settings.TABLE) {
            if (!setting.name().endsWith("_BYTES") && !setting.name().equals("DSTACK_REPORTED_VERSION")) {
                assertThat(setting.name()).endsWith("_MS");
            }
        }
    }

    @Test
    void aMalformedNumberNamesTheVariable() {
        assertThatThrownBy(() -> Settings.fromEnv(Map.of("DSTACK_RUNNER_STOP_GRACE_MS", "10s")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("DSTACK_RUNNER_STOP_GRACE_MS");
    }

    @Test
    void theReadmeListsEverySettingWithItsDefault() throws Exception {
        String readme = Files.readString(Path.of("README.md"));
        for (Settings.Setting setting : Settings.TABLE) {
            String row = "| `" + setting.name() + "` |";
            assertThat(readme).as(setting.name()).contains(row);
            String line = readme.lines().filter(l -> l.startsWith(row)).findFirst().orElseThrow();
            if (!setting.fallback().isEmpty()) {
                assertThat(line).as(setting.name() + " default").contains(setting.fallback());
            }
            setting.oldNames().forEach(old -> assertThat(line).contains(old));
        }
    }
}
