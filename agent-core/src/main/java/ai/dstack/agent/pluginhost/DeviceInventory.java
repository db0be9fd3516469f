package ai.dstack.agent.pluginhost;

import ai.dstack.agent.spi.AcceleratorPlugin;
import ai.dstack.agent.spi.Device;
import ai.dstack.agent.spi.Fingerprint;
import ai.dstack.agent.spi.HealthIncident;
import ai.dstack.agent.spi.HealthIncident.Severity;
import ai.dstack.agent.spi.HealthReport;
import ai.dstack.agent.spi.HostContext;
import ai.dstack.agent.spi.topology.Topology;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BooleanSupplier;
import java.util.logging.Level;
import java.util.logging.Logger;
import java.util.stream.Collectors;

/**
 * What accelerators the host has, by vendor, found by the accelerator plugins at start, every
 * fingerprint interval and on demand (so drivers installed later are picked up), with each device's
 * health from the latest background health check. The <em>primary vendor</em> is the one with the
 * most devices (ties: lower {@link AcceleratorPlugin#priority()}, which the bundled plugins set in the
 * Go shim's order); tasks are served from it and {@code host_info.json} describes it.
 *
 * <p>Field rules (docs/shim-operations.md): a fingerprint that fails after a good one keeps the last
 * good devices (a driver hiccup must not take the GPUs away from the tasks); a vendor whose tools ran
 * as containers is not fingerprinted or checked again while tasks hold GPUs; health checks run on
 * their own schedule, and readers only ever see their last result. A shim has every refresh's outcome
 * written to its home ({@link #writeStateTo}), where {@code dstack-shim host} reads it.
 */
