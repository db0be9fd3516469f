package ai.dstack.agent.pluginhost;

import ai.dstack.agent.config.ConfigException;
import ai.dstack.agent.config.ShimFlags;
import ai.dstack.agent.spi.StoragePlugin;
import ai.dstack.agent.spi.TaskMetrics;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Everything the plugins give the agent, wired once at start: the loaded plugins, the host they read,
 * the device inventory (fingerprinted now, then every interval), the GPU pool the task pipeline uses,
 * the storage extensions, instance health and the primary vendor's per-task metrics source.
 * {@link #close()} stops the poller, the metrics source and the plugins.
 */
public final class PluginRuntime implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(PluginRuntime.class.getName());
    private final PluginHost plugins;
    private final LocalHost host;
    private final DeviceInventory inventory;
    private final GpuPool gpus;
    private final InstanceHealth health;
    private final TaskMetrics taskMetrics;

    private PluginRuntime(PluginHost plugins, LocalHost host, DeviceInventory inventory, TaskMetrics taskMetrics) {
        this.plugins = plugins;
        this.host = host;
        this.inventory = inventory;
        PluginGpuPool pool = new PluginGpuPool(inventory, host);
        inventory.devicesHeldBy(pool::anyHeld);
        this.gpus = pool;
        this.health = new InstanceHealth(inventory);
        this.taskMetrics = taskMetrics;
    }

    /**
     * Loads the plugins, reads their declared settings, fingerprints the host once and starts polling;
     * with {@code openTaskMetrics}, opens the primary vendor's per-task metrics source (if its plugin
     * has one).
     *
     * @throws ConfigException when a plugin setting's value does not parse (the agent does not start)
     */
    public static PluginRuntime start(PluginSettings settings, boolean openTaskMetrics) throws ConfigException {
        return start(settings, openTaskMetrics, null);
    }

    /**
     * As {@link #start(PluginSettings, boolean)}, writing the inventory's state to {@code stateFile}
     * after every refresh (the shim: {@code <home>/devices.json}; null: nowhere).
     */
    public static PluginRuntime start(PluginSettings settings, boolean openTaskMetrics, Path stateFile) throws ConfigException {
        PluginHost plugins = PluginHost.load(settings);
        LocalHost host;
        try {
            host = hostFor(plugins, settings);
        } catch (ConfigException e) {
            plugins.close();
            throw e;
        }
        DeviceInventory inventory = new DeviceInventory(plugins.accelerators(), host);
        if (stateFile != null) {
            inventory.writeStateTo(stateFile);
        }
        inventory.refresh();
        inventory.startPolling(settings.fingerprintInterval());
        TaskMetrics metrics = openTaskMetrics ? openTaskMetrics(inventory, host) : null;
        return new PluginRuntime(plugins, host, inventory, metrics);
    }

    /**
     * The host lent to these plugins: the plugins' declared settings join the configuration table,
     * read from the same environment with the same checks as the core's.
     *
     * @throws ConfigException when a value does not parse or a plugin declares a name already taken
     */
    public static LocalHost hostFor(PluginHost plugins, PluginSettings settings) throws ConfigException {
        try {
            return LocalHost.of(settings.withValues(ShimFlags.readDeclared(plugins.declaredSettings(), settings.env())));
        } catch (IllegalArgumentException e) {
            throw new ConfigException(e.getMessage());
        }
    }

    private static TaskMetrics openTaskMetrics(DeviceInventory inventory, LocalHost host) {
        return inventory.primary().flatMap(s -> {
            try {
                return s.plugin().openTaskMetrics(s.fingerprint().devices(), host);
            } catch (RuntimeException e) {
                LOG.log(Level.WARNING, s.vendor() + " task metrics did not open", e);
                return Optional.empty();
            }
        }).orElse(null);
    }

    public PluginHost plugins() {
        return plugins;
    }

    public LocalHost host() {
        return host;
    }

    public DeviceInventory inventory() {
        return inventory;
    }

    /** For the task pipeline: GPU allocation and container edits. */
    public GpuPool gpus() {
        return gpus;
    }

    /** Storage extensions of the started plugins, for the volume manager. */
    public List<StoragePlugin> storage() {
        return plugins.storage();
    }

    /** Starts the background health checks ({@code --health-interval-ms}); until the first ends, health is null. */
    public void startHealthChecks(java.time.Duration interval) {
        inventory.startHealthChecks(interval);
    }

    /** For {@code GET /api/instance/health}: the last background check, never a tool run. */
    public InstanceHealth.Response health() {
        return health.check();
    }

    /** For {@code GET /metrics/tasks/{id}}: the primary vendor's per-task metrics, when it has a source. */
    public Optional<TaskMetrics> taskMetrics() {
        return Optional.ofNullable(taskMetrics);
    }

    @Override
    public void close() {
        inventory.close();
        if (taskMetrics != null) {
            taskMetrics.close();
        }
        plugins.close();
    }
}
