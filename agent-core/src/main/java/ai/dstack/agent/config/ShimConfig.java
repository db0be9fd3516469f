package ai.dstack.agent.config;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * The shim's configuration, from flags and environment variables (docs/shim.md §1.1).
 *
 * @param home                 home directory: logs, task files, runner dirs, host_info.json
 * @param shimBinaryPath       where the dstack-shim component lives (the launcher, never the JVM)
 * @param httpPort             API port on loopback
 * @param logLevel             shim log level
 * @param runnerDownloadUrl    runner download URL for a startup install, "" for none
 * @param runnerBinaryPath     host path of the runner binary (the dstack-runner component)
 * @param runnerHttpPort       runner API port inside the container
 * @param runnerSshPort        runner sshd port inside the container
 * @param runnerSshLogLevel    forwarded to the runner's {@code --ssh-log-level}, "" to omit
 * @param runnerLogLevel       forwarded verbatim to the runner's {@code --log-level}
 * @param dcgmExporterHttpPort port of a spawned dcgm-exporter
 * @param dcgmExporterIntervalMs dcgm-exporter collect interval
 * @param dcgmAddress          nv-hostengine address, "" for embedded
 * @param passEnv              names of shim env vars copied into every container
 * @param privileged           force every container privileged
 * @param pjrtDevice           {@code PJRT_DEVICE} value for containers, "" for none
 * @param serviceMode          write host_info.json at startup
 * @param runnerRuntimeDir     runner runtime directory to mount into containers, empty when not configured
 * @param pluginsDir           plugins folder, "" for the default
 * @param plugins              comma-separated plugin ids to load, "" for all
 * @param waits                every long wait
 */
public record ShimConfig(Path home, Path shimBinaryPath, int httpPort, LogLevel logLevel, String runnerDownloadUrl,
                         Path runnerBinaryPath, int runnerHttpPort, int runnerSshPort, String runnerSshLogLevel,
                         String runnerLogLevel, int dcgmExporterHttpPort, long dcgmExporterIntervalMs,
                         String dcgmAddress, List<String> passEnv, boolean privileged, String pjrtDevice,
                         boolean serviceMode, Optional<Path> runnerRuntimeDir, String pluginsDir, String plugins,
                         Waits waits) {
    public ShimConfig {
        passEnv = List.copyOf(passEnv);
    }

    /** Directory of the task state files. */
    public Path tasksDir() {
        return home.resolve("tasks");
    }

    /** Directory of the per-task runner dirs. */
    public Path runnersDir() {
        return home.resolve("runners");
    }
}
