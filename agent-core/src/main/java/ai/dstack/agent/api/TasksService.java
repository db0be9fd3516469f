package ai.dstack.agent.api;

import ai.dstack.agent.task.TaskException;
import ai.dstack.agent.task.TaskService;
import ai.dstack.agent.task.TaskStatus;
import com.fasterxml.jackson.annotation.JsonProperty;
import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.HttpService;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import java.util.List;

/**
 * Tasks (docs/shim.md §2.9–§2.13).
 * <pre>
 * curl localhost:10998/api/tasks
 * curl -d '{"id":"t1","name":"job-0-0","image_name":"ubuntu:24.04"}' localhost:10998/api/tasks
 * curl localhost:10998/api/tasks/t1
 * curl -d '{"termination_reason":"terminated_by_user","timeout":0}' localhost:10998/api/tasks/t1/terminate
 * curl -X POST localhost:10998/api/tasks/t1/remove
 * </pre>
 */
final class TasksService implements HttpService {
    private final TaskService tasks;

    TasksService(TaskService tasks) {
        this.tasks = tasks;
    }

    @Override
    public void routing(HttpRules rules) {
        Routes.on(rules)
                .get("/api/tasks", this::list)
                .post("/api/tasks", this::submit)
                .get("/api/tasks/{id}", this::get)
                .post("/api/tasks/{id}/terminate", this::terminate)
                .post("/api/tasks/{id}/remove", this::remove)
                .otherMethodsNotAllowed();
    }

    record TaskListItem(@JsonProperty("id") String id, @JsonProperty("status") TaskStatus status) {
    }

    record TaskList(@JsonProperty("tasks") List<TaskListItem> tasks) {
    }

    /**
     * {@code POST /api/tasks/{id}/terminate} body.
     *
     * @param terminationReason  reason stored verbatim, default ""
     * @param terminationMessage message, default ""
     * @param timeout            seconds of grace after the stop signal, default 0
     */
    record TerminateRequest(@JsonProperty("termination_reason") String terminationReason,
                            @JsonProperty("termination_message") String terminationMessage,
                            @JsonProperty("timeout") Long timeout) {
    }

    private void list(ServerRequest req, ServerResponse res) {
        Replies.json(res, new TaskList(tasks.list().stream().map(s -> new TaskListItem(s.id(), s.status())).toList()));
    }

    private void submit(ServerRequest req, ServerResponse res) throws ApiException {
        var spec = JsonBody.read(req, TaskSubmitRequest.class).toSpec();
        Replies.json(res, TaskInfoResponse.of(call(() -> tasks.submit(spec))));
    }

    private void get(ServerRequest req, ServerResponse res) throws ApiException {
        var state = tasks.get(req.path().pathParameters().get("id"))
                .orElseThrow(() -> new ApiException(404, "Not Found"));
        Replies.json(res, TaskInfoResponse.of(state));
    }

    private void terminate(ServerRequest req, ServerResponse res) throws ApiException {
        String id = req.path().pathParameters().get("id");
        TerminateRequest body = JsonBody.read(req, TerminateRequest.class);
        long timeout = body.timeout() == null ? 0 : body.timeout();
        if (timeout < 0) {
            throw JsonBody.invalidValue("timeout", null);
        }
        String reason = body.terminationReason() == null ? "" : body.terminationReason();
        String message = body.terminationMessage() == null ? "" : body.terminationMessage();
        Replies.json(res, TaskInfoResponse.of(call(() -> tasks.terminate(id, reason, message, timeout))));
    }

    private void remove(ServerRequest req, ServerResponse res) throws ApiException {
        String id = req.path().pathParameters().get("id");
        call(() -> {
            tasks.remove(id);
            return null;
        });
        Replies.ok(res);
    }

    @FunctionalInterface
    private interface TaskCall<T> {
        T run() throws TaskException;
    }

    private static <T> T call(TaskCall<T> call) throws ApiException {
        try {
            return call.run();
        } catch (TaskException e) {
            int status = switch (e.kind()) {
                case NOT_FOUND -> 404;
                case CONFLICT -> 409;
                case INTERNAL -> 500;
            };
            throw new ApiException(status, e.getMessage());
        }
    }
}
