package ai.dstack.agent.pluginhost;

import ai.dstack.agent.spi.ContainerEdits;
import ai.dstack.agent.spi.ContainerView;
import ai.dstack.agent.spi.Device;
import java.util.List;
import java.util.Optional;

/**
 * The seam between the task pipeline and the accelerators of the host's primary vendor: who holds
 * which device, and how a container gets its devices. Allocation is deterministic (the best-linked
 * free set by the vendor's topology, else lowest index first), sets are disjoint, unhealthy devices
 * are never handed out.
 */
public interface GpuPool {
    /** Vendor key of the devices this pool hands out (the plugin's {@code vendor()}), or {@code none}. */
    String vendor();

    /** Every device of the primary vendor, in index order, with its current health. */
    List<Device> devices();

    /**
     * Takes {@code count} free healthy devices for a task ({@code -1}: every free one, possibly none;
     * {@code 0}: none) and returns their resource ids.
     *
     * @throws NoCapacityException when fewer than {@code count} are free; nothing is taken then
     */
    List<String> allocate(String taskId, int count) throws NoCapacityException;

    /** Marks ids as held by a task again (after an agent restart); ids already held elsewhere are kept there. */
    void restore(String taskId, List<String> ids);

    /** Frees whatever the task holds; harmless when it holds nothing. */
    void release(String taskId);

    /** The resource ids the task holds now. */
    List<String> heldBy(String taskId);

    /** How to give a container the devices with these ids. */
    ContainerEdits edits(List<String> ids);

    /** Other edits to recreate the container with after the engine refused to start it, if any would help. */
    Optional<ContainerEdits> retryAfterStartFailure(List<String> ids, String engineError);

    /** The ids an existing container holds, read from its configuration. */
    List<String> recover(ContainerView container);

    /** Thrown by {@link #allocate} when the host has too few free devices. */
    final class NoCapacityException extends Exception {
        public NoCapacityException(int requested, int available) {
            super("no capacity: " + requested + " GPUs requested, " + available + " available");
        }
    }

    /** A pool for a host without accelerators (or without accelerator plugins). */
    static GpuPool none() {
        return NoGpus.INSTANCE;
    }
}
