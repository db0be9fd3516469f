package ai.dstack.agent.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;

/**
 * A real block device backed by a sparse file ({@code losetup -f --show}); needs root. Detached on close.
 *
 * @param path  the device, e.g. {@code /dev/loop3}
 * @param image the backing file
 */
public record LoopDevice(String path, Path image) implements AutoCloseable {
    /** Why loop devices cannot be used here, or null when they can. */
    public static String unavailableBecause() {
        if (!Commands.isRoot()) {
            return "needs root (loop devices, mkfs and mount)";
        }
        return null;
    }

    /** A new blank device of {@code megabytes}. */
    public static LoopDevice create(Path dir, int megabytes) {
        try {
            Path image = Files.createTempFile(dir, "volume-", ".img");
            try (var f = new java.io.RandomAccessFile(image.toFile(), "rw")) {
                f.setLength(megabytes * 1024L * 1024L);
            }
            return new LoopDevice(Commands.run("losetup", "-f", "--show", image.toString()).strip(), image);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The device's name without {@code /dev/}. */
    public String name() {
        return path.substring(path.lastIndexOf('/') + 1);
    }

    /** Creates a block-device node for this device at {@code node} (e.g. inside a fake host root). */
    public void mknodAt(Path node) {
        try {
            long rdev = (Long) Files.getAttribute(Path.of(path), "unix:rdev", LinkOption.NOFOLLOW_LINKS);
            long major = ((rdev >>> 8) & 0xfff) | ((rdev >>> 32) & ~0xfffL);
            long minor = (rdev & 0xff) | ((rdev >>> 12) & ~0xffL);
            Files.createDirectories(node.getParent());
            Commands.run("mknod", node.toString(), "b", String.valueOf(major), String.valueOf(minor));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void close() {
        Commands.run("losetup", "-d", path);
        try {
            Files.deleteIfExists(image);
        } catch (IOException ignored) {
            // temp dir cleanup takes it
        }
    }
}
