package ai.dstack.runner.job;

import java.util.function.Consumer;

/**
 * Files the job user's home gets before the job (git credentials, cluster SSH keys; docs/runner.md
 * §5.4, §5.5.3) and removes afterwards. Errors are logged, never fatal.
 */
public interface HomeSetup {
    void provision(Submission submission, JobIdentity user, Consumer<String> log);

    void cleanUp(JobIdentity user, Consumer<String> log);

    static HomeSetup none() {
        return new HomeSetup() {
            @Override
            public void provision(Submission submission, JobIdentity user, Consumer<String> log) {
            }

            @Override
            public void cleanUp(JobIdentity user, Consumer<String> log) {
            }
        };
    }
}
