package ai.dstack.runner.job;

/**
 * The parts of job setup provided from outside the executor.
 *
 * @param users      job user resolution
 * @param remoteRepo cloning of remote repos
 * @param home       per-job files in the user's home
 * @param ssh        the sshd (authorized keys, connection tracking)
 */
public record JobHooks(JobUserResolver users, RemoteRepoSetup remoteRepo, HomeSetup home, SshServer ssh) {
    /** The built-in defaults: runner identity, no remote repos, nothing in home, no sshd. */
    public static JobHooks defaults() {
        return new JobHooks(JobUserResolver.runnerIdentity(), RemoteRepoSetup.unsupported(), HomeSetup.none(),
                SshServer.unavailable());
    }
}
