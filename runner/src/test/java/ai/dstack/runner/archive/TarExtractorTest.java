package ai.dstack.runner.archive;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TarExtractorTest {
    @TempDir
    Path dir;

    private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    private final TarArchiveOutputStream tar = new TarArchiveOutputStream(bytes);
    private final List<String> skipped = new ArrayList<>();

    private void file(String name, String content) throws IOException {
        byte[] b = content.getBytes(StandardCharsets.UTF_8);
        TarArchiveEntry e = new TarArchiveEntry(name, true);
        e.setSize(b.length);
        tar.putArchiveEntry(e);
        tar.write(b);
        tar.closeArchiveEntry();
    }

    private void link(String name, String target, byte type) throws IOException {
        TarArchiveEntry e = new TarArchiveEntry(name, type, true);
        e.setLinkName(target);
        tar.putArchiveEntry(e);
        tar.closeArchiveEntry();
    }

    private List<Path> extract(Path root, String rename) throws IOException {
        tar.close();
        return TarExtractor.extract(new ByteArrayInputStream(bytes.toByteArray()), root, rename, skipped::add);
    }

    @Test
    void hardLinksToOutsideFilesAndThroughSymlinksAreSkipped() throws IOException {
        Path secret = Files.writeString(dir.resolve("secret.txt"), "secret");
        Path root = dir.resolve("root");
        file("a.txt", "a");
        link("hard-ok", "a.txt", TarArchiveEntry.LF_LINK);
        link("hard-out", "../secret.txt", TarArchiveEntry.LF_LINK);
        link("hard-abs", secret.toString(), TarArchiveEntry.LF_LINK);
        List<Path> written = extract(root, null);
        assertThat(Files.readString(root.resolve("hard-ok"))).isEqualTo("a");
        assertThat(root.resolve("hard-out")).doesNotExist();
        assertThat(root.resolve("hard-abs")).doesNotExist();
        assertThat(written).containsExactly(root.resolve("a.txt"), root.resolve("hard-ok"));
        assertThat(skipped).hasSize(2);
    }

    @Test
    void anExistingSymlinkInTheDestinationIsNeverWrittenThrough() throws IOException {
        Path outside = Files.createDirectories(dir.resolve("outside"));
        Path root = Files.createDirectories(dir.resolve("root"));
        Files.createSymbolicLink(root.resolve("sub"), outside);
        Files.createSymbolicLink(root.resolve("f.txt"), outside.resolve("victim.txt"));
        file("sub/x.txt", "no");
        file("f.txt", "replaced");
        extract(root, null);
        assertThat(outside.resolve("x.txt")).doesNotExist();
        assertThat(outside.resolve("victim.txt")).doesNotExist();
        assertThat(Files.isSymbolicLink(root.resolve("f.txt"))).isFalse();
        assertThat(Files.readString(root.resolve("f.txt"))).isEqualTo("replaced");
        assertThat(skipped).singleElement().asString().contains("sub/x.txt");
    }

    @Test
    void symlinksAreCreatedAsTheyAreAlsoPointingOutsideAndNothingIsWrittenThroughThem() throws IOException {
        Path outside = Files.createDirectories(dir.resolve("outside"));
        Path root = dir.resolve("root");
        link("python", "/usr/bin/python3", TarArchiveEntry.LF_SYMLINK);
        link("shared", "../shared", TarArchiveEntry.LF_SYMLINK);
        link("tmp", outside.toString(), TarArchiveEntry.LF_SYMLINK);
        file("tmp/escaped.txt", "no");
        file("tmp/deeper/escaped.txt", "no");
        link("tmp/link", "/etc/passwd", TarArchiveEntry.LF_SYMLINK);
        file("src/main.py", "print()\n");
        link("src/self", "main.py", TarArchiveEntry.LF_SYMLINK);
        List<Path> written = extract(root, null);
        assertThat(Files.readSymbolicLink(root.resolve("python"))).isEqualTo(Path.of("/usr/bin/python3"));
        assertThat(Files.readSymbolicLink(root.resolve("shared"))).isEqualTo(Path.of("../shared"));
        assertThat(Files.readSymbolicLink(root.resolve("tmp"))).isEqualTo(outside);
        assertThat(Files.readString(root.resolve("src/self"))).isEqualTo("print()\n");
        try (var left = Files.list(outside)) {
            assertThat(left).as("nothing lands in the link's target").isEmpty();
        }
        assertThat(written).contains(root.resolve("python"), root.resolve("shared"), root.resolve("tmp"));
        assertThat(String.join("\n", skipped)).contains("tmp/escaped.txt", "tmp/deeper/escaped.txt", "tmp/link");
    }

    @Test
    void absoluteEntryNamesAreReRootedUnderTheDestination() throws IOException {
        Path root = dir.resolve("root");
        file("/etc/from-the-tar", "x");
        file("//abs/dir/f.txt", "y");
        extract(root, null);
        assertThat(Files.readString(root.resolve("etc/from-the-tar"))).isEqualTo("x");
        assertThat(Files.readString(root.resolve("abs/dir/f.txt"))).isEqualTo("y");
        assertThat(skipped).isEmpty();
    }

    @Test
    void theFirstComponentIsRenamedForFileArchives() throws IOException {
        file("src/dir/a.txt", "a");
        extract(dir, "dest");
        assertThat(Files.readString(dir.resolve("dest/dir/a.txt"))).isEqualTo("a");
    }
}
