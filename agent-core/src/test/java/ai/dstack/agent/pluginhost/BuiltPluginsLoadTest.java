package ai.dstack.agent.pluginhost;

import static org.assertj.core.api.Assertions.assertThat;

import ai.dstack.agent.testing.RepoPaths;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.pf4j.DefaultPluginManager;
import org.pf4j.PluginState;
import org.pf4j.PluginWrapper;

/**
 * The built plugin zips load with PF4J and each contributes at least one extension. Guards the
 * JDK 23+ trap where javac skips PF4J's annotation processor and a plugin silently has none.
 */
class BuiltPluginsLoadTest {
    static final List<String> BUNDLED = List.of("gpu-amd", "gpu-gaudi", "gpu-nvidia", "gpu-tenstorrent", "storage-ext4");

    @Test
    void everyBuiltPluginLoadsAndContributesAnExtension(@TempDir Path pluginsDir) throws IOException {
        try (Stream<Path> zips = Files.list(RepoPaths.builtPlugins())) {
            for (Path zip : zips.filter(p -> p.toString().endsWith(".zip")).toList()) {
                Files.copy(zip, pluginsDir.resolve(zip.getFileName()));
            }
        }
        var manager = new DefaultPluginManager(pluginsDir);
        manager.loadPlugins();
        manager.startPlugins();

        assertThat(manager.getPlugins()).extracting(PluginWrapper::getPluginId).containsExactlyInAnyOrderElementsOf(BUNDLED);
        for (PluginWrapper plugin : manager.getPlugins()) {
            assertThat(plugin.getPluginState()).as(plugin.getPluginId()).isEqualTo(PluginState.STARTED);
            assertThat(manager.getExtensionClassNames(plugin.getPluginId()))
                    .as("extensions of " + plugin.getPluginId() + " (is PF4J's annotation processor configured?)")
                    .isNotEmpty();
            assertThat(manager.getExtensions(plugin.getPluginId())).as(plugin.getPluginId()).isNotEmpty();
        }
        manager.stopPlugins();
        manager.unloadPlugins();
    }
}
