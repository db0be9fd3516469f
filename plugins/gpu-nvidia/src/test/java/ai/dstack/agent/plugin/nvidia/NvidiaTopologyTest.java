package ai.dstack.agent.plugin.nvidia;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.dstack.agent.spi.ToolResult;
import ai.dstack.agent.spi.topology.Link;
import ai.dstack.agent.spi.topology.LinkKind;
import ai.dstack.agent.spi.topology.Topology;
import ai.dstack.agent.testing.FakeHost;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code nvidia-smi topo -m} outputs of real machines (see src/test/resources/nvidia-smi/topo/README.md);
 * the choices made from them are tested in the core (TopologyAwareChoiceTest, GpuTasksOnTestDockerdIT).
 */
class NvidiaTopologyTest {
    private static final Map<Integer, Integer> TWO_SOCKETS = Map.of(0, 0, 1, 0, 2, 0, 3, 0, 4, 1, 5, 1, 6, 1, 7, 1);

    @Test
    void dgxH100IsNv18BetweenEveryPairWithTheNicsIgnored() {
        Topology t = NvidiaTopology.parse(fixture("dgx-h100-nvswitch.txt"));

        assertThat(t.indexes()).containsExactly(0, 1, 2, 3, 4, 5, 6, 7);
        assertThat(t.links()).hasSize(28).allSatisfy(l -> assertThat(l.label()).isEqualTo("NV18"));
        assertThat(t.numaNodes()).isEqualTo(TWO_SOCKETS);
    }

    @Test
    void nicCellsGluedTogetherInAPasteDoNotShiftTheGpuColumnsOrTheNumaNode() {
        assertThat(NvidiaTopology.parse(fixture("dgx-h100-merged-nic-cells.txt")))
                .isEqualTo(NvidiaTopology.parse(fixture("dgx-h100-nvswitch.txt")));
    }

    @Test
    void pcieHostWithNvlinkBridgesInPairs() {
        Topology t = NvidiaTopology.parse(fixture("pcie-a6000-x8-nvlink-pairs.txt"));

        assertThat(t.link(0, 1)).contains(new Link(0, 1, LinkKind.NVLINK, 4));
        assertThat(t.link(3, 2)).contains(new Link(2, 3, LinkKind.NVLINK, 4));
        assertThat(t.link(4, 5)).contains(new Link(4, 5, LinkKind.NVLINK, 4));
        assertThat(t.link(6, 7)).contains(new Link(6, 7, LinkKind.NVLINK, 4));
        assertThat(t.link(0, 2)).contains(Link.of(0, 2, LinkKind.NODE));
        assertThat(t.link(1, 7)).contains(Link.of(1, 7, LinkKind.SYS));
        assertThat(t.link(6, 4)).contains(Link.of(4, 6, LinkKind.NODE));
        assertThat(t.links()).hasSize(28);
        assertThat(t.numaNodes()).isEqualTo(TWO_SOCKETS);
    }

    @Test
    void theRawBytesWithUnderlineEscapesAndTabsReadTheSameAsThePaste() {
        String raw = fixture("pcie-a6000-x8-nvlink-pairs.raw");
        assertThat(raw).startsWith("\t\u001B[4mGPU0\tGPU1").contains("GPU NUMA ID\u001B[0m\n").contains("\t X \t");

        Topology paste = NvidiaTopology.parse(fixture("pcie-a6000-x8-nvlink-pairs.txt"));
        assertThat(NvidiaTopology.parse(raw)).isEqualTo(paste);
        // A paste that kept "[4m" but lost the ESC byte.
        assertThat(NvidiaTopology.parse(raw.replace("\u001B", ""))).isEqualTo(paste);
    }

    @Test
    void fourPcieGpusWithoutLinks() {
        Topology t = NvidiaTopology.parse(fixture("pcie-x4-no-links.txt"));

        assertThat(t.links()).hasSize(6).allSatisfy(l -> assertThat(l.kind()).isEqualTo(LinkKind.PHB));
        assertThat(t.numaNodes()).isEqualTo(Map.of(0, 0, 1, 0, 2, 0, 3, 0));
    }

    @Test
    void eightPcieGpusWithoutLinksOnTwoSockets() {
        Topology t = NvidiaTopology.parse(fixture("pcie-4090-x8-no-links-2numa.txt"));

        assertThat(t.links()).hasSize(28).allSatisfy(l -> assertThat(l.kind()).isEqualTo(LinkKind.SYS));
        assertThat(t.numaNodes()).isEqualTo(TWO_SOCKETS);
    }

