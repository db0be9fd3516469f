package ai.dstack.agent.config;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
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
 * @param passEnv              names of shim env vars copied into every container
 * @param privileged           force every container privileged
 * @param pjrtDevice           {@code PJRT_DEVICE} value for containers, "" for none
 * @param serviceMode          write host_info.json at startup
 * @param runnerRuntimeDir     runner runtime directory to mount into containers, empty when not configured
 * @param pluginsDir           plugins folder, "" for the default
 * @param plugins              comma-separated plugin ids to load, "" for all
 * @param hostRoot             where plugins read host paths from
 * @param dockerHost           the Docker engine endpoint
 * @param pluginValues         core settings plugins may read by name ({@link ShimFlags#PASSED_TO_PLUGINS})
 * @param waits                every long wait
 * @param apiPeerCheck         refuse the API to processes of task containers
 */
public record ShimConfig(Path home, Path shimBinaryPath, int httpPort, LogLevel logLevel, String runnerDownloadUrl,
                         Path runnerBinaryPath, int runnerHttpPort, int runnerSshPort, String runnerSshLogLevel,
                         String runnerLogLevel, List<String> passEnv, boolean privileged, String pjrtDevice,
                         boolean serviceMode, Optional<Path> runnerRuntimeDir, String pluginsDir, String plugins,
                         Path hostRoot, String dockerHost, Map<String, String> pluginValues, Waits waits,
                         boolean apiPeerCheck) {
    public ShimConfig {
        passEnv = List.copyOf(passEnv);
        pluginValues = Map.copyOf(pluginValues);
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
