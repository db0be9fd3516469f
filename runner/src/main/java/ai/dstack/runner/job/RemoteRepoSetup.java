package ai.dstack.runner.job;

import java.nio.file.Path;
import java.util.function.Consumer;

/** Clones a {@code remote} repo into the repo dir and applies the uploaded diff (docs/runner.md §5.5.2). */
public interface RemoteRepoSetup {
    /**
     * @param submission the job (repo data, credentials, single_branch)
     * @param repoDir    absolute, missing or empty (apart from {@code lost+found})
     * @param diff       the uploaded {@code git diff --binary}, null when no code was uploaded
     * @param log        the job's runner log
     */
    void setUp(Submission submission, JobIdentity user, Path repoDir, Path diff, Consumer<String> log)
            throws SetupException;

    /** Until JGit cloning is wired in, remote repos fail the job with a clear message. */
    static RemoteRepoSetup unsupported() {
        return (submission, user, repoDir, diff, log) -> {
            throw new SetupException("remote repos are not supported yet");
        };
    }
}
