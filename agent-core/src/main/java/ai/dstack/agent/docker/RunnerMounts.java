package ai.dstack.agent.docker;

import ai.dstack.agent.spi.BindMount;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Which runner a task gets (issue "shim API", in this order): (1) the configured runner runtime
 * dir; (2) the runtime unpacked from our single-file runner at the binary path;
 * (3) the file at the binary path alone, as the Go shim does; (4) the runtime bundled with the
 * agent. A runtime is mounted read-only at {@code /opt/dstack-runner} and its
 * {@code bin/dstack-runner} at {@code /usr/local/bin/dstack-runner}.
 *
 * @param binary  the mount at {@code /usr/local/bin/dstack-runner}
 * @param runtime the runtime dir mount, when a runtime is used
 */
public record RunnerMounts(BindMount binary, Optional<BindMount> runtime) {
    public static final String BINARY_TARGET = "/usr/local/bin/dstack-runner";
    public static final String RUNTIME_TARGET = "/opt/dstack-runner";

    /**
     * Chooses for a configured runtime dir, a runner binary path and the bundled runtime (may be absent).
     *
     * @throws IOException when the binary path holds our single-file runner and it cannot be unpacked
     */
    public static RunnerMounts choose(Optional<Path> runtimeDir, Path binaryPath, Optional<Path> bundledRuntime)
            throws IOException {
        if (runtimeDir.isPresent()) {
            return runtime(runtimeDir.get());
        }
        Optional<Path> unpacked = SingleFileRunner.runtime(binaryPath);
        if (unpacked.isPresent()) {
            return runtime(unpacked.get());
        }
        if (Files.exists(binaryPath) || bundledRuntime.filter(Files::isDirectory).isEmpty()) {
            // Missing everywhere: bind the binary path anyway, so the engine's error names it.
            return new RunnerMounts(new BindMount(binaryPath.toString(), BINARY_TARGET, false), Optional.empty());
        }
        return runtime(bundledRuntime.get());
    }

    private static RunnerMounts runtime(Path dir) {
        return new RunnerMounts(new BindMount(dir.resolve("bin/dstack-runner").toString(), BINARY_TARGET, true),
                Optional.of(new BindMount(dir.toString(), RUNTIME_TARGET, true)));
    }
}
