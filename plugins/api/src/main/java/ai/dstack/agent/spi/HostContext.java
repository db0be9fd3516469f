package ai.dstack.agent.spi;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * What the agent lends a plugin: the host filesystem (under a settable root, for reads only), the
 * vendor tools on {@code PATH} (or from their images), long-running helpers and the operator's
 * settings. The agent's implementation holds the policy (timeouts, environment, tool images); tests
 * pass a fake tree and fake tools, and the plugin's code path stays the real one.
 */
public interface HostContext {
    /**
     * Where a logical host path (e.g. {@code /dev/kfd}) is read from: the host root joined with it.
     * Paths handed to Docker or to tools stay logical.
     */
    Path hostPath(String logicalPath);

    /** Whether something exists at a logical path (read under the host root, links not followed). */
    default boolean exists(String logicalPath) {
        return java.nio.file.Files.exists(hostPath(logicalPath), java.nio.file.LinkOption.NOFOLLOW_LINKS);
    }

    /**
     * Reads a symlink at a logical path and returns its target as a logical absolute path, resolved
     * as if the host root were {@code /}; null when it is not a link or cannot be read.
     */
    default String readLink(String logicalPath) {
        try {
            String target = java.nio.file.Files.readSymbolicLink(hostPath(logicalPath)).toString();
            Path logical = target.startsWith("/") ? Path.of(target) : Path.of(logicalPath).resolveSibling(target);
            return logical.normalize().toString();
        } catch (java.io.IOException | UnsupportedOperationException e) {
            return null;
        }
    }

    /** Runs an executable found on {@code PATH} with the given arguments, killed after {@code timeout}. */
    ToolResult run(Duration timeout, List<String> command);

    /** Runs an executable found on {@code PATH}, killed after the operator's tool timeout. */
    ToolResult run(List<String> command);

    /**
     * Runs {@code tool args} when the tool is on {@code PATH}, else the tool from its container image
     * (the core picks the image and runs it with {@code docker run --rm <dockerArgs>}, e.g.
     * {@code --device /dev/kfd}); killed after the operator's tool timeout either way.
     */
    ToolResult runInstalledOrImage(String tool, List<String> dockerArgs, List<String> args);

    /**
     * Starts a long-running helper found on {@code PATH} (e.g. a metrics exporter) with the agent's
     * environment, its output discarded. The caller stops it.
     *
     * @throws IOException when it is not on {@code PATH} or cannot be started
     */
    Process start(List<String> command) throws IOException;

    /**
     * A setting's value by its name in the agent's configuration table, as the operator set it or its
     * default: one the plugin declared ({@link AcceleratorPlugin#settings()},
     * {@link StoragePlugin#settings()}) or a core flag passed through to plugins (the Go shim's
     * {@code dcgm-exporter-http-port}, {@code dcgm-exporter-interval-ms}, {@code dcgm-address}).
     * The agent validated it at start.
     *
     * @throws IllegalArgumentException for a name the table does not have
     */
    String setting(String name);

    /** A {@link Setting.Kind#MILLIS} setting as a duration. */
    default Duration millis(String name) {
        return Duration.ofMillis(Long.parseLong(setting(name)));
    }
}
