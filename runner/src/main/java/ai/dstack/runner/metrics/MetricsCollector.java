package ai.dstack.runner.metrics;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

/**
 * Collects {@code /api/metrics} figures (docs/runner.md §7) from the container's cgroup (v2 or v1) and the GPU tool.
 * Detection is retried on each call until a hierarchy is found, so a late mount is picked up.
 */
public final class MetricsCollector {
    private final Path root;
    private final GpuTool gpus;
    private volatile Cgroup cgroup;

    /**
     * @param root directory holding {@code proc/self/mounts}, {@code proc/self/cgroup} and the cgroup mounts
     *             ({@code /} in production)
     * @param gpus the GPU tool ({@link GpuTool#detect})
     */
    public MetricsCollector(Path root, GpuTool gpus) {
        this.root = root;
        this.gpus = gpus;
    }

    /**
     * A collector for the real system, with the GPU tool timeout and cache from the environment:
     * {@code DSTACK_RUNNER_GPU_TOOL_TIMEOUT} (ms, default 5000) and {@code DSTACK_RUNNER_GPU_METRICS_CACHE}
     * (ms, default 2000).
     */
    public static MetricsCollector forSystem() {
        Path root = Path.of("/");
        return new MetricsCollector(root, GpuTool.detect(root, System.getenv("PATH"),
                millis("DSTACK_RUNNER_GPU_TOOL_TIMEOUT", 5000), millis("DSTACK_RUNNER_GPU_METRICS_CACHE", 2000)));
    }

    private static Duration millis(String env, long fallback) {
        String v = System.getenv(env);
        try {
            return Duration.ofMillis(v == null || v.isBlank() ? fallback : Long.parseLong(v.trim()));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(env + " must be a number of milliseconds: " + v, e);
        }
    }

    /**
     * Current figures.
     *
     * @throws MetricsUnavailableException no cgroup v2 or v1 (memory + cpuacct) hierarchy is mounted (→ 404)
     * @throws MetricsException a cgroup file cannot be read or parsed (→ 500)
     */
    public SystemMetrics collect() throws MetricsUnavailableException, MetricsException {
        Cgroup.Usage usage;
        try {
            usage = cgroup().read();
        } catch (IOException e) {
            throw new MetricsException("cannot read cgroup metrics: " + e.getMessage(), e);
        }
        Instant now = Instant.now();
        long micros = now.getEpochSecond() * 1_000_000L + now.getNano() / 1_000;
        return new SystemMetrics(micros, usage.cpuMicros(), usage.memoryBytes(), usage.workingSetBytes(), gpus.read());
    }

    private Cgroup cgroup() throws MetricsUnavailableException {
        Cgroup found = cgroup;
        if (found == null) {
            Optional<Cgroup> detected;
            try {
                detected = Cgroup.detect(root);
            } catch (IOException e) {
                throw new MetricsUnavailableException("cannot read mounts: " + e.getMessage());
            }
            found = detected.orElseThrow(() -> new MetricsUnavailableException("no cgroup v2 or v1 hierarchy"));
            cgroup = found;
        }
        return found;
    }
}
