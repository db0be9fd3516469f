package ai.dstack.agent.task;

/** A task operation was refused; {@link Kind} says how the API reports it. */
public final class TaskException extends Exception {
    /** Why the operation was refused. */
    public enum Kind { NOT_FOUND, CONFLICT, INTERNAL }

    private final Kind kind;

    public TaskException(Kind kind, String message) {
        super(message);
        this.kind = kind;
    }

    public Kind kind() {
        return kind;
    }
}
