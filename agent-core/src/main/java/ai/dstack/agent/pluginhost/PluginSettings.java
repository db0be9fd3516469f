package ai.dstack.agent.pluginhost;

import ai.dstack.agent.config.ConfigException;
import ai.dstack.agent.config.ShimConfig;
import ai.dstack.agent.config.ShimFlags;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * How the agent finds, picks and runs its plugins: the plugin part of the configuration table
 * ({@link ShimFlags}), which is read once; nothing here reads the environment itself.
 *
 * @param pluginsDir           folder of plugin zips/folders ({@code --plugins-dir})
 * @param selected             plugin ids to load ({@code --plugins}); empty = all
 * @param hostRoot             where host paths are read from ({@code --host-root})
 * @param toolTimeout          how long a vendor tool may run ({@code --tool-timeout-ms})
 * @param fingerprintInterval  how often devices are looked for again ({@code --fingerprint-interval-ms})
 * @param values               settings plugins read by name ({@code HostContext.setting}): the core's
 *                             {@link ShimFlags#PASSED_TO_PLUGINS}; the plugins' own are added at load
 * @param env                  the agent's environment: {@code PATH} for tools, and where the plugins'
 *                             declared settings are read from
 */
public record PluginSettings(Path pluginsDir, Set<String> selected, Path hostRoot, Duration toolTimeout,
                             Duration fingerprintInterval, Map<String, String> values, Map<String, String> env) {
    public PluginSettings {
        selected = Set.copyOf(selected);
        values = Map.copyOf(values);
        env = Map.copyOf(env);
    }

    /** The plugin settings of a configuration read from {@code env}. */
    public static PluginSettings of(ShimConfig config, Map<String, String> env) {
        return new PluginSettings(
                config.pluginsDir().isBlank() ? defaultPluginsDir() : Path.of(config.pluginsDir()),
                parseIds(config.plugins()), config.hostRoot(), config.waits().tool(), config.waits().fingerprint(),
                config.pluginValues(), env);
    }

    /**
     * The plugin settings of the configuration this environment gives (no flags); a value that does
     * not parse is an {@link IllegalArgumentException} naming the variable.
     */
    public static PluginSettings fromEnv(Map<String, String> env) {
        try {
            return of(ShimFlags.parse(List.of(), env), env);
        } catch (ConfigException e) {
            throw new IllegalArgumentException(e.getMessage(), e);
        }
    }

    /** The same settings with another plugins folder (the {@code host} command's {@code --plugins-dir}). */
    public PluginSettings withPluginsDir(Path dir) {
        return new PluginSettings(dir, selected, hostRoot, toolTimeout, fingerprintInterval, values, env);
    }

    /** The same settings with other comma-separated ids (the {@code host} command's {@code --plugins}). */
    public PluginSettings withSelected(String csv) {
        return new PluginSettings(pluginsDir, parseIds(csv), hostRoot, toolTimeout, fingerprintInterval, values, env);
    }

    /** The same settings with more values plugins may read (the plugins' declared settings). */
    public PluginSettings withValues(Map<String, String> more) {
        Map<String, String> all = new LinkedHashMap<>(values);
        all.putAll(more);
        return new PluginSettings(pluginsDir, selected, hostRoot, toolTimeout, fingerprintInterval, all, env);
    }

    static Set<String> parseIds(String csv) {
        return Arrays.stream(csv.split(",")).map(String::strip).filter(s -> !s.isEmpty())
                .collect(Collectors.toCollection(LinkedHashSet::new));
    }

    /**
     * The {@code plugins/} folder of the install (next to the agent's jar, or one level up when the
     * jar sits in {@code lib/}); in the source tree, the build's {@code plugins/target/plugins}.
     */
    static Path defaultPluginsDir() {
        Path jarDir;
        try {
            jarDir = Path.of(PluginSettings.class.getProtectionDomain().getCodeSource().getLocation().toURI()).getParent();
        } catch (URISyntaxException | RuntimeException e) {
            return Path.of("plugins");
        }
        for (Path dir = jarDir; dir != null; dir = dir.getParent()) {
            if (Files.isDirectory(dir.resolve("plugins/target/plugins"))) {
                return dir.resolve("plugins/target/plugins");
            }
            if (Files.isDirectory(dir.resolve("plugins")) && !Files.exists(dir.resolve("plugins/pom.xml"))) {
                return dir.resolve("plugins");
            }
        }
        return jarDir.resolve("plugins");
    }
}
