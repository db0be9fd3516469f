package ai.dstack.agent.config;

import static org.assertj.core.api.Assertions.assertThat;

import ai.dstack.agent.config.FlagSpec.Kind;
import ai.dstack.agent.pluginhost.PluginHost;
import ai.dstack.agent.pluginhost.PluginSettings;
import ai.dstack.agent.testing.RepoPaths;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The README's configuration table lists every row of the agent's one table: the core's flags and
 * the settings the bundled plugins declare, each with its env var, default and earlier names; every
 * duration ends in {@code _MS}.
 */
class ReadmeConfigTableTest {
    @TempDir
    Path plugins;

    private List<FlagSpec> table() {
        RepoPaths.copyBuiltPlugins(plugins);
        List<FlagSpec> all = new ArrayList<>(ShimFlags.ALL);
        try (PluginHost host = PluginHost.load(PluginSettings.fromEnv(Map.of("DSTACK_SHIM_PLUGINS_DIR", plugins.toString())))) {
            all.addAll(host.declaredSettings());
        }
        return all;
    }

    @Test
    void everyRowIsDocumented() throws Exception {
        String readme = Files.readString(RepoPaths.root().resolve("agent-core/README.md"));
        List<FlagSpec> table = table();
        assertThat(table).extracting(FlagSpec::env).contains("DSTACK_SHIM_VOLUME_FORMAT_TIMEOUT_MS", "DSTACK_SHIM_TOOL_TIMEOUT_MS",
                "DSTACK_SHIM_HOST_ROOT", "DSTACK_SHIM_FINGERPRINT_INTERVAL_MS");
        for (FlagSpec f : table) {
            assertThat(readme).contains(f.flag() ? "| `--" + f.name() + "` | `" + f.env() + "` |" : "| — | `" + f.env() + "` |");
            if (!f.defaultValue().isEmpty()) {
                assertThat(readme).contains("`" + f.defaultValue() + "`");
            }
            for (String old : f.oldNames()) {
                assertThat(readme).contains((old.equals(old.toUpperCase()) ? "`" : "`--") + old + "`");
            }
        }
    }

    @Test
    void everyDurationEndsInMsAndNothingElseDoes() {
        for (FlagSpec f : table()) {
            assertThat(f.kind() == Kind.MILLIS).as(f.name()).isEqualTo(f.name().endsWith("-ms"));
            assertThat(f.kind() == Kind.MILLIS).as(f.env()).isEqualTo(f.env().endsWith("_MS"));
        }
    }
}
