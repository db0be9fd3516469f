package ai.dstack.agent.docker;

/** The labels on task containers: Go's two, plus ours naming the shim home that owns the container. */
public final class Labels {
    /** Marks a dstack task container (Go shim too). */
    public static final String IS_TASK = "ai.dstack.shim.is-task";
    /** The task id (Go shim too). */
    public static final String TASK_ID = "ai.dstack.shim.task-id";
    /** Absolute home of the shim that owns the container, so shims sharing an engine never touch each other's. */
    public static final String HOME = "ai.dstack.shim.home";

    private Labels() {
    }
}
