package ai.dstack.agent.task;

import ai.dstack.agent.docker.PortMapping;
import ai.dstack.agent.docker.PullProgress;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.List;

/**
 * A snapshot of one task: what it runs, where it is, and which host resources it holds. Immutable;
 * the task service swaps snapshots and writes each to the task file.
 *
 * @param spec               what the server submitted
 * @param status             lifecycle status
 * @param terminationReason  "" until terminated; first non-empty reason wins
 * @param terminationMessage "" if none
 * @param containerName      {@code <name>-<8 hex>}
 * @param runnerDir          host runner dir, bind-mounted at /tmp/runner
 * @param containerId        engine id, "" until the container exists
 * @param ports              null until the container started, then the published ports ([] in host mode)
 * @param pullProgress       null until the first layer event of a pull
 * @param gpuIds             null before GPU allocation, then the allocated ids
 * @param hostKeysAdded      whether the host user's authorized_keys hold this task's keys
 * @param volumesPrepared    whether this task's volumes may be mounted on the host
 */
public record TaskState(@JsonProperty("spec") TaskSpec spec, @JsonProperty("status") TaskStatus status,
                        @JsonProperty("termination_reason") String terminationReason,
                        @JsonProperty("termination_message") String terminationMessage,
                        @JsonProperty("container_name") String containerName,
                        @JsonProperty("runner_dir") String runnerDir,
                        @JsonProperty("container_id") String containerId,
                        @JsonProperty("ports") List<PortMapping> ports,
                        @JsonProperty("image_pull_progress") PullProgress pullProgress,
                        @JsonProperty("gpus_ids") List<String> gpuIds,
                        @JsonProperty("host_keys_added") boolean hostKeysAdded,
                        @JsonProperty("volumes_prepared") boolean volumesPrepared) {
    public TaskState {
        terminationReason = terminationReason == null ? "" : terminationReason;
        terminationMessage = terminationMessage == null ? "" : terminationMessage;
        containerId = containerId == null ? "" : containerId;
        ports = ports == null ? null : List.copyOf(ports);
        gpuIds = gpuIds == null ? null : List.copyOf(gpuIds);
    }

    /** A freshly submitted task. */
    public static TaskState pending(TaskSpec spec, String containerName, String runnerDir) {
        return new TaskState(spec, TaskStatus.PENDING, "", "", containerName, runnerDir, "", null, null, null, false, false);
    }

    public String id() {
        return spec.id();
    }

    public boolean terminated() {
        return status == TaskStatus.TERMINATED;
    }

    public TaskState withStatus(TaskStatus next) {
        return new TaskState(spec, next, terminationReason, terminationMessage, containerName, runnerDir, containerId,
                ports, pullProgress, gpuIds, hostKeysAdded, volumesPrepared);
    }

    /** Terminated; a non-empty reason already stored wins over the new one (docs/shim.md §3.1). */
    public TaskState terminatedWith(String reason, String message) {
        boolean keep = terminated() && !terminationReason.isEmpty();
        return new TaskState(spec, TaskStatus.TERMINATED, keep ? terminationReason : reason,
                keep ? terminationMessage : message, containerName, runnerDir, containerId, ports, pullProgress,
                gpuIds, hostKeysAdded, volumesPrepared);
    }

    public TaskState withContainerId(String id) {
        return new TaskState(spec, status, terminationReason, terminationMessage, containerName, runnerDir, id, ports,
                pullProgress, gpuIds, hostKeysAdded, volumesPrepared);
    }

    public TaskState withPorts(List<PortMapping> published) {
        return new TaskState(spec, status, terminationReason, terminationMessage, containerName, runnerDir, containerId,
                published, pullProgress, gpuIds, hostKeysAdded, volumesPrepared);
    }

    public TaskState withPullProgress(PullProgress progress) {
        return new TaskState(spec, status, terminationReason, terminationMessage, containerName, runnerDir, containerId,
                ports, progress, gpuIds, hostKeysAdded, volumesPrepared);
    }

    public TaskState withGpuIds(List<String> ids) {
        return new TaskState(spec, status, terminationReason, terminationMessage, containerName, runnerDir, containerId,
                ports, pullProgress, ids, hostKeysAdded, volumesPrepared);
    }

    public TaskState withHostKeysAdded(boolean added) {
        return new TaskState(spec, status, terminationReason, terminationMessage, containerName, runnerDir, containerId,
                ports, pullProgress, gpuIds, added, volumesPrepared);
    }

    public TaskState withVolumesPrepared(boolean prepared) {
        return new TaskState(spec, status, terminationReason, terminationMessage, containerName, runnerDir, containerId,
                ports, pullProgress, gpuIds, hostKeysAdded, prepared);
    }
}
