package ai.dstack.agent.pluginhost;

import ai.dstack.agent.spi.AcceleratorPlugin;
import ai.dstack.agent.spi.Device;
import ai.dstack.agent.spi.Fingerprint;
import ai.dstack.agent.spi.HealthIncident;
import ai.dstack.agent.spi.HealthIncident.Severity;
import ai.dstack.agent.spi.HealthReport;
import ai.dstack.agent.spi.HostContext;
import ai.dstack.agent.spi.topology.Topology;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import java.util.logging.Level;
import java.util.logging.Logger;
import java.util.stream.Collectors;

/**
 * What accelerators the host has, by vendor, found by the accelerator plugins at start, every
 * fingerprint interval and on demand (so drivers installed later are picked up), with each device's
 * health. The <em>primary vendor</em> is the one with the most devices (ties: lower
 * {@link AcceleratorPlugin#priority()}, which the bundled plugins set in the Go shim's order); tasks are served
 * from it and {@code host_info.json} describes it.
 */
public final class DeviceInventory implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(DeviceInventory.class.getName());

    /**
     * One vendor's latest fingerprint, its devices carrying their health verdicts.
     *
     * @param plugin      the plugin that answered
     * @param fingerprint what it found
     * @param incidents   the health findings behind the verdicts
     * @param topology    how the devices are wired, as the plugin reported it ({@link Topology#NONE} when it cannot tell)
     */
    public record VendorState(AcceleratorPlugin plugin, Fingerprint fingerprint, List<HealthIncident> incidents,
                              Topology topology) {
        public String vendor() {
            return plugin.vendor();
        }
    }

    private final List<AcceleratorPlugin> plugins;
    private final HostContext host;
    private final ReentrantLock refreshing = new ReentrantLock();
    private volatile Map<String, VendorState> states = Map.of();
    private ScheduledExecutorService poller;

    public DeviceInventory(List<AcceleratorPlugin> plugins, HostContext host) {
        this.plugins = plugins.stream().sorted(Comparator.comparingInt(AcceleratorPlugin::priority)).toList();
        this.host = host;
    }

    /** Fingerprints every vendor now and checks the health of what was found. */
    public void refresh() {
        refreshing.lock();
        try {
            states = fingerprintAll();
        } finally {
            refreshing.unlock();
        }
    }

    private Map<String, VendorState> fingerprintAll() {
        Map<String, VendorState> previous = states;
        Map<String, VendorState> next = new LinkedHashMap<>();
        for (AcceleratorPlugin plugin : plugins) {
            Fingerprint fp;
            try {
                fp = plugin.fingerprint(host);
            } catch (RuntimeException e) {
                LOG.log(Level.WARNING, plugin.vendor() + " fingerprint failed", e);
                fp = Fingerprint.failed(plugin.vendor(), "plugin error: " + e);
            }
            List<String> problems = fp.problems();
            if (!problems.isEmpty()) {
                fp = Fingerprint.failed(plugin.vendor(), "plugin answer refused: " + String.join("; ", problems));
            }
            if (fp.error() != null) {
                String error = fp.error();
                LOG.warning(() -> plugin.vendor() + ": " + error);
            }
            next.put(plugin.vendor(), withHealth(plugin, fp, topology(plugin, fp.devices(), previous.get(plugin.vendor()))));
        }
        return next;
    }

    /**
     * The plugin's topology of these devices: asked again only when the device ids changed or the
     * last answer was a failure (wiring does not change while the devices stay the same).
     */
    private Topology topology(AcceleratorPlugin plugin, List<Device> devices, VendorState previous) {
        if (devices.isEmpty()) {
            return Topology.NONE;
        }
        if (previous != null && previous.topology().error() == null
                && ids(previous.fingerprint().devices()).equals(ids(devices))) {
            return previous.topology();
        }
        Topology t;
        try {
            t = plugin.topology(devices, host);
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, plugin.vendor() + " topology failed", e);
            t = Topology.failed("plugin error: " + e);
        }
        if (t == null) {
            t = Topology.NONE;
        }
        String error = t.error();
        String before = previous == null ? null : previous.topology().error();
        if (error != null && !error.equals(before)) {
            LOG.warning(() -> plugin.vendor() + " topology unknown, devices are handed out lowest index first: " + error);
        } else if (t.known()) {
            Topology known = t;
            LOG.info(() -> plugin.vendor() + " topology: " + known.links().size() + " device pairs, NUMA node by device " + new java.util.TreeMap<>(known.numaNodes()));
        }
        return t;
    }

    private static List<String> ids(List<Device> devices) {
        return devices.stream().map(Device::id).toList();
    }

    /**
     * Checks the health of every vendor's devices again (without enumerating them again). While a
     * full refresh runs (vendor tools may take minutes) it returns at once: that refresh brings
     * fresh health with it, and callers such as the health endpoint must answer promptly.
     */
    public void refreshHealth() {
        if (!refreshing.tryLock()) {
            return;
        }
        try {
            Map<String, VendorState> next = new LinkedHashMap<>();
            states.forEach((vendor, s) -> next.put(vendor, withHealth(s.plugin(), s.fingerprint(), s.topology())));
            states = next;
        } finally {
            refreshing.unlock();
        }
    }

    private VendorState withHealth(AcceleratorPlugin plugin, Fingerprint fp, Topology topology) {
        if (fp.devices().isEmpty()) {
            return new VendorState(plugin, fp, List.of(), topology);
        }
        List<Device> plain = fp.devices().stream().map(d -> d.withHealth(true, "")).toList();
        List<HealthIncident> incidents;
        try {
            HealthReport report = plugin.health(plain, host);
            if (report.error() != null) {
                LOG.fine(() -> plugin.vendor() + " health: " + report.error());
            }
            incidents = report.incidents();
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, plugin.vendor() + " health check failed", e);
            incidents = List.of();
        }
        Map<Integer, List<HealthIncident>> byIndex = incidents.stream().collect(Collectors.groupingBy(HealthIncident::deviceIndex));
        List<Device> judged = new ArrayList<>();
        for (Device d : plain) {
            List<HealthIncident> mine = byIndex.getOrDefault(d.index(), List.of());
            boolean fails = mine.stream().anyMatch(i -> i.severity() == Severity.FAIL);
            String detail = mine.stream().map(HealthIncident::message).collect(Collectors.joining("; "));
            judged.add(d.withHealth(!fails, detail));
        }
        return new VendorState(plugin, new Fingerprint(fp.vendor(), fp.present(), judged, fp.error()), incidents, topology);
    }

    /** Starts refreshing every {@code interval} in the background (after a first {@link #refresh()}). */
    public synchronized void startPolling(Duration interval) {
        if (poller != null || interval.isZero()) {
            return;
        }
        poller = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "device-fingerprint");
            t.setDaemon(true);
            return t;
        });
        poller.scheduleWithFixedDelay(() -> {
            try {
                refresh();
            } catch (RuntimeException e) {
                LOG.log(Level.WARNING, "device refresh failed", e);
            }
        }, interval.toMillis(), interval.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Every vendor's latest state, in priority order (lowest {@link AcceleratorPlugin#priority()} first). */
    public List<VendorState> vendors() {
        return List.copyOf(states.values());
    }

    /** The vendor with the most devices (ties by priority), empty when no plugin found any device. */
    public Optional<VendorState> primary() {
        VendorState best = null;
        for (VendorState s : states.values()) {
            int n = s.fingerprint().devices().size();
            if (n > 0 && (best == null || n > best.fingerprint().devices().size())) {
                best = s;
            }
        }
        return Optional.ofNullable(best);
    }

    /** The primary vendor's key, or {@code none}. */
    public String primaryVendor() {
        return primary().map(VendorState::vendor).orElse("none");
    }

    /** The primary vendor's devices in index order; empty when none. */
    public List<Device> primaryDevices() {
        return primary().map(s -> s.fingerprint().devices()).orElse(List.of());
    }

    @Override
    public synchronized void close() {
        if (poller != null) {
            poller.shutdownNow();
            poller = null;
        }
    }
}
