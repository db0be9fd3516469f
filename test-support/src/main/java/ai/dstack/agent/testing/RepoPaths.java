package ai.dstack.agent.testing;

import java.nio.file.Files;
import java.nio.file.Path;

/** Paths of the source tree and its build outputs, as Maven passes them to tests. */
public final class RepoPaths {
    private RepoPaths() {
    }

    /** The repository root (system property {@code agent.repo.root}, else found upwards from the cwd). */
    public static Path root() {
        String prop = System.getProperty("agent.repo.root");
        if (prop != null && !prop.isBlank()) {
            return Path.of(prop).toAbsolutePath().normalize();
        }
        Path dir = Path.of("").toAbsolutePath();
        while (dir != null && !Files.isDirectory(dir.resolve(".mvn"))) {
            dir = dir.getParent();
        }
        if (dir == null) {
            throw new IllegalStateException("cannot find the repository root from " + Path.of("").toAbsolutePath());
        }
        return dir;
    }

    /** The build-output plugins folder every plugin zip is copied to. */
    public static Path builtPlugins() {
        String prop = System.getProperty("agent.plugins.dir");
        return prop != null && !prop.isBlank() ? Path.of(prop) : root().resolve("plugins/target/plugins");
    }
}
