package ai.dstack.agent.cli;

import ai.dstack.agent.cli.ApiClient.ApiException;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintStream;

/**
 * The cleanup side of one CLI run: stop the job, terminate and remove the task, exactly once,
 * whether the run ended normally, failed, or was interrupted (Ctrl-C).
 */
final class JobSession {
    private final ApiClient shim;
    private final String taskId;
    private volatile ApiClient runner;
    private boolean finished;

    JobSession(ApiClient shim, String taskId) {
        this.shim = shim;
        this.taskId = taskId;
    }

    void attach(ApiClient runnerClient) {
        this.runner = runnerClient;
    }

    /** Interrupted: ask the runner to stop the job (its final logs stay pullable), then clean up. */
    void stop(PrintStream err) {
        ApiClient r = runner;
        if (r != null) {
            try {
                r.postBytes("/api/stop", new byte[0], null);
            } catch (ApiException e) {
                err.println("stopping the job: " + e.getMessage());
            }
        }
        finish(err, "terminated_by_user");
    }

    /** Terminates and removes the task (once); failures are reported, not thrown. */
    synchronized void finish(PrintStream err, String reason) {
        if (finished) {
            return;
        }
        finished = true;
        try {
            ObjectNode terminate = ApiClient.JSON.createObjectNode()
                    .put("termination_reason", reason).put("termination_message", "").put("timeout", 0);
            shim.postJson("/api/tasks/" + taskId + "/terminate", terminate);
            shim.postBytes("/api/tasks/" + taskId + "/remove", new byte[0], null);
        } catch (ApiException e) {
            if (e.status() != 404) {
                err.println("cleaning up task " + taskId + ": " + e.getMessage());
            }
        }
    }
}
