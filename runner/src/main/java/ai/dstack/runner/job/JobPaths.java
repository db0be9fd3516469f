package ai.dstack.runner.job;

import ai.dstack.runner.user.Ownership;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.function.Consumer;

/** Path expansion, directory creation and ownership changes that never follow symlinks. */
final class JobPaths {
    private JobPaths() {
    }

    /** {@code ~} → home, {@code ~/x} → home/x, relative → under {@code base}; {@code ~user} is an error. */
    static Path expand(String value, String home, Path base) throws SetupException {
        String p = value;
        if (p.equals("~")) {
            p = home;
        } else if (p.startsWith("~/")) {
            p = home + p.substring(1);
        } else if (p.startsWith("~")) {
            throw new SetupException("~user paths are not supported: " + value);
        }
        Path path = Path.of(p);
        if (!path.isAbsolute()) {
            if (base == null) {
                throw new SetupException("path is not absolute: " + value);
            }
            path = base.resolve(path);
        }
        return path.normalize();
    }

    /** Creates the missing components of {@code dir} (0755), chowning only the new ones. */
    static void makeDirs(Path dir, JobIdentity user) throws IOException {
        if (Files.isDirectory(dir)) {
            return;
        }
        Path parent = dir.getParent();
        if (parent != null) {
            makeDirs(parent, user);
        }
        Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        chown(dir, user);
    }

    /** lchown: a symlink itself changes owner, never its target. */
    static void chown(Path path, JobIdentity user) throws IOException {
        if (!user.isRoot()) {
            Ownership.chown(path, user.uid(), user.gid());
        }
    }

    /** Chowns a whole tree without following symlinks; failures are counted into {@code log}. */
    static void chownTree(Path root, JobIdentity user, Consumer<String> log) {
        if (user.isRoot() || !Files.exists(root, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        int failures = Ownership.chownTree(root, user.uid(), user.gid());
        if (failures > 0) {
            log.accept(failures + " entries under " + root + " could not be chowned");
        }
    }
}