    @Test
    void olderFormatWithAnMlx5ColumnAndNoNumaAffinity() {
        Topology t = NvidiaTopology.parse(fixture("pcie-x8-pix-pxb-mlx5.txt"));

        assertThat(t.link(0, 1)).contains(Link.of(0, 1, LinkKind.PIX));
        assertThat(t.link(0, 2)).contains(Link.of(0, 2, LinkKind.PXB));
        assertThat(t.link(3, 4)).contains(Link.of(3, 4, LinkKind.SYS));
        assertThat(t.link(6, 7)).contains(Link.of(6, 7, LinkKind.PIX));
        assertThat(t.links()).hasSize(28);
        assertThat(t.numaNodes()).isEmpty();
    }

    @Test
    void anEmptyCpuAffinityCellStillLeavesTheNumaNode() {
        // Shape seen on a Slurm node whose cgroup hides the CPUs local to GPU2 and GPU3.
        Topology t = NvidiaTopology.parse("""
                \tGPU0\tGPU1\tGPU2\tGPU3\tNIC0\tCPU Affinity\tNUMA Affinity\tGPU NUMA ID
                GPU0\t X \tNV4\tNV4\tNV4\tNODE\t0\t0\t\tN/A
                GPU1\tNV4\t X \tNV4\tNV4\tNODE\t0\t0\t\tN/A
                GPU2\tNV4\tNV4\t X \tNV4\tNODE\t\t1\t\tN/A
                GPU3\tNV4\tNV4\tNV4\t X \tNODE\t\t1\t\tN/A
                NIC0\tNODE\tNODE\tNODE\tNODE\t X
                """);

        assertThat(t.numaNodes()).isEqualTo(Map.of(0, 0, 1, 0, 2, 1, 3, 1));
    }

    @Test
    void outputWithoutAMatrixOrWithAnUnknownCellIsRefusedWithAReason() {
        assertThatThrownBy(() -> NvidiaTopology.parse(""))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("no GPU0 column header in the topology matrix");
        assertThatThrownBy(() -> NvidiaTopology.parse("NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver."))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("no GPU0 column header in the topology matrix");
        assertThatThrownBy(() -> NvidiaTopology.parse("\tGPU0\tGPU1\tCPU Affinity\nGPU0\t X \tQPI\t0-7\nGPU1\tQPI\t X \t0-7\n"))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("GPU0-GPU1: unknown link 'QPI'");
        assertThatThrownBy(() -> NvidiaTopology.parse("\tGPU0\tGPU1\tCPU Affinity\nGPU0\t X \tSYS\t0-7\n"))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("no row for GPU1");
        assertThatThrownBy(() -> NvidiaTopology.parse("\tGPU0\tGPU1\tCPU Affinity\nGPU0\t X\nGPU1\tSYS\t X \t0-7\n"))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("row GPU0 has 1 cells for 2 GPUs");
    }

    @Test
    void thePluginRunsTopoMinusMAndReportsWhatItRead(@TempDir Path root) {
        FakeHost host = new FakeHost(root).answerExactly(List.of("nvidia-smi", "topo", "-m"), fixture("pcie-a6000-x8-nvlink-pairs.raw"));

        Topology t = new NvidiaGpus().topology(List.of(), host);

        assertThat(t.error()).isNull();
        assertThat(t).isEqualTo(NvidiaTopology.parse(fixture("pcie-a6000-x8-nvlink-pairs.txt")));
        assertThat(host.calls()).containsExactly(List.of("nvidia-smi", "topo", "-m"));
    }

    @Test
    void aFailingOrUnreadableTopoMinusMIsReportedNotThrown(@TempDir Path root) {
        NvidiaGpus plugin = new NvidiaGpus();
        FakeHost failing = new FakeHost(root).answer("nvidia-smi", new ToolResult(9, "",
                "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.", false, false));
        FakeHost garbled = new FakeHost(root).answer("nvidia-smi", "GPU0 GPU1\nGPU0 X QPI\nGPU1 QPI X\n");

        Topology t = plugin.topology(List.of(), failing);
        assertThat(t.known()).isFalse();
        assertThat(t.error()).isEqualTo("nvidia-smi topo -m: exit code 9: NVIDIA-SMI has failed because it couldn't"
                + " communicate with the NVIDIA driver.");
        assertThat(plugin.topology(List.of(), garbled).error()).isEqualTo("nvidia-smi topo -m: GPU0-GPU1: unknown link 'QPI'");
        assertThat(plugin.topology(List.of(), new FakeHost(root)).error()).isEqualTo("nvidia-smi topo -m: not found on PATH");
    }

    private static String fixture(String name) {
        try (InputStream in = NvidiaTopologyTest.class.getResourceAsStream("/nvidia-smi/topo/" + name)) {
            assertThat(in).as(name).isNotNull();
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
