package ai.dstack.runner.user;

/** The job user cannot be resolved; the message is the one recorded as the job's termination message. */
public final class JobUserException extends Exception {
    private final String detail;

    JobUserException(String detail) {
        super("Failed to set job user (" + detail + ")");
        this.detail = detail;
    }

    /** The reason without the {@code Failed to set job user} prefix. */
    public String detail() {
        return detail;
    }
}
