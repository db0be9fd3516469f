package ai.dstack.runner.job;

import ai.dstack.runner.Settings;
import ai.dstack.runner.logs.LogBook;
import ai.dstack.runner.logs.RunnerLog;
import java.nio.file.Path;
import java.util.Map;

/**
 * What every job of this runner shares.
 *
 * @param tempDir     the runner's temp dir (logs, uploaded blobs)
 * @param dstackDir   {@code /dstack} (profile, MPI hostfile)
 * @param etcProfile  {@code /etc/profile}
 * @param runtimeHome the runner runtime (bundled loader and setpriv), null when running from a JDK
 * @param runnerEnv   the runner's own environment with {@code HOME} fixed
 * @param cwd         the runner's working directory (default job working dir)
 * @param runner      the runner's own identity
 * @param book        the log histories
 * @param log         the process logger
 * @param hooks       user resolution, remote repos, home files, sshd
 * @param settings    waits and limits
 */
public record JobContext(Path tempDir, Path dstackDir, Path etcProfile, Path runtimeHome, Map<String, String> runnerEnv,
                         Path cwd, JobIdentity runner, LogBook book, RunnerLog log, JobHooks hooks, Settings settings) {
}
