package ai.dstack.agent.volume;

import ai.dstack.agent.spi.FsProbe;
import ai.dstack.agent.spi.HostContext;
import ai.dstack.agent.spi.StorageException;
import ai.dstack.agent.spi.StoragePlugin;
import ai.dstack.agent.spi.VolumeSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.logging.Logger;

/**
 * Network volumes through the storage plugins (docs/shim.md §6): for each volume in order resolve its block
 * device, probe it, format it only when it is blank and the volume has {@code init_fs}, mount it at
 * {@link VolumeManager#mountPoint}, and open a just-made filesystem's root to everyone (0777). A
 * device that has a filesystem is never formatted. On a failure what was mounted is unmounted again.
 */
public final class PluginVolumeManager implements VolumeManager {
    private static final Logger LOG = Logger.getLogger(PluginVolumeManager.class.getName());

    private final List<StoragePlugin> plugins;
    private final HostContext host;

    public PluginVolumeManager(List<StoragePlugin> plugins, HostContext host) {
        this.plugins = List.copyOf(plugins);
        this.host = host;
    }

    @Override
    public void prepare(List<VolumeSpec> volumes) throws VolumeException {
        List<VolumeSpec> done = new ArrayList<>();
        for (VolumeSpec volume : volumes) {
            try {
                prepare(volume);
                done.add(volume);
            } catch (StorageException e) {
                release(done);
                throw new VolumeException("format and mount volume: " + e.getMessage());
            }
        }
    }

    private void prepare(VolumeSpec volume) throws StorageException {
        StoragePlugin plugin = plugins.stream().filter(p -> p.backends().contains(volume.backend())).findFirst()
                .orElseThrow(() -> new StorageException("unknown backend: \"" + volume.backend() + "\""));
        if (!validName(volume.name())) {
            throw new StorageException("invalid volume name: \"" + volume.name() + "\"");
        }
        String device = plugin.resolveDevice(volume, host);
        FsProbe probe = plugin.probe(device, host);
        boolean formatted = false;
        switch (probe.state()) {
            case FILESYSTEM -> LOG.info(() -> "volume " + volume.name() + ": " + device + " has " + probe.fsType());
            case FOREIGN -> throw new StorageException("disk " + device + " carries a signature that is not a filesystem (wrong device?)");
            case BLANK -> {
                if (!volume.initFs()) {
                    throw new StorageException("disk " + device + " has no file system");
                }
                LOG.info(() -> "volume " + volume.name() + ": formatting blank " + device + " as " + plugin.filesystem());
                plugin.format(device, host);
                formatted = true;
            }
        }
        String mountPoint = VolumeManager.mountPoint(volume.name());
        plugin.mount(device, mountPoint, host);
        if (formatted) {
            try {
                Files.setPosixFilePermissions(Path.of(mountPoint), PosixFilePermissions.fromString("rwxrwxrwx"));
            } catch (IOException e) {
                throw new StorageException("chmod 0777 " + mountPoint + ": " + e.getMessage(), e);
            }
        }
    }

    @Override
    public void release(List<VolumeSpec> volumes) {
        for (VolumeSpec volume : volumes) {
            if (!validName(volume.name())) {
                continue;
            }
            String mountPoint = VolumeManager.mountPoint(volume.name());
            for (StoragePlugin plugin : plugins) {
                if (!plugin.backends().contains(volume.backend())) {
                    continue;
                }
                try {
                    plugin.unmount(mountPoint, host);
                } catch (StorageException | RuntimeException e) {
                    LOG.warning(() -> "unmount " + mountPoint + ": " + e.getMessage());
                }
                break;
            }
        }
    }

    /** A volume name is one path component under the mount root. */
    private static boolean validName(String name) {
        return name != null && !name.isEmpty() && !name.contains("/") && !name.startsWith(".");
    }
}
