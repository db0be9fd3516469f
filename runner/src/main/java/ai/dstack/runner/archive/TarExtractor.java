package ai.dstack.runner.archive;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;

/**
 * Extracts an uncompressed tar under a root directory without ever writing outside it, in the
 * archive's order. Absolute entry names are re-rooted under it (as Go's runner does); symlinks are
 * created as they are, also those pointing outside ({@code python -> /usr/bin/python3}), but nothing
 * is ever written through one: entries whose path goes through a symlink, names with {@code ..} and
 * hard links to files outside are skipped and reported. Everything written is returned so that
 * only those paths get chowned (without following links).
 */
public final class TarExtractor {
    private static final int UMASK = 0022;

    private final Path root;
    private final String renameFirst;
    private final Consumer<String> report;
    private final List<Path> written = new ArrayList<>();

    private TarExtractor(Path root, String renameFirst, Consumer<String> report) {
        this.root = root.toAbsolutePath().normalize();
        this.renameFirst = renameFirst;
        this.report = report;
    }

    /**
     * Extracts {@code tar} into {@code root}. When {@code renameFirst} is non-null the first path
     * component of every entry is replaced by it (file archives are rooted at the source's
     * basename). Skipped entries are passed to {@code report}. Returns the paths written.
     */
    public static List<Path> extract(InputStream tar, Path root, String renameFirst, Consumer<String> report)
            throws IOException {
        TarExtractor x = new TarExtractor(root, renameFirst, report);
        Files.createDirectories(x.root);
        x.run(tar);
        return List.copyOf(x.written);
    }

    private void run(InputStream tar) throws IOException {
        // Names are UTF-8 bytes (what git and Go's tar write), whatever the JVM's default charset.
        TarArchiveInputStream in = new TarArchiveInputStream(tar, StandardCharsets.UTF_8.name());
        TarArchiveEntry entry;
        while ((entry = in.getNextEntry()) != null) {
            Path target = target(entry.getName());
            if (target == null) {
                continue;
            }
            if (!safeParents(target, entry.getName())) {
                continue;
            }
            if (entry.isDirectory()) {
                makeDir(target, entry.getMode());
            } else if (entry.isSymbolicLink()) {
                symlink(entry, target);
            } else if (entry.isLink()) {
                hardLink(entry, target);
            } else if (entry.isFile()) {
                writeFile(target, in, entry.getMode());
            } else {
                report.accept("skipped archive entry " + entry.getName() + ": unsupported type");
            }
        }
    }

    /** The path an entry name maps to, or null (reported unless it is the root itself). */
    private Path target(String name) {
        List<String> parts = new ArrayList<>();
        for (String part : name.split("/")) { // a leading "/" gives empty parts: re-rooted
            if (part.isEmpty() || part.equals(".")) {
                continue;
            }
            if (part.equals("..")) {
                report.accept("skipped archive entry " + name + ": path escapes the destination");
                return null;
            }
            parts.add(part);
        }
        if (renameFirst != null && !parts.isEmpty()) {
            parts.set(0, renameFirst);
        }
        if (parts.isEmpty()) {
            return null;
        }
        Path p = root;
        for (String part : parts) {
            p = p.resolve(part);
        }
        return p;
    }

    /** Every existing component between the root and {@code target} must be a real directory. */
    private boolean safeParents(Path target, String name) throws IOException {
        Path p = root;
        for (Path part : root.relativize(target.getParent() == null ? root : target.getParent())) {
            if (part.toString().isEmpty()) {
                continue;
            }
            p = p.resolve(part);
            if (Files.isSymbolicLink(p)) {
                report.accept("skipped archive entry " + name + ": path goes through a symlink");
                return false;
            }
            if (Files.exists(p, LinkOption.NOFOLLOW_LINKS) && !Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
                report.accept("skipped archive entry " + name + ": a parent is not a directory");
                return false;
            }
            if (!Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
                makeDir(p, 0755);
            }
        }
        return true;
    }

    private void makeDir(Path dir, int mode) throws IOException {
        if (Files.isSymbolicLink(dir)) {
            Files.delete(dir);
        }
        if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
            if (Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
                Files.delete(dir);
            }
            Files.createDirectory(dir);
            written.add(dir);
        }
        Files.setPosixFilePermissions(dir, permissions(mode | 0700));
    }

    private void writeFile(Path file, InputStream content, int mode) throws IOException {
        if (Files.isDirectory(file, LinkOption.NOFOLLOW_LINKS)) {
            report.accept("skipped archive entry " + root.relativize(file) + ": a directory is in the way");
            return;
        }
        Files.deleteIfExists(file); // never write through an existing symlink
        try (OutputStream out = Files.newOutputStream(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE,
                LinkOption.NOFOLLOW_LINKS)) {
            content.transferTo(out);
        }
        Files.setPosixFilePermissions(file, permissions(mode));
        written.add(file);
    }

    private void hardLink(TarArchiveEntry entry, Path link) throws IOException {
        Path target = target(entry.getLinkName());
        if (target == null) {
            return; // the target name itself was refused (and reported)
        }
        if (!Files.isRegularFile(target, LinkOption.NOFOLLOW_LINKS) || !safeParents(target, entry.getLinkName())) {
            report.accept("skipped hard link " + entry.getName() + ": target " + entry.getLinkName()
                    + " is not a file inside the destination");
            return;
        }
        if (!replace(link, entry.getName())) {
            return;
        }
        Files.createLink(link, target);
        written.add(link);
    }

    /** The link as it is, wherever it points; later entries under it are skipped (safeParents). */
    private void symlink(TarArchiveEntry entry, Path link) throws IOException {
        if (!replace(link, entry.getName())) {
            return;
        }
        Files.createSymbolicLink(link, Path.of(entry.getLinkName()));
        written.add(link);
    }

    /** Clears the way for a link; false (reported) when a directory is there. */
    private boolean replace(Path link, String name) throws IOException {
        if (Files.isDirectory(link, LinkOption.NOFOLLOW_LINKS)) {
            report.accept("skipped link " + name + ": a directory is in the way");
            return false;
        }
        Files.deleteIfExists(link);
        return true;
    }

    private static Set<PosixFilePermission> permissions(int mode) {
        int m = mode & 0777 & ~UMASK;
        Set<PosixFilePermission> set = EnumSet.noneOf(PosixFilePermission.class);
        PosixFilePermission[] order = {
            PosixFilePermission.OTHERS_EXECUTE, PosixFilePermission.OTHERS_WRITE, PosixFilePermission.OTHERS_READ,
            PosixFilePermission.GROUP_EXECUTE, PosixFilePermission.GROUP_WRITE, PosixFilePermission.GROUP_READ,
            PosixFilePermission.OWNER_EXECUTE, PosixFilePermission.OWNER_WRITE, PosixFilePermission.OWNER_READ,
        };
        for (int i = 0; i < order.length; i++) {
            if ((m & (1 << i)) != 0) {
                set.add(order[i]);
            }
        }
        return set;
    }
}
