package ai.dstack.agent.spi;

/** A storage step failed; the message is shown to the user in the task's termination message. */
public class StorageException extends Exception {
    public StorageException(String message) {
        super(message);
    }

    public StorageException(String message, Throwable cause) {
        super(message, cause);
    }
}
