package ai.dstack.agent.pluginhost;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.dstack.agent.config.ConfigException;
import ai.dstack.agent.config.FlagSpec;
import ai.dstack.agent.pluginhost.PluginHost.LoadedPlugin;
import ai.dstack.agent.spi.AcceleratorPlugin;
import ai.dstack.agent.spi.StoragePlugin;
import ai.dstack.agent.testing.RepoPaths;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The built plugin zips dropped into a plugins folder, as an operator would. */
class PluginHostTest {
    @TempDir
    Path dir;

    private PluginSettings settings(String selected) {
        return PluginSettings.fromEnv(Map.of("DSTACK_SHIM_PLUGINS_DIR", dir.toString(), "DSTACK_SHIM_PLUGINS", selected));
    }

    @Test
    void everyBundledPluginStartsAndContributesItsExtensions() {
        RepoPaths.copyBuiltPlugins(dir);
        try (PluginHost host = PluginHost.load(settings(""))) {
            assertThat(host.plugins()).extracting(LoadedPlugin::id, LoadedPlugin::state).containsExactly(
                    org.assertj.core.groups.Tuple.tuple("gpu-amd", "started"), org.assertj.core.groups.Tuple.tuple("gpu-gaudi", "started"),
                    org.assertj.core.groups.Tuple.tuple("gpu-nvidia", "started"), org.assertj.core.groups.Tuple.tuple("gpu-tenstorrent", "started"),
                    org.assertj.core.groups.Tuple.tuple("storage-ext4", "started"));
            assertThat(host.plugins()).allSatisfy(p -> assertThat(p.version()).isNotEmpty());
            assertThat(host.accelerators()).extracting(AcceleratorPlugin::vendor).containsExactlyInAnyOrder("nvidia", "amd", "intel", "tenstorrent");
            assertThat(host.storage()).extracting(StoragePlugin::filesystem).containsExactly("ext4");
        }
    }

    @Test
    void onlyTheSelectedPluginsLoadAndAnUnknownIdIsReported() {
        RepoPaths.copyBuiltPlugins(dir);
        try (PluginHost host = PluginHost.load(settings("gpu-nvidia, storage-ext4,gpu-nope"))) {
            assertThat(host.accelerators()).extracting(AcceleratorPlugin::vendor).containsExactly("nvidia");
            assertThat(host.storage()).hasSize(1);
            assertThat(host.plugins()).filteredOn(p -> p.id().equals("gpu-amd")).singleElement()
                    .satisfies(p -> assertThat(p.state()).isEqualTo("disabled"));
            assertThat(host.plugins()).filteredOn(p -> p.id().equals("gpu-nope")).singleElement()
                    .satisfies(p -> assertThat(p.state()).isEqualTo("not found"))
                    .satisfies(p -> assertThat(p.problem()).contains("no gpu-nope.zip"));
        }
    }

    @Test
    void aBrokenPluginIsSkippedWithAClearMessageAndTheOthersWork() throws IOException {
        RepoPaths.copyBuiltPlugins(dir, "gpu-nvidia");
        Files.write(dir.resolve("gpu-corrupt.zip"), "this is not a zip".getBytes());
        zip(dir.resolve("gpu-nodescriptor.zip"), Map.of("classes/readme.txt", "no plugin.properties here"));
        zip(dir.resolve("gpu-misnamed.zip"), Map.of("plugin.properties", "plugin.id=gpu-other\nplugin.version=1.0.0\n"));
        try (PluginHost host = PluginHost.load(settings(""))) {
            assertThat(host.accelerators()).extracting(AcceleratorPlugin::vendor).containsExactly("nvidia");
            assertThat(host.plugins()).filteredOn(p -> p.id().equals("gpu-corrupt")).singleElement().satisfies(p -> {
                assertThat(p.state()).isEqualTo("failed");
                assertThat(p.problem()).startsWith("cannot load gpu-corrupt.zip");
            });
            assertThat(host.plugins()).filteredOn(p -> p.id().equals("gpu-nodescriptor")).singleElement()
                    .satisfies(p -> assertThat(p.state()).isEqualTo("failed"));
            assertThat(host.plugins()).filteredOn(p -> p.id().equals("gpu-misnamed")).singleElement()
                    .satisfies(p -> assertThat(p.state()).isEqualTo("failed"))
                    .satisfies(p -> assertThat(p.problem()).contains("gpu-other"));
        }
    }

    @Test
    void pluginSettingsJoinTheTableAndAreReadFromTheEnvironmentUnderTheirCurrentOrOldNames() throws Exception {
        RepoPaths.copyBuiltPlugins(dir, "storage-ext4");
        Map<String, String> env = Map.of("DSTACK_SHIM_PLUGINS_DIR", dir.toString(),
                "DSTACK_SHIM_VOLUME_ATTACH_TIMEOUT", "1234", "DSTACK_SHIM_VOLUME_READY_TIMEOUT_MS", "77",
                "DSTACK_SHIM_VOLUME_READY_TIMEOUT", "88");
        PluginSettings settings = PluginSettings.fromEnv(env);
        try (PluginHost host = PluginHost.load(settings)) {
            assertThat(host.declaredSettings()).extracting(FlagSpec::env).contains("DSTACK_SHIM_VOLUME_ATTACH_TIMEOUT_MS",
                    "DSTACK_SHIM_VOLUME_FORMAT_TIMEOUT_MS");
            LocalHost local = PluginRuntime.hostFor(host, settings);
            assertThat(local.millis("volume-attach-timeout-ms")).isEqualTo(Duration.ofMillis(1234));
            assertThat(local.millis("volume-ready-timeout-ms")).isEqualTo(Duration.ofMillis(77));
            assertThat(local.millis("volume-format-timeout-ms")).isEqualTo(Duration.ofMinutes(10));
            assertThat(local.setting("dcgm-exporter-http-port")).isEqualTo("10997");
        }
    }

    @Test
    void aPluginSettingThatDoesNotParseStopsTheAgentNamingTheVariable() {
        RepoPaths.copyBuiltPlugins(dir, "storage-ext4");
        PluginSettings settings = PluginSettings.fromEnv(Map.of("DSTACK_SHIM_PLUGINS_DIR", dir.toString(),
                "DSTACK_SHIM_VOLUME_ATTACH_TIMEOUT", "soon"));
        try (PluginHost host = PluginHost.load(settings)) {
            assertThatThrownBy(() -> PluginRuntime.hostFor(host, settings)).isInstanceOf(ConfigException.class)
                    .hasMessageContaining("\"soon\" for DSTACK_SHIM_VOLUME_ATTACH_TIMEOUT");
        }
    }

    @Test
    void aMissingFolderMeansNoPluginsNotACrash() {
        PluginSettings s = PluginSettings.fromEnv(Map.of("DSTACK_SHIM_PLUGINS_DIR", dir.resolve("absent").toString()));
        try (PluginHost host = PluginHost.load(s)) {
            assertThat(host.plugins()).isEmpty();
            assertThat(host.accelerators()).isEmpty();
        }
    }

    private static void zip(Path file, Map<String, String> entries) throws IOException {
        try (OutputStream out = Files.newOutputStream(file); ZipOutputStream zip = new ZipOutputStream(out)) {
            for (var e : entries.entrySet()) {
                zip.putNextEntry(new ZipEntry(e.getKey()));
                zip.write(e.getValue().getBytes());
                zip.closeEntry();
            }
        }
    }
}
