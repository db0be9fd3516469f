package ai.dstack.agent.pluginhost;

import ai.dstack.agent.spi.StoragePlugin;
import java.util.Collection;
import java.util.List;
import java.util.Optional;

/**
 * Everything the plugins give the agent, wired once at start: the loaded plugins, the host they read,
 * the device inventory (fingerprinted now, then every interval), the GPU pool the task pipeline uses, the storage
 * extensions, instance health and the dcgm-exporter for metrics. {@link #close()} stops the
 * poller, the exporter and the plugins.
 */
public final class PluginRuntime implements AutoCloseable {
    private final PluginHost plugins;
    private final LocalHost host;
    private final DeviceInventory inventory;
    private final GpuPool gpus;
    private final InstanceHealth health;
    private final DcgmExporter exporter;

    private PluginRuntime(PluginHost plugins, LocalHost host, DeviceInventory inventory, DcgmExporter exporter) {
        this.plugins = plugins;
        this.host = host;
        this.inventory = inventory;
        this.gpus = new PluginGpuPool(inventory, host);
        this.health = new InstanceHealth(inventory);
        this.exporter = exporter;
    }

    /** Loads the plugins, fingerprints the host once and starts polling; with {@code exporter}, starts dcgm-exporter on NVIDIA hosts. */
    public static PluginRuntime start(PluginSettings settings, boolean exporter) {
        PluginHost plugins = PluginHost.load(settings);
        LocalHost host = LocalHost.of(settings);
        DeviceInventory inventory = new DeviceInventory(plugins.accelerators(), host);
        inventory.refresh();
        inventory.startPolling(settings.fingerprintInterval());
        DcgmExporter dcgm = exporter ? DcgmExporter.start(inventory, host, settings).orElse(null) : null;
        return new PluginRuntime(plugins, host, inventory, dcgm);
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

    /** For {@code GET /api/instance/health}. */
    public InstanceHealth.Response health() {
        return health.check();
    }

    /** For {@code GET /metrics/tasks/{id}} once the task is known: its GPU ids' metrics. */
    public DcgmExporter.Metrics taskMetrics(Collection<String> gpuIds) {
        return exporter == null ? DcgmExporter.unavailable() : exporter.metricsFor(gpuIds);
    }

    /** Whether dcgm-exporter runs (else {@code /metrics/tasks/{id}} answers 404 first). */
    public Optional<DcgmExporter> exporter() {
        return Optional.ofNullable(exporter);
    }

    @Override
    public void close() {
        inventory.close();
        if (exporter != null) {
            exporter.close();
        }
        plugins.close();
    }
}
