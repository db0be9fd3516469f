package ai.dstack.agent.pluginhost;

import ai.dstack.agent.config.FlagSpec;
import ai.dstack.agent.config.ShimFlags;
import ai.dstack.agent.spi.AcceleratorPlugin;
import ai.dstack.agent.spi.Setting;
import ai.dstack.agent.spi.StoragePlugin;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.logging.Logger;
import java.util.stream.Stream;
import org.pf4j.DefaultPluginManager;
import org.pf4j.PluginManager;
import org.pf4j.PluginState;
import org.pf4j.PluginWrapper;

/**
 * Loads the plugins of {@link PluginSettings#pluginsDir()} with PF4J: every zip or folder there, or
 * only the {@link PluginSettings#selected()} ids (id = zip/folder name). A plugin that fails to load
 * or start is reported in {@link #plugins()} and skipped; the agent goes on without it.
 */
public final class PluginHost implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(PluginHost.class.getName());

    /**
     * What became of one plugin.
     *
     * @param id      plugin id (its zip or folder name)
     * @param version version from its {@code plugin.properties}, "" when it did not load
     * @param state   {@code started}, {@code failed}, {@code not found} or {@code disabled}
     * @param problem why it is not started, "" when it is
     */
    public record LoadedPlugin(String id, String version, String state, String problem) {
    }

    private final PluginManager manager;
    private final List<LoadedPlugin> plugins;

    private PluginHost(PluginManager manager, List<LoadedPlugin> plugins) {
        this.manager = manager;
        this.plugins = List.copyOf(plugins);
    }

    /** Loads and starts the plugins the settings name; never throws for a broken plugin. */
    public static PluginHost load(PluginSettings settings) {
        Path dir = settings.pluginsDir();
        DefaultPluginManager manager = new DefaultPluginManager(dir);
        Map<String, LoadedPlugin> report = new LinkedHashMap<>();
        Map<String, Path> candidates = candidates(dir, report);
        Set<String> selected = settings.selected();
        for (String id : selected) {
            if (!candidates.containsKey(id)) {
                report.put(id, new LoadedPlugin(id, "", "not found", "no " + id + ".zip or " + id + "/ in " + dir));
            }
        }
        for (Map.Entry<String, Path> c : candidates.entrySet()) {
            String id = c.getKey();
            if (!selected.isEmpty() && !selected.contains(id)) {
                report.put(id, new LoadedPlugin(id, "", "disabled", "not in the selected plugins " + selected));
                continue;
            }
            try {
                String loadedId = manager.loadPlugin(c.getValue());
                if (loadedId == null) {
                    report.put(id, new LoadedPlugin(id, "", "failed", "PF4J did not load " + c.getValue().getFileName()));
                } else if (!loadedId.equals(id)) {
                    manager.unloadPlugin(loadedId);
                    report.put(id, new LoadedPlugin(id, "", "failed", "its plugin.id is " + loadedId + ", expected " + id + " (the file name)"));
                }
            } catch (RuntimeException e) {
                report.put(id, new LoadedPlugin(id, "", "failed", "cannot load " + c.getValue().getFileName() + ": " + rootMessage(e)));
            }
        }
        for (PluginWrapper w : manager.getPlugins()) {
            String id = w.getPluginId();
            try {
                PluginState state = manager.startPlugin(id);
                if (state != PluginState.STARTED) {
                    Throwable failure = w.getFailedException();
                    report.put(id, new LoadedPlugin(id, w.getDescriptor().getVersion(), "failed",
                            failure == null ? "state " + state : rootMessage(failure)));
                } else if (manager.getExtensionClassNames(id).isEmpty()) {
                    report.put(id, new LoadedPlugin(id, w.getDescriptor().getVersion(), "failed", "contributes no extension (missing META-INF/extensions.idx)"));
                } else {
                    report.put(id, new LoadedPlugin(id, w.getDescriptor().getVersion(), "started", ""));
                }
            } catch (RuntimeException e) {
                report.put(id, new LoadedPlugin(id, w.getDescriptor().getVersion(), "failed", rootMessage(e)));
            }
        }
        report.values().stream().filter(p -> p.state().equals("failed") || p.state().equals("not found"))
                .forEach(p -> LOG.warning(() -> "plugin " + p.id() + " skipped: " + p.problem()));
        return new PluginHost(manager, new ArrayList<>(report.values()));
    }

    /** Plugin zips and folders by id; PF4J's expanded copy of a zip counts as the zip. */
    private static Map<String, Path> candidates(Path dir, Map<String, LoadedPlugin> report) {
        Map<String, Path> byId = new LinkedHashMap<>();
        if (!Files.isDirectory(dir)) {
            LOG.warning(() -> "plugins folder " + dir + " does not exist: no plugins loaded");
            return byId;
        }
        try (Stream<Path> entries = Files.list(dir)) {
            for (Path p : entries.sorted().toList()) {
                String name = p.getFileName().toString();
                if (name.startsWith(".")) {
                    continue;
                }
                if (name.endsWith(".zip") && Files.isRegularFile(p)) {
                    byId.put(name.substring(0, name.length() - 4), p);
                } else if (Files.isDirectory(p)) {
                    byId.putIfAbsent(name, p);
                }
            }
        } catch (IOException e) {
            LOG.warning(() -> "cannot list plugins folder " + dir + ": " + e.getMessage());
        }
        return byId;
    }

    private static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        String msg = t.getMessage();
        return t == e ? String.valueOf(msg) : e.getMessage() + " (" + t.getClass().getSimpleName() + ": " + msg + ")";
    }

    /** Every plugin the folder had or the selection named, with what became of it; ordered by id. */
    public List<LoadedPlugin> plugins() {
        return plugins.stream().sorted(java.util.Comparator.comparing(LoadedPlugin::id)).toList();
    }

    /** Accelerator extensions of the started plugins. */
    public List<AcceleratorPlugin> accelerators() {
        return manager.getExtensions(AcceleratorPlugin.class);
    }

    /** Storage extensions of the started plugins. */
    public List<StoragePlugin> storage() {
        return manager.getExtensions(StoragePlugin.class);
    }

    /**
     * The settings the started plugins declare, as rows of the agent's configuration table
     * (environment only). A name declared twice, or one the core has, is refused with the plugin's id.
     */
    public List<FlagSpec> declaredSettings() {
        Map<String, FlagSpec> rows = new LinkedHashMap<>();
        Set<String> core = new java.util.HashSet<>();
        ShimFlags.ALL.forEach(f -> core.add(f.name()));
        for (PluginWrapper w : manager.getStartedPlugins()) {
            List<Setting> declared = new ArrayList<>();
            manager.getExtensions(AcceleratorPlugin.class, w.getPluginId()).forEach(e -> declared.addAll(e.settings()));
            manager.getExtensions(StoragePlugin.class, w.getPluginId()).forEach(e -> declared.addAll(e.settings()));
            for (Setting s : declared) {
                if (core.contains(s.name()) || (rows.containsKey(s.name()) && !rows.get(s.name()).equals(row(s)))) {
                    throw new IllegalArgumentException("plugin " + w.getPluginId() + " declares setting " + s.name()
                            + ", which another part of the agent already has");
                }
                rows.put(s.name(), row(s));
            }
        }
        return List.copyOf(rows.values());
    }

    private static FlagSpec row(Setting s) {
        return new FlagSpec(s.name(), s.env(), FlagSpec.Kind.valueOf(s.kind().name()), s.defaultValue(), s.meaning(),
                false, s.oldEnv());
    }

    @Override
    public void close() {
        manager.stopPlugins();
        manager.unloadPlugins();
    }
}
