package ai.dstack.runner.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MetricsCollectorTest {
    private static final GpuTool NO_GPU = new GpuTool(GpuTool.Vendor.NONE, List.of(), Duration.ofSeconds(1),
            Duration.ZERO, System::nanoTime);

    @TempDir
    Path tmp;

    private static Path recorded(String name) throws URISyntaxException {
        return Path.of(MetricsCollectorTest.class.getResource("/cgroup/" + name).toURI());
    }

    private static SystemMetrics collect(Path root) throws Exception {
        return new MetricsCollector(root, NO_GPU).collect();
    }

    @Test
    void cgroupV2InAContainerReadsTheNamespaceRoot() throws Exception {
        SystemMetrics m = collect(recorded("v2-container"));
        assertThat(m.cpuUsageMicro()).isEqualTo(1843213);
        assertThat(m.memoryUsageBytes()).isEqualTo(210767872);
        assertThat(m.memoryWorkingSetBytes()).isEqualTo(210767872 - 5357568);
        assertThat(m.gpus()).isEmpty();
    }

    @Test
    void cgroupV2OnAHostReadsTheOwnCgroupAndClampsTheWorkingSetAtZero() throws Exception {
        SystemMetrics m = collect(recorded("v2-host"));
        assertThat(m.cpuUsageMicro()).isEqualTo(99000001);
        assertThat(m.memoryUsageBytes()).isEqualTo(4096);
        assertThat(m.memoryWorkingSetBytes()).isZero();
    }

    @Test
    void cgroupV1RecordedInADockerContainerOfThisMachineReadsTheControllerMountRoot() throws Exception {
        // recorded in dstack-local/base:bookworm: /proc/self/cgroup names /docker/<id>, which is the mount root
        SystemMetrics m = collect(recorded("v1-docker"));
        assertThat(m.cpuUsageMicro()).isEqualTo(39685153 / 1000);
        assertThat(m.memoryUsageBytes()).isEqualTo(1515520);
        assertThat(m.memoryWorkingSetBytes()).isEqualTo(1515520 - 16384);
    }

    @Test
    void cgroupV1WinsOverAnEmptyUnifiedHierarchyAndUsesCombinedControllerMounts() throws Exception {
        SystemMetrics m = collect(recorded("v1-hybrid-host"));
        assertThat(m.cpuUsageMicro()).isEqualTo(5000000);
        assertThat(m.memoryUsageBytes()).isEqualTo(1048576);
        assertThat(m.memoryWorkingSetBytes()).as("clamped, not wrapped").isZero();
    }

    @Test
    void noCgroupMountIsUnavailableAndABrokenFileIsAnError() throws Exception {
        Files.createDirectories(tmp.resolve("proc/self"));
        Files.writeString(tmp.resolve("proc/self/mounts"), "proc /proc proc rw 0 0\n");
        assertThatThrownBy(() -> collect(tmp)).isInstanceOf(MetricsUnavailableException.class);

        copyTree(recorded("v2-container"), tmp);
        Files.writeString(tmp.resolve("sys/fs/cgroup/memory.current"), "max\n");
        MetricsCollector collector = new MetricsCollector(tmp, NO_GPU);
        assertThatThrownBy(collector::collect).isInstanceOf(MetricsException.class).hasMessageContaining("memory.current");
        Files.writeString(tmp.resolve("sys/fs/cgroup/memory.current"), "100\n");
        assertThat(collector.collect().memoryUsageBytes()).as("detected late, read again").isEqualTo(100);
    }

    @Test
    void thisMachinesOwnCgroupCountsCpuTimeAsItIsSpent() throws Exception {
        MetricsCollector collector = new MetricsCollector(Path.of("/"), NO_GPU);
        SystemMetrics before = collector.collect();
        long until = System.nanoTime() + 300_000_000L;
        long x = 0;
        while (System.nanoTime() < until) {
            x += Long.bitCount(x + System.nanoTime());
        }
        SystemMetrics after = collector.collect();
        assertThat(x).isPositive();
        assertThat(after.cpuUsageMicro()).isGreaterThan(before.cpuUsageMicro());
        assertThat(after.memoryUsageBytes()).isPositive();
        assertThat(after.timestampMicro()).isGreaterThan(before.timestampMicro());
    }

    @Test
    void jsonUsesTheWireNames() throws Exception {
        String json = new ObjectMapper().writeValueAsString(
                new SystemMetrics(1, 2, 3, 4, List.of(new GpuMetrics(5, 6))));
        assertThat(json).isEqualTo("{\"timestamp_micro\":1,\"cpu_usage_micro\":2,\"memory_usage_bytes\":3,"
                + "\"memory_working_set_bytes\":4,\"gpus\":[{\"gpu_memory_usage_bytes\":5,\"gpu_util_percent\":6}]}");
    }

    static void copyTree(Path from, Path to) throws IOException {
        try (var paths = Files.walk(from)) {
            for (Path p : paths.toList()) {
                Path target = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(p, target, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                }
            }
        }
    }
}
