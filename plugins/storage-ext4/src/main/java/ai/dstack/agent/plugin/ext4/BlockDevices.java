package ai.dstack.agent.plugin.ext4;

import ai.dstack.agent.spi.HostContext;
import ai.dstack.agent.spi.StorageException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.Map;

/**
 * Readiness of a block device, read under the host root: the path (after following links as if the
 * root were {@code /}) is a block device, not a character device, and sysfs reports a non-zero size.
 */
final class BlockDevices {
    private static final int S_IFMT = 0170000;
    private static final int S_IFBLK = 0060000;

    private final HostContext host;

    BlockDevices(HostContext host) {
        this.host = host;
    }

    void awaitReady(String device) throws StorageException {
        String[] problem = {null};
        Polling.until(host, "volume-ready", () -> {
            problem[0] = notReadyBecause(device);
            return problem[0] == null ? device : null;
        }, wait -> "device " + device + " not ready after " + wait.toMillis() + " ms: " + problem[0]);
    }

    /** Why the device is not usable yet, or null when it is. */
    String notReadyBecause(String device) {
        String logical = device;
        for (int hops = 0; hops < 16; hops++) {
            String target = host.readLink(logical);
            if (target == null) {
                break;
            }
            logical = target;
        }
        Path path = host.hostPath(logical);
        Map<String, Object> attrs;
        try {
            attrs = Files.readAttributes(path, "unix:mode,rdev", LinkOption.NOFOLLOW_LINKS);
        } catch (IOException | UnsupportedOperationException e) {
            return "it does not exist";
        }
        if (((Integer) attrs.get("mode") & S_IFMT) != S_IFBLK) {
            return "it is not a block device";
        }
        long rdev = (Long) attrs.get("rdev");
        long major = ((rdev >>> 8) & 0xfff) | ((rdev >>> 32) & ~0xfffL);
        long minor = (rdev & 0xff) | ((rdev >>> 12) & ~0xffL);
        try {
            String sectors = Files.readString(host.hostPath("/sys/dev/block/" + major + ":" + minor + "/size")).strip();
            return Long.parseLong(sectors) > 0 ? null : "its size is 0";
        } catch (IOException | NumberFormatException e) {
            return "its size cannot be read from /sys/dev/block/" + major + ":" + minor + "/size";
        }
    }
}
