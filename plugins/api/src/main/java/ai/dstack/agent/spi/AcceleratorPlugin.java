package ai.dstack.agent.spi;

import ai.dstack.agent.spi.topology.Topology;
import java.util.List;
import java.util.Optional;
import org.pf4j.ExtensionPoint;

/**
 * A vendor's accelerators: find them, say how a container gets some of them, report their health and,
 * optionally, per-task metrics. The core allocates ids among tasks, decides when to call each method
 * and serves the results on the wire; the plugin never keeps task state. Fingerprint and health are
 * called from the core's own background schedule as well as at start, never concurrently for one
 * plugin, and may be slow (a tool run is bounded by the operator's tool timeout).
 */
public interface AcceleratorPlugin extends ExtensionPoint {
    /** Vendor key: {@code nvidia}, {@code amd}, {@code intel}, {@code tenstorrent}. */
    String vendor();

    /** Tie-break rank when two vendors have as many devices; lower wins (nvidia 0, amd 1, intel 2, tenstorrent 3). */
    int priority();

    /** Finds the vendor's devices now; failures are reported inside the result, never thrown. */
    Fingerprint fingerprint(HostContext host);

    /** How to give a container the devices with these resource ids ({@code gpu_devices} empty). */
    ContainerEdits reserve(List<Device> devices, HostContext host);

    /**
     * The host health report source: findings about the given devices (as the last fingerprint found
     * them). {@link HealthReport#healthy()} when all pass or the vendor has no health source; a report
     * with an {@link HealthReport#error()} when the check itself could not run, so the core can keep
     * its previous verdicts instead of calling every device healthy.
     */
    default HealthReport health(List<Device> devices, HostContext host) {
        return HealthReport.healthy();
    }

    /** Live figures per device, where the vendor tool gives them; empty otherwise. */
    default List<DeviceStats> stats(List<Device> devices, HostContext host) {
        return List.of();
    }

    /**
     * The per-task metrics source (Nomad's device {@code Stats}, served as Prometheus text on
     * {@code GET /metrics/tasks/{id}}): opened once at start on a host whose primary vendor this
     * plugin is, for that vendor's devices. Empty when the vendor has none or it is not available on
     * this host. The core closes it at shutdown.
     */
    default Optional<TaskMetrics> openTaskMetrics(List<Device> devices, HostContext host) {
        return Optional.empty();
    }

    /**
     * How the devices are wired to each other (GPU-to-GPU links by device index, each device's NUMA
     * node), so the core can give a task a well-connected set; {@link Topology#NONE} when the vendor
     * has no such source (the core then hands out the lowest free indexes), {@link Topology#failed}
     * when its tool did not answer. Called again only when the devices change.
     */
    default Topology topology(List<Device> devices, HostContext host) {
        return Topology.NONE;
    }

    /** The resource ids an existing container holds, read from its configuration (agent restart). */
    List<String> recover(ContainerView container);

    /**
     * Called when the engine refused to start a container made with {@link #reserve}: other edits to
     * recreate it with, or empty when a retry would not help (NVIDIA: retry without {@code display}
     * when {@code /dev/nvidia-modeset} is missing).
     */
    default Optional<ContainerEdits> retryAfterStartFailure(List<Device> devices, String engineError, HostContext host) {
        return Optional.empty();
    }

    /**
     * The settings this plugin reads with {@link HostContext#setting}: the agent reads them from its
     * environment at start with its own, refuses bad values and lists them in its configuration table.
     */
    default List<Setting> settings() {
        return List.of();
    }
}