public final class DeviceInventory implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(DeviceInventory.class.getName());

    /**
     * One vendor's latest fingerprint, its devices carrying their health verdicts.
     *
     * @param plugin      the plugin that answered
     * @param fingerprint what it found (after a failed refresh: the last good devices, and the error)
     * @param incidents   the health findings behind the verdicts
     * @param topology    how the devices are wired, as the plugin reported it ({@link Topology#NONE} when it cannot tell)
     * @param checked     whether a health check has produced a result for these devices yet
     */
    public record VendorState(AcceleratorPlugin plugin, Fingerprint fingerprint, List<HealthIncident> incidents,
                              Topology topology, boolean checked) {

        public String vendor() {
            return plugin.vendor();
        }
    }

    /**
     * A vendor's fingerprint as found, before health; {@code viaImage}: its tools ran as containers;
     * {@code fingerprintedAt}: when its devices were found (null before any success); {@code failure}:
     * the latest refresh's failure, null when it succeeded.
     */
    private record Found(AcceleratorPlugin plugin, Fingerprint fingerprint, boolean viaImage, Topology topology,
                         Instant fingerprintedAt, InventoryState.Failure failure) {
    }

    private final List<AcceleratorPlugin> plugins;
    private final HostContext host;
    private final ReentrantLock fingerprinting = new ReentrantLock();
    private final ReentrantLock checking = new ReentrantLock();
    private volatile Map<String, Found> found = Map.of();
    private final Map<String, List<HealthIncident>> health = new ConcurrentHashMap<>();
    private volatile BooleanSupplier devicesHeld = () -> false;
    private ScheduledExecutorService poller;
    private ScheduledExecutorService checker;
    private volatile Path stateFile;
    private boolean stateWritten = true;

    public DeviceInventory(List<AcceleratorPlugin> plugins, HostContext host) {
        this.plugins = plugins.stream().sorted(Comparator.comparingInt(AcceleratorPlugin::priority)).toList();
        this.host = host;
    }

    /** Writes {@link InventoryState} to {@code file} after every refresh (the running shim, for {@code host}). */
    public void writeStateTo(Path file) {
        stateFile = file;
    }

    /** Tells the inventory whether tasks hold devices now (the GPU pool), for the container-tool rule. */
    public void devicesHeldBy(BooleanSupplier held) {
        devicesHeld = held;
    }

    /** Fingerprints every vendor now; a vendor whose refresh fails keeps the devices it had. */
    public void refresh() {
        fingerprinting.lock();
        try {
            Map<String, Found> previous = found;
            Map<String, Found> next = new LinkedHashMap<>();
            for (AcceleratorPlugin plugin : plugins) {
                Found before = previous.get(plugin.vendor());
                if (before != null && before.viaImage() && devicesHeld.getAsBoolean()) {
                    next.put(plugin.vendor(), before); // its tool is a container: not re-run while tasks hold GPUs
                    continue;
                }
                long imageRunsBefore = imageRuns();
                Fingerprint fp = fingerprint(plugin);
                Instant now = Instant.now();
                boolean viaImage = imageRuns() != imageRunsBefore;
                InventoryState.Failure failure = fp.error() == null ? null : new InventoryState.Failure(now.toString(), fp.error());
                Instant fingerprintedAt = fp.error() == null ? now : null;
                if (fp.error() != null && before != null && !before.fingerprint().devices().isEmpty()) {
                    int kept = before.fingerprint().devices().size();
                    String error = fp.error();
                    LOG.warning(() -> plugin.vendor() + ": refresh failed, keeping the " + kept
                                      + " device(s) of the last good fingerprint: " + error);
                    fp = new Fingerprint(plugin.vendor(), true, before.fingerprint().devices(),
                            "last refresh failed (kept the devices found before): " + error);
                    viaImage = before.viaImage();
                    fingerprintedAt = before.fingerprintedAt();
                }
                next.put(plugin.vendor(), new Found(plugin, fp, viaImage, topology(plugin, fp.devices(), before),
                        fingerprintedAt, failure));
            }
            found = next;
            writeState();
        } finally {
            fingerprinting.unlock();
        }
    }

    /** The state file after a refresh; a write that fails is logged once, until one succeeds again. */
    private void writeState() {
        Path file = stateFile;
        if (file == null) {
            return;
        }
        List<InventoryState.Vendor> vendors = new ArrayList<>();
        for (Found f : found.values()) {
            VendorState s = judged(f);
            vendors.add(new InventoryState.Vendor(s.vendor(), s.fingerprint().present(), s.fingerprint().devices(),
                    f.fingerprintedAt() == null ? null : f.fingerprintedAt().toString(), f.viaImage(), f.failure()));
        }
        try {
            InventoryState.ofThisProcess(Instant.now(), primaryVendor(), vendors).write(file);
            stateWritten = true;
        } catch (IOException | RuntimeException e) {
            if (stateWritten) {
                LOG.warning("cannot write " + file + " (dstack-shim host shows its own fingerprint meanwhile): " + e.getMessage());
            }
            stateWritten = false;
        }
    }

    private Fingerprint fingerprint(AcceleratorPlugin plugin) {
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
        return fp;
    }

    /**
     * The plugin's topology of these devices: asked again only when the device ids changed or the
     * last answer was a failure (wiring does not change while the devices stay the same).
     */
    private Topology topology(AcceleratorPlugin plugin, List<Device> devices, Found previous) {
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

    private long imageRuns() {
        return host instanceof LocalHost local ? local.imageRuns() : 0;
    }

    /**
     * Checks the health of every vendor's devices (without enumerating them again) and keeps the
     * result for readers. A check that could not run keeps the previous result. While another check
     * runs it returns at once. Nobody answering a request calls this: {@link #startHealthChecks}.
     */
    public void checkHealth() {
        if (!checking.tryLock()) {
            return;
        }
        try {
            for (Found f : found.values()) {
                List<Device> devices = f.fingerprint().devices();
                String vendor = f.plugin().vendor();
                if (devices.isEmpty() || (f.viaImage() && devicesHeld.getAsBoolean() && health.containsKey(vendor))) {
                    continue;
                }
                try {
                    HealthReport report = f.plugin().health(devices.stream().map(d -> d.withHealth(true, "")).toList(), host);
                    if (report.error() != null && report.incidents().isEmpty()) {
                        LOG.fine(() -> vendor + " health check could not run (last result kept): " + report.error());
                        continue;
                    }
                    health.put(vendor, report.incidents());
                } catch (RuntimeException e) {
                    LOG.log(Level.WARNING, vendor + " health check failed (last result kept)", e);
                }
            }
        } finally {
            checking.unlock();
        }
    }

    private VendorState judged(Found f) {
        Fingerprint fp = f.fingerprint();
        List<HealthIncident> incidents = health.get(f.plugin().vendor());
        if (fp.devices().isEmpty() || incidents == null) {
            return new VendorState(f.plugin(), fp, List.of(), f.topology(), !fp.devices().isEmpty() && incidents != null);
        }
        Map<Integer, List<HealthIncident>> byIndex = incidents.stream().collect(Collectors.groupingBy(HealthIncident::deviceIndex));
        List<Device> judged = new ArrayList<>();
        for (Device d : fp.devices()) {
            List<HealthIncident> mine = byIndex.getOrDefault(d.index(), List.of());
            boolean fails = mine.stream().anyMatch(i -> i.severity() == Severity.FAIL);
            String detail = mine.stream().map(HealthIncident::message).collect(Collectors.joining("; "));
            judged.add(d.withHealth(!fails, detail));
        }
        return new VendorState(f.plugin(), new Fingerprint(fp.vendor(), fp.present(), judged, fp.error()), incidents,
                f.topology(), true);
    }

    /** Starts refreshing every {@code interval} in the background (after a first {@link #refresh()}). */
    public synchronized void startPolling(Duration interval) {
        if (poller != null || interval.isZero()) {
            return;
        }
        poller = daemon("device-fingerprint");
        poller.scheduleWithFixedDelay(() -> {
            try {
                refresh();
            } catch (RuntimeException e) {
                LOG.log(Level.WARNING, "device refresh failed", e);
            }
        }, interval.toMillis(), interval.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Starts health checks now and every {@code interval} in the background ({@code --health-interval-ms}). */
    public synchronized void startHealthChecks(Duration interval) {
        if (checker != null) {
            return;
        }
        checker = daemon("device-health");
        Runnable check = () -> {
            try {
                checkHealth();
            } catch (RuntimeException e) {
                LOG.log(Level.WARNING, "device health check failed", e);
            }
        };
        if (interval.isZero()) {
            checker.execute(check);
        } else {
            checker.scheduleWithFixedDelay(check, 0, interval.toMillis(), TimeUnit.MILLISECONDS);
        }
    }

    private static ScheduledExecutorService daemon(String name) {
        return Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, name);
            t.setDaemon(true);
            return t;
        });
    }

    /** Every vendor's latest state, in priority order (lowest {@link AcceleratorPlugin#priority()} first). */
    public List<VendorState> vendors() {
        return found.values().stream().map(this::judged).toList();
    }

    /** The vendor with the most devices (ties by priority), empty when no plugin found any device. */
    public Optional<VendorState> primary() {
        Found best = null;
        for (Found f : found.values()) {
            int n = f.fingerprint().devices().size();
            if (n > 0 && (best == null || n > best.fingerprint().devices().size())) {
                best = f;
            }
        }
        return Optional.ofNullable(best).map(this::judged);
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
        for (ScheduledExecutorService s : new ScheduledExecutorService[] {poller, checker}) {
            if (s != null) {
                s.shutdownNow();
            }
        }
        poller = null;
        checker = null;
    }
}
