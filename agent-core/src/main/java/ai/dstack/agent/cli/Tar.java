package ai.dstack.agent.cli;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;

/** The uncompressed tar of a directory that the dstack CLI uploads for local repos. */
final class Tar {
    private Tar() {
    }

    static byte[] of(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            throw new IOException("--code " + dir + ": not a directory");
        }
        var bytes = new ByteArrayOutputStream();
        try (var tar = new TarArchiveOutputStream(bytes); Stream<Path> walk = Files.walk(dir)) {
            tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
            List<Path> paths = walk.filter(p -> !p.equals(dir)).sorted().toList();
            for (Path p : paths) {
                String name = dir.relativize(p).toString().replace('\\', '/');
                if (name.equals(".git") || name.startsWith(".git/")) {
                    continue;
                }
                if (Files.isSymbolicLink(p)) {
                    var entry = new TarArchiveEntry(name, TarArchiveEntry.LF_SYMLINK);
                    entry.setLinkName(Files.readSymbolicLink(p).toString());
                    tar.putArchiveEntry(entry);
                } else {
                    var entry = new TarArchiveEntry(p.toFile(), name);
                    entry.setMode((int) (Files.isExecutable(p) ? 0755 : 0644) | (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS) ? 040000 : 0100000));
                    tar.putArchiveEntry(entry);
                    if (Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
                        Files.copy(p, tar);
                    }
                }
                tar.closeArchiveEntry();
            }
        }
        return bytes.toByteArray();
    }
}
