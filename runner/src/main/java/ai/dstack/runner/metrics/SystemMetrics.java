package ai.dstack.runner.metrics;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.List;

/**
 * Body of {@code GET /api/metrics} (docs/runner.md §7).
 *
 * @param timestampMicro wall clock when the figures were read, µs since the epoch
 * @param cpuUsageMicro cumulative CPU time of the container's cgroup, µs
 * @param memoryUsageBytes memory charged to the cgroup, bytes
 * @param memoryWorkingSetBytes usage minus inactive file cache, clamped at 0
 * @param gpus one entry per GPU the vendor tool reported; empty when there is none or the tool failed
 */
public record SystemMetrics(
        @JsonProperty("timestamp_micro") long timestampMicro,
        @JsonProperty("cpu_usage_micro") long cpuUsageMicro,
        @JsonProperty("memory_usage_bytes") long memoryUsageBytes,
        @JsonProperty("memory_working_set_bytes") long memoryWorkingSetBytes,
        @JsonProperty("gpus") List<GpuMetrics> gpus) {
    public SystemMetrics {
        gpus = List.copyOf(gpus);
    }
}
