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
     * A collector for the real system.
     *
     * @param gpuToolTimeout longest wait for one GPU tool run
     * @param gpuCache       how long a GPU tool reading is reused
     */
    public static MetricsCollector forSystem(Duration gpuToolTimeout, Duration gpuCache) {
        Path root = Path.of("/");
        return new MetricsCollector(root, GpuTool.detect(root, System.getenv("PATH"), gpuToolTimeout, gpuCache));
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
