package ai.dstack.runner.job;


/** Turns {@code job_spec.user} into a Unix identity (docs/runner.md §5.2). */
public interface JobUserResolver {
    /**
     * @param requested the submitted user, null when the job names none
     * @param runner    the runner's own identity
     */
    JobIdentity resolve(Submission.User requested, JobIdentity runner) throws SetupException;

    /** Until /etc/passwd resolution is wired in, every job runs as the runner's identity. */
    static JobUserResolver runnerIdentity() {
        return (requested, runner) -> runner;
    }
}
