package ai.dstack.runner.repo;

/**
 * The repo step failed; the message is the job's termination message
 * ({@code failed} / {@code container_exited_with_error}).
 */
public final class RepoSetupException extends Exception {
    private final String detail;

    RepoSetupException(String detail) {
        this(detail, null);
    }

    RepoSetupException(String detail, Throwable cause) {
        super("Failed to set up the repo (" + detail + ")", cause);
        this.detail = detail;
    }

    /** The reason without the {@code Failed to set up the repo} prefix. */
    public String detail() {
        return detail;
    }
}
