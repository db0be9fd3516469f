package ai.dstack.agent.spi;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * What the agent lends a plugin: the host filesystem (under a settable root, for reads only) and
 * the vendor tools on {@code PATH}. Tests pass a fake tree and fake tools; the code path stays the
 * real one.
 */
public interface HostContext {
    /**
     * Where a logical host path (e.g. {@code /dev/kfd}) is read from: the host root joined with it.
     * Paths handed to Docker or to tools stay logical.
     */
    Path hostPath(String logicalPath);

    /**
     * Reads a symlink at a logical path and returns its target as a logical absolute path, resolved
     * as if the host root were {@code /}; null when it is not a link or cannot be read.
     */
    String readLink(String logicalPath);

    /** Runs an executable found on {@code PATH} with the given arguments, killed after {@code timeout}. */
    ToolResult run(Duration timeout, List<String> command);

    /** The container image a vendor tool runs from when it is not installed on the host, by tool name. */
    default String toolImage(String tool) {
        return "dstackai/" + tool + ":latest";
    }
}
