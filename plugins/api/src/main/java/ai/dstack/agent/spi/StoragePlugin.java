package ai.dstack.agent.spi;

import java.util.List;
import java.util.Set;
import org.pf4j.ExtensionPoint;

/**
 * A filesystem on network block devices. The core runs the steps in order (resolve, probe, format
 * only when asked and blank, mount) and unmounts at task end; each step is idempotent.
 */
public interface StoragePlugin extends ExtensionPoint {
    /** Filesystem this plugin makes and mounts, e.g. {@code ext4}. */
    String filesystem();

    /** Cloud backends whose devices it can locate, e.g. {@code aws}, {@code gcp}. */
    Set<String> backends();

    /** The logical block device path of the volume, waiting for it to appear and be ready. */
    String resolveDevice(VolumeSpec volume, HostContext host) throws StorageException;

    /** What is on the device now (re-confirms a blank verdict before answering). */
    FsProbe probe(String device, HostContext host) throws StorageException;

    /** Makes the filesystem; the core calls it only for a blank device of a volume with {@code init_fs}. */
    void format(String device, HostContext host) throws StorageException;

    /** Mounts the device at the mount point (created if missing); a no-op when already mounted there. */
    void mount(String device, String mountPoint, HostContext host) throws StorageException;

    /** Unmounts the mount point if something is mounted there. */
    void unmount(String mountPoint, HostContext host) throws StorageException;

    /**
     * The settings this plugin reads with {@link HostContext#setting}: the agent reads them from its
     * environment at start with its own, refuses bad values and lists them in its configuration table.
     */
    default List<Setting> settings() {
        return List.of();
    }
}
