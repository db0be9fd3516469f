package ai.dstack.runner.job;

/** A job-setup step failed for a reason worth showing to the user (it ends up in the state event). */
public final class SetupException extends Exception {
    public SetupException(String message) {
        super(message);
    }

    public SetupException(String message, Throwable cause) {
        super(message, cause);
    }
}
