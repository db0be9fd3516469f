package ai.dstack.agent.spi;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * What the agent lends a plugin: the host filesystem (under a settable root, for reads only), the
 * vendor tools on {@code PATH} and the operator's tunable waits. Tests pass a fake tree and fake
 * tools; the code path stays the real one.
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
     * A wait the operator may tune, by key (e.g. {@code volume-attach-timeout}): environment variable
     * {@code DSTACK_SHIM_<KEY>} (upper case, dashes as underscores) in milliseconds, else the fallback.
     */
    Duration setting(String key, Duration fallback);

    /** The container image a vendor tool runs from when it is not installed on the host, by tool name. */
    default String toolImage(String tool) {
        return "dstackai/" + tool + ":latest";
    }

    /**
     * Runs {@code tool args} when the tool is on {@code PATH}, else {@code docker run --rm <dockerArgs>
     * <toolImage(tool)> args} (e.g. {@code --device /dev/kfd}).
     */
    default ToolResult runInstalledOrImage(String tool, List<String> dockerArgs, List<String> args) {
        List<String> direct = new ArrayList<>();
        direct.add(tool);
        direct.addAll(args);
        ToolResult result = run(direct);
        if (!result.notFound()) {
            return result;
        }
        List<String> viaDocker = new ArrayList<>(List.of("docker", "run", "--rm"));
        viaDocker.addAll(dockerArgs);
        viaDocker.add(toolImage(tool));
        viaDocker.addAll(args);
        return run(viaDocker);
    }
}
