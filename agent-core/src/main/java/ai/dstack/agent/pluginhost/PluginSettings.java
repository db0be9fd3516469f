package ai.dstack.agent.pluginhost;

import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * How the agent finds, picks and runs its plugins.
 *
 * @param pluginsDir           folder of plugin zips/folders ({@code --plugins-dir}, {@code DSTACK_SHIM_PLUGINS_DIR})
 * @param selected             plugin ids to load ({@code --plugins}, {@code DSTACK_SHIM_PLUGINS}); empty = all
 * @param hostRoot             where host paths are read from ({@code DSTACK_SHIM_HOST_ROOT}, default {@code /})
 * @param toolTimeout          how long a vendor tool may run ({@code DSTACK_SHIM_TOOL_TIMEOUT} ms, default 2 min)
 * @param fingerprintInterval  how often devices are looked for again ({@code DSTACK_SHIM_FINGERPRINT_INTERVAL} ms, default 60 s)
 * @param values               configuration values passed through to plugins by name (the Go shim's
 *                             {@code --dcgm-*} flags), read with {@code HostContext.setting(name)}
 * @param env                  the agent's environment: {@code PATH} for tools, {@code DSTACK_SHIM_<KEY>} plugin waits
 */
public record PluginSettings(Path pluginsDir, Set<String> selected, Path hostRoot, Duration toolTimeout,
                             Duration fingerprintInterval, Map<String, String> values, Map<String, String> env) {
    public PluginSettings {
        selected = Set.copyOf(selected);
        values = Map.copyOf(values);
        env = Map.copyOf(env);
    }

    /**
     * Settings from the environment; a value that does not parse is an {@link IllegalArgumentException}
     * naming the variable.
     */
    public static PluginSettings fromEnv(Map<String, String> env) {
        String dir = env.get("DSTACK_SHIM_PLUGINS_DIR");
        String root = env.get("DSTACK_SHIM_HOST_ROOT");
        return new PluginSettings(
                dir == null || dir.isBlank() ? defaultPluginsDir() : Path.of(dir),
                parseIds(env.getOrDefault("DSTACK_SHIM_PLUGINS", "")),
                root == null || root.isBlank() ? Path.of("/") : Path.of(root),
                millis(env, "DSTACK_SHIM_TOOL_TIMEOUT", 120_000),
                millis(env, "DSTACK_SHIM_FINGERPRINT_INTERVAL", 60_000),
                Map.of("dcgm-exporter-http-port", String.valueOf(number(env, "DSTACK_DCGM_EXPORTER_HTTP_PORT", 10997, 65535)),
                        "dcgm-exporter-interval", String.valueOf(number(env, "DSTACK_DCGM_EXPORTER_INTERVAL", 5000, Long.MAX_VALUE)),
                        "dcgm-address", env.getOrDefault("DSTACK_DCGM_ADDRESS", "")),
                env);
    }

    /** The same settings with the {@code --plugins-dir} flag's value. */
    public PluginSettings withPluginsDir(Path dir) {
        return new PluginSettings(dir, selected, hostRoot, toolTimeout, fingerprintInterval, values, env);
    }

    /** The same settings with the {@code --plugins} flag's comma-separated ids. */
    public PluginSettings withSelected(String csv) {
        return new PluginSettings(pluginsDir, parseIds(csv), hostRoot, toolTimeout, fingerprintInterval, values, env);
    }

    /** The same settings reading the host under another root (tests, chroot-style installs). */
    public PluginSettings withHostRoot(Path root) {
        return new PluginSettings(pluginsDir, selected, root, toolTimeout, fingerprintInterval, values, env);
    }

    /** The same settings passing these configuration values to plugins. */
    public PluginSettings withValues(Map<String, String> passed) {
        return new PluginSettings(pluginsDir, selected, hostRoot, toolTimeout, fingerprintInterval, passed, env);
    }

    static Set<String> parseIds(String csv) {
        return Arrays.stream(csv.split(",")).map(String::strip).filter(s -> !s.isEmpty())
                .collect(Collectors.toCollection(LinkedHashSet::new));
    }

    private static Duration millis(Map<String, String> env, String name, long fallback) {
        return Duration.ofMillis(number(env, name, fallback, Long.MAX_VALUE));
    }

    private static long number(Map<String, String> env, String name, long fallback, long max) {
        String value = env.get(name);
        if (value == null || value.isBlank()) {
            return fallback;
        }
        try {
            long n = Long.parseLong(value.strip());
            if (n >= 0 && n <= max) {
                return n;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IllegalArgumentException(name + "=" + value + ": expected a whole number from 0 to " + max);
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
