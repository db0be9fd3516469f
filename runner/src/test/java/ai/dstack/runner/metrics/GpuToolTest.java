package ai.dstack.runner.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GpuToolTest {
    private static final long MIB = 1024 * 1024;

    @TempDir
    Path root;
    Path bin;
    Path calls;

    @BeforeEach
    void dirs() throws IOException {
        bin = Files.createDirectories(root.resolve("bin"));
        Files.createDirectories(root.resolve("dev"));
        calls = root.resolve("calls");
    }

    /** A fake vendor tool that logs its arguments and then runs {@code body}. */
    private void tool(Path where, String body) throws IOException {
        Files.createDirectories(where.getParent());
        Files.writeString(where, "#!/bin/sh\necho \"$@\" >> " + calls + "\n" + body + "\n");
        Files.setPosixFilePermissions(where, PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    private GpuTool detect(Duration timeout) {
        return GpuTool.detect(root, "/nonexistent:" + bin, timeout, Duration.ZERO);
    }

    @Test
    void nvidiaFiguresComeFromNvidiaSmi() throws Exception {
        Files.createFile(root.resolve("dev/nvidiactl"));
        tool(bin.resolve("nvidia-smi"), "printf '1024, 37\\n80000, 100\\n'");
        GpuTool gpu = detect(Duration.ofSeconds(10));
        assertThat(gpu.vendor()).isEqualTo(GpuTool.Vendor.NVIDIA);
        assertThat(gpu.read()).containsExactly(new GpuMetrics(1024 * MIB, 37), new GpuMetrics(80000 * MIB, 100));
        assertThat(Files.readString(calls).trim())
                .isEqualTo("--query-gpu=memory.used,utilization.gpu --format=csv,noheader,nounits");
    }

    @Test
    void wslNvidiaSmiHasAFixedPath() throws Exception {
        Files.createFile(root.resolve("dev/dxg"));
        tool(root.resolve("usr/lib/wsl/lib/nvidia-smi"), "echo '5, 6'");
        assertThat(detect(Duration.ofSeconds(10)).read()).containsExactly(new GpuMetrics(5 * MIB, 6));
    }

    @Test
    void gaudiFiguresComeFromHlSmi() throws Exception {
        Files.createDirectories(root.resolve("dev/accel"));
        tool(bin.resolve("hl-smi"), "echo '512, 9'");
        assertThat(detect(Duration.ofSeconds(10)).read()).containsExactly(new GpuMetrics(512 * MIB, 9));
        assertThat(Files.readString(calls)).startsWith("--query-aip=memory.used,utilization.aip");
    }

    @Test
    void amdFiguresComeFromAmdSmiColumnsByName() throws Exception {
        Files.createFile(root.resolve("dev/kfd"));
        tool(bin.resolve("amd-smi"), "printf 'gpu,gfx,mem,vram_used,vram_total\\n0,12,3,2048,196592\\n1,0,0,0,196592\\n'");
        assertThat(detect(Duration.ofSeconds(10)).read())
                .containsExactly(new GpuMetrics(2048 * MIB, 12), new GpuMetrics(0, 0));
        assertThat(Files.readString(calls).trim()).isEqualTo("monitor -vu --csv");
        assertThat(GpuTool.parseAmd("gpu,gfx,vram_used\n0,N/A,5\n")).isEmpty();
    }

    @Test
    void tenstorrentAndNoDeviceGiveNoGpusWithoutRunningAnything() throws Exception {
        assertThat(detect(Duration.ofSeconds(10)).vendor()).isEqualTo(GpuTool.Vendor.NONE);
        assertThat(detect(Duration.ofSeconds(10)).read()).isEmpty();
        Files.createDirectories(root.resolve("dev/tenstorrent"));
        assertThat(detect(Duration.ofSeconds(10)).vendor()).isEqualTo(GpuTool.Vendor.TENSTORRENT);
        assertThat(detect(Duration.ofSeconds(10)).read()).isEmpty();
        assertThat(calls).doesNotExist();
    }

    @Test
    void aFailingHangingMissingOrGarbledToolNeverFails() throws Exception {
        Files.createFile(root.resolve("dev/nvidiactl"));
        assertThat(detect(Duration.ofSeconds(10)).read()).as("missing tool").isEmpty();
        tool(bin.resolve("nvidia-smi"), "echo '1, 2'; exit 3");
        assertThat(detect(Duration.ofSeconds(10)).read()).as("non-zero exit").isEmpty();
        tool(bin.resolve("nvidia-smi"), "echo '1, 2'; echo 'No devices were found'; echo '3, 4'");
        assertThat(detect(Duration.ofSeconds(10)).read()).as("lines before the bad one")
                .containsExactly(new GpuMetrics(MIB, 2));
        tool(bin.resolve("nvidia-smi"), "exec sleep 60");
        assertThat(detect(Duration.ofMillis(200)).read()).as("timed out").isEmpty();
    }

    @Test
    void resultsAreCachedForTheConfiguredTime() throws Exception {
        tool(bin.resolve("nvidia-smi"), "echo '1, 2'");
        AtomicLong clock = new AtomicLong();
        GpuTool gpu = new GpuTool(GpuTool.Vendor.NVIDIA, List.of(bin.resolve("nvidia-smi").toString()),
                Duration.ofSeconds(10), Duration.ofSeconds(2), clock::get);
        gpu.read();
        clock.addAndGet(Duration.ofMillis(1999).toNanos());
        assertThat(gpu.read()).containsExactly(new GpuMetrics(MIB, 2));
        assertThat(Files.readAllLines(calls)).hasSize(1);
        clock.addAndGet(Duration.ofMillis(1).toNanos());
        gpu.read();
        assertThat(Files.readAllLines(calls)).hasSize(2);
    }
}
