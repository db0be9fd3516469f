package ai.dstack.agent.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
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

    /** Copies the built zips of these plugin ids (all when none are named) into {@code dir}. */
    public static void copyBuiltPlugins(Path dir, String... ids) {
        try (var zips = Files.list(builtPlugins())) {
            Files.createDirectories(dir);
            for (Path zip : zips.filter(p -> p.toString().endsWith(".zip")).toList()) {
                String id = zip.getFileName().toString().replaceFirst("\\.zip$", "");
                if (ids.length == 0 || java.util.Arrays.asList(ids).contains(id)) {
                    Files.copy(zip, dir.resolve(zip.getFileName()));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("copy built plugins from " + builtPlugins() + " (run the build first)", e);
        }
    }

    /** A test fixture file of a plugin module, e.g. {@code fixture("gpu-amd", "amd-smi/empty.json")}. */
    public static Path fixture(String pluginId, String path) {
        return root().resolve("plugins").resolve(pluginId).resolve("src/test/resources").resolve(path);
    }
}
