package ai.dstack.agent.task;

import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Locale;

/** Where a task is in its life (docs/shim.md §3.1); the wire form is the lower-case name. */
public enum TaskStatus {
    PENDING, PREPARING, PULLING, CREATING, RUNNING, TERMINATED;

    @JsonValue
    public String wire() {
        return name().toLowerCase(Locale.ROOT);
    }
}
