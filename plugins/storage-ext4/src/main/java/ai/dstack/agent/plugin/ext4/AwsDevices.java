package ai.dstack.agent.plugin.ext4;

import ai.dstack.agent.spi.HostContext;
import ai.dstack.agent.spi.StorageException;
import ai.dstack.agent.spi.ToolResult;
import ai.dstack.agent.spi.VolumeSpec;
import java.time.Duration;
import java.util.List;

/**
 * Finds an EBS volume's block device: by serial in {@code lsblk} (NVMe serials are the volume id
 * without its dash), else by the attachment's device name ({@code /dev/sdX}, or {@code /dev/xvdX}
 * on Xen). Both are re-checked every poll until the attach wait is over; then the first partition,
 * if any, is used.
 */
final class AwsDevices {
    private final HostContext host;

    AwsDevices(HostContext host) {
        this.host = host;
    }

    String locate(VolumeSpec volume) throws StorageException {
        String device = Polling.until(host, "volume-attach", () -> {
            String bySerial = bySerial(volume.volumeId());
            return bySerial != null ? bySerial : byDeviceName(volume.deviceName());
        }, wait -> "volume " + volume.volumeId() + " not found among block devices after " + seconds(wait));
        return firstPartition(device);
    }

    private String bySerial(String volumeId) throws StorageException {
        ToolResult r = host.run(Ext4Volumes.TOOL_TIMEOUT, List.of("lsblk", "-o", "NAME,SERIAL"));
        if (!r.ok()) {
            throw new StorageException("list block devices: " + r.describe("lsblk"));
        }
        for (String line : r.stdout().split("\n")) {
            String[] f = line.strip().split("\\s+");
            if (f.length == 2 && f[1].startsWith("vol") && ("vol-" + f[1].substring(3)).equals(volumeId)) {
                return "/dev/" + f[0];
            }
        }
        return null;
    }

    private String byDeviceName(String deviceName) {
        if (deviceName == null || deviceName.isBlank()) {
            return null;
        }
        for (String candidate : List.of(deviceName, deviceName.replace("/dev/sd", "/dev/xvd"))) {
            if (host.exists(candidate)) {
                return candidate;
            }
        }
        return null;
    }

    private String firstPartition(String device) throws StorageException {
        ToolResult r = host.run(Ext4Volumes.TOOL_TIMEOUT, List.of("lsblk", "-ln", "-o", "NAME", device));
        if (!r.ok()) {
            throw new StorageException("list partitions of " + device + ": " + r.describe("lsblk"));
        }
        List<String> names = r.stdout().lines().map(String::strip).filter(s -> !s.isEmpty()).toList();
        return names.size() > 1 ? "/dev/" + names.get(1) : device;
    }

    private static String seconds(Duration d) {
        return d.toMillis() % 1000 == 0 ? d.toSeconds() + "s" : d.toMillis() + "ms";
    }
}
