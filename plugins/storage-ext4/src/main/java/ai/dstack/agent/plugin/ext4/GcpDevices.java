package ai.dstack.agent.plugin.ext4;

import ai.dstack.agent.spi.HostContext;
import ai.dstack.agent.spi.StorageException;
import ai.dstack.agent.spi.VolumeSpec;

/** Finds a GCP persistent disk through its {@code /dev/disk/by-id/google-<device name>} link (first partition preferred). */
final class GcpDevices {
    private GcpDevices() {
    }

    static String locate(VolumeSpec volume, HostContext host) throws StorageException {
        String name = volume.deviceName();
        if (name == null || name.isBlank()) {
            throw new StorageException("volume " + volume.volumeId() + " has no device_name to find it by");
        }
        String base = "/dev/disk/by-id/google-" + name;
        for (String link : new String[] {base + "-part1", base}) {
            String target = host.readLink(link);
            if (target != null) {
                return target;
            }
        }
        throw new StorageException("disk " + name + " not found: neither " + base + "-part1 nor " + base + " exists");
    }
}
