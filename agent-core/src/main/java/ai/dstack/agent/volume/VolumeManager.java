package ai.dstack.agent.volume;

import ai.dstack.agent.spi.VolumeSpec;
import java.util.List;

/**
 * The seam between the task pipeline and network volumes: make each volume's filesystem available
 * at its mount point on the host, and take it away at task end.
 */
public interface VolumeManager {
    /** Where a volume is mounted on the host; bind-mounted into containers from there. */
    static String mountPoint(String volumeName) {
        return "/mnt/disks/dstack-volumes/" + volumeName;
    }

    /**
     * Locates, probes, formats (only a blank device of a volume with {@code init_fs}) and mounts every
     * volume, in order.
     *
     * @throws VolumeException with the message the task's termination message carries
     */
    void prepare(List<VolumeSpec> volumes) throws VolumeException;

    /** Unmounts every volume's mount point where something is mounted; failures are only logged. */
    void release(List<VolumeSpec> volumes);

    /** A volume step failed. */
    final class VolumeException extends Exception {
        public VolumeException(String message) {
            super(message);
        }
    }

    /** For hosts without a storage plugin: any volume is an error, releasing is a no-op. */
    static VolumeManager unsupported() {
        return new VolumeManager() {
            @Override
            public void prepare(List<VolumeSpec> volumes) throws VolumeException {
                if (!volumes.isEmpty()) {
                    throw new VolumeException("no storage plugin loaded for backend \"" + volumes.getFirst().backend() + "\"");
                }
            }

            @Override
            public void release(List<VolumeSpec> volumes) {
            }
        };
    }
}
