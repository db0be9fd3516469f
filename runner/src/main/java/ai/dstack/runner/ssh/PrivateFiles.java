package ai.dstack.runner.ssh;

import ai.dstack.runner.user.JobUser;
import ai.dstack.runner.user.Ownership;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;

/** Atomic writes of files with an exact mode and owner, so no reader ever sees a partial or wider-open file. */
final class PrivateFiles {
    private PrivateFiles() {
    }

    /** Replaces {@code file} with {@code content}, mode {@code perms} (e.g. {@code rw-------}), owned by {@code owner}. */
    static void write(Path file, String content, String perms, JobUser owner) throws IOException {
        Path tmp = Files.createTempFile(file.getParent(), "." + file.getFileName(), ".tmp",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        try {
            Files.writeString(tmp, content);
            if (owner != null) {
                Ownership.chown(tmp, owner);
            }
            Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString(perms));
            try (var ch = java.nio.channels.FileChannel.open(tmp, java.nio.file.StandardOpenOption.WRITE)) {
                ch.force(true);
            }
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /** Creates {@code dir} (and missing parents) and sets its mode; existing parents are untouched. */
    static Path directory(Path dir, String perms) throws IOException {
        Files.createDirectories(dir);
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString(perms));
        return dir;
    }
}
