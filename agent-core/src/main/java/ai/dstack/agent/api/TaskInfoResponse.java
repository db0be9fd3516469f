package ai.dstack.agent.api;

import ai.dstack.agent.docker.PortMapping;
import ai.dstack.agent.docker.PullProgress;
import ai.dstack.agent.task.TaskState;
import ai.dstack.agent.task.TaskStatus;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.List;

/** {@code GET /api/tasks/{id}} (docs/shim.md §2.11); {@code ports} and the progress are always present, possibly null. */
record TaskInfoResponse(@JsonProperty("id") String id, @JsonProperty("status") TaskStatus status,
                        @JsonProperty("termination_reason") String terminationReason,
                        @JsonProperty("termination_message") String terminationMessage,
                        @JsonProperty("ports") List<PortMapping> ports,
                        @JsonProperty("image_pull_progress") PullProgress imagePullProgress,
                        @JsonProperty("container_name") String containerName,
                        @JsonProperty("container_id") String containerId,
                        @JsonProperty("gpus_ids") List<String> gpusIds) {
    static TaskInfoResponse of(TaskState s) {
        return new TaskInfoResponse(s.id(), s.status(), s.terminationReason(), s.terminationMessage(), s.ports(),
                s.pullProgress(), s.containerName(), s.containerId(), s.gpuIds());
    }
}
