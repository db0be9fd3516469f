package ai.dstack.agent.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

/** Shell scripts standing in for tools this machine lacks (vendor CLIs, hooks), in a folder put on {@code PATH}. */
public final class FakeExecutables {
    private final Path dir;

    public FakeExecutables(Path dir) {
        this.dir = dir;
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The folder to put first on {@code PATH}. */
    public Path dir() {
        return dir;
    }

    /** {@code dir:<the agent's PATH>}, so real tools stay reachable behind the fakes. */
    public String pathBeforeSystem() {
        return dir + ":" + System.getenv().getOrDefault("PATH", "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin");
    }

    /** Writes an executable {@code /bin/sh} script named {@code name} with this body. */
    public Path script(String name, String body) {
        Path file = dir.resolve(name);
        try {
            Files.writeString(file, "#!/bin/sh\n" + body + "\n");
            Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwxr-xr-x"));
            return file;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A tool that prints a file's content and exits 0, whatever its arguments. */
    public Path printing(String name, Path output) {
        return script(name, "cat '" + output + "'");
    }
}
