package ai.dstack.runner.metrics;

import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * One GPU's figures as the vendor tool reports them.
 *
 * @param gpuMemoryUsageBytes device memory in use, bytes
 * @param gpuUtilPercent compute utilisation, percent
 */
public record GpuMetrics(
        @JsonProperty("gpu_memory_usage_bytes") long gpuMemoryUsageBytes,
        @JsonProperty("gpu_util_percent") long gpuUtilPercent) {
}
