package ai.dstack.agent.plugin.nvidia;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class DcgmExporterFilterTest {
    static final String SCRAPE = """
            # HELP DCGM_FI_DEV_GPU_UTIL GPU utilization (in %).
            # TYPE DCGM_FI_DEV_GPU_UTIL gauge
            DCGM_FI_DEV_GPU_UTIL{gpu="0",UUID="GPU-aaa",device="nvidia0",modelName="NVIDIA L4",Hostname="h"} 12
            DCGM_FI_DEV_GPU_UTIL{gpu="1",UUID="GPU-bbb",device="nvidia1",modelName="NVIDIA L4",Hostname="h"} 34
            # a comment that is dropped

            # HELP DCGM_FI_DEV_FB_USED Framebuffer memory used (in MiB).
            # TYPE DCGM_FI_DEV_FB_USED gauge
               DCGM_FI_DEV_FB_USED{gpu="1",UUID="GPU-bbb",device="nvidia1",modelName="NVIDIA L4",Hostname="h"} 2048   \s
            # HELP DCGM_FI_DEV_XID_ERRORS Value of the last XID error encountered.
            # TYPE DCGM_FI_DEV_XID_ERRORS gauge
            DCGM_FI_DEV_XID_ERRORS{gpu="0",UUID="GPU-aaa",device="nvidia0",modelName="NVIDIA L4",Hostname="h"} 0
            """;

    @Test
    void keepsOnlyTheTasksGpusWithTheirFamiliesHeadersOnce() {
        assertThat(DcgmExporter.filter(SCRAPE, List.of("GPU-bbb"))).isEqualTo("""
                # HELP DCGM_FI_DEV_GPU_UTIL GPU utilization (in %).
                # TYPE DCGM_FI_DEV_GPU_UTIL gauge
                DCGM_FI_DEV_GPU_UTIL{gpu="1",UUID="GPU-bbb",device="nvidia1",modelName="NVIDIA L4",Hostname="h"} 34
                # HELP DCGM_FI_DEV_FB_USED Framebuffer memory used (in MiB).
                # TYPE DCGM_FI_DEV_FB_USED gauge
                DCGM_FI_DEV_FB_USED{gpu="1",UUID="GPU-bbb",device="nvidia1",modelName="NVIDIA L4",Hostname="h"} 2048
                """);
    }

    @Test
    void severalGpusShareTheHeaders() {
        String out = DcgmExporter.filter(SCRAPE, List.of("GPU-aaa", "GPU-bbb"));
        assertThat(out.lines().filter(l -> l.startsWith("# TYPE DCGM_FI_DEV_GPU_UTIL")).count()).isEqualTo(1);
        assertThat(out.lines().filter(l -> !l.startsWith("#")).count()).isEqualTo(4);
    }

    @Test
    void aTaskWithoutGpusGetsAnEmptyBody() {
        assertThat(DcgmExporter.filter(SCRAPE, List.of())).isEmpty();
    }
}
