package ai.dstack.agent.plugin.ext4;

import ai.dstack.agent.spi.FsProbe;
import ai.dstack.agent.spi.HostContext;
import ai.dstack.agent.spi.Setting;
import ai.dstack.agent.spi.StorageException;
import ai.dstack.agent.spi.StoragePlugin;
import ai.dstack.agent.spi.ToolResult;
import ai.dstack.agent.spi.VolumeSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.pf4j.Extension;

/**
 * ext4 on AWS EBS and GCP persistent disks (docs/shim.md §6). Devices are located through {@code lsblk} and
 * {@code /dev/disk/by-id}, probed with {@code blkid -p}, formatted with {@code mkfs.ext4} only when
 * blank (and only when the core asks), mounted with {@code mount}. Every wait is an operator setting.
 */
@Extension
public final class Ext4Volumes implements StoragePlugin {
    static final Duration TOOL_TIMEOUT = Duration.ofMinutes(2);
    /** Every wait of this plugin; the old names without {@code _MS} keep working. */
    static final List<Setting> SETTINGS = List.of(
            Setting.millis("volume-attach-timeout-ms", 30_000, "How long an AWS volume may take to appear among the block devices",
                    "DSTACK_SHIM_VOLUME_ATTACH_TIMEOUT"),
            Setting.millis("volume-attach-poll-interval-ms", 500, "How often the block devices are listed while waiting for an AWS volume",
                    "DSTACK_SHIM_VOLUME_ATTACH_POLL_INTERVAL"),
            Setting.millis("volume-ready-timeout-ms", 10_000, "How long a located volume device may take to become usable",
                    "DSTACK_SHIM_VOLUME_READY_TIMEOUT"),
            Setting.millis("volume-ready-poll-interval-ms", 200, "How often a volume device is checked while waiting for it",
                    "DSTACK_SHIM_VOLUME_READY_POLL_INTERVAL"),
            Setting.millis("volume-blank-recheck-interval-ms", 1_000, "Pause before each of the three re-probes of a device that looks blank",
                    "DSTACK_SHIM_VOLUME_BLANK_RECHECK_INTERVAL"),
            Setting.millis("volume-format-timeout-ms", 600_000, "Longest mkfs.ext4 may run", "DSTACK_SHIM_VOLUME_FORMAT_TIMEOUT"));

    @Override
    public List<Setting> settings() {
        return SETTINGS;
    }

    @Override
    public String filesystem() {
        return "ext4";
    }

    @Override
    public Set<String> backends() {
        return Set.of("aws", "gcp");
    }

    @Override
    public String resolveDevice(VolumeSpec volume, HostContext host) throws StorageException {
        String device = switch (volume.backend()) {
            case "aws" -> new AwsDevices(host).locate(volume);
            case "gcp" -> GcpDevices.locate(volume, host);
            default -> throw new StorageException("unknown backend: \"" + volume.backend() + "\"");
        };
        new BlockDevices(host).awaitReady(device);
        return device;
    }

    @Override
    public FsProbe probe(String device, HostContext host) throws StorageException {
        FsProbe probe = probeOnce(device, host);
        // A freshly attached disk may not show its signature yet: believe "blank" only three more times.
        Duration pause = host.millis("volume-blank-recheck-interval-ms");
        for (int i = 0; i < 3 && probe.state() == FsProbe.State.BLANK; i++) {
            sleep(pause);
            probe = probeOnce(device, host);
        }
        return probe;
    }

    static FsProbe probeOnce(String device, HostContext host) throws StorageException {
        ToolResult r = host.run(TOOL_TIMEOUT, List.of("blkid", "-p", "-o", "value", "-s", "TYPE", device));
        if (r.ran() && r.exitCode() == 2) {
            return new FsProbe(FsProbe.State.BLANK, "");
        }
        if (!r.ok()) {
            throw new StorageException("probe " + device + ": " + r.describe("blkid"));
        }
        String type = r.stdout().strip();
        return type.isEmpty() ? new FsProbe(FsProbe.State.FOREIGN, "") : new FsProbe(FsProbe.State.FILESYSTEM, type);
    }

    @Override
    public void format(String device, HostContext host) throws StorageException {
        // Last line of defence: whatever the caller believes, a device with any signature is never formatted.
        FsProbe now = probeOnce(device, host);
        if (now.state() != FsProbe.State.BLANK) {
            throw new StorageException("refusing to format " + device + ": it is not blank ("
                    + (now.fsType().isEmpty() ? "unknown signature" : now.fsType()) + ")");
        }
        ToolResult r = host.run(host.millis("volume-format-timeout-ms"), List.of("mkfs.ext4", "-F", device));
        if (!r.ok()) {
            throw new StorageException("format " + device + ": " + r.describe("mkfs.ext4"));
        }
    }

    @Override
    public void mount(String device, String mountPoint, HostContext host) throws StorageException {
        try {
            Files.createDirectories(Path.of(mountPoint));
        } catch (IOException e) {
            throw new StorageException("create mount point " + mountPoint + ": " + e.getMessage(), e);
        }
        if (mounted(mountPoint, host)) {
            return;
        }
        ToolResult r = host.run(TOOL_TIMEOUT, List.of("mount", device, mountPoint));
        if (!r.ok()) {
            throw new StorageException("mount " + device + " at " + mountPoint + ": " + r.describe("mount"));
        }
    }

    @Override
    public void unmount(String mountPoint, HostContext host) throws StorageException {
        if (!mounted(mountPoint, host)) {
            return;
        }
        ToolResult r = host.run(TOOL_TIMEOUT, List.of("umount", "-qf", mountPoint));
        if (!r.ok()) {
            throw new StorageException("unmount " + mountPoint + ": " + r.describe("umount"));
        }
    }

    private static boolean mounted(String mountPoint, HostContext host) {
        return host.run(TOOL_TIMEOUT, List.of("mountpoint", "-q", mountPoint)).ok();
    }

    static void sleep(Duration pause) throws StorageException {
        try {
            Thread.sleep(pause);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new StorageException("interrupted while waiting for a volume");
        }
    }
}
