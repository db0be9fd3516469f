package ai.dstack.agent.pluginhost;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.dstack.agent.pluginhost.TopologyAwareChoice.Choice;
import ai.dstack.agent.spi.topology.Link;
import ai.dstack.agent.spi.topology.LinkKind;
import ai.dstack.agent.spi.topology.Topology;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.function.BiFunction;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class TopologyAwareChoiceTest {
    /** 8 PCIe GPUs, NVLink bridges 0-1, 2-3, 4-5, 6-7; 0-3 on NUMA node 0, 4-7 on node 1 (issue 17's host). */
    static final Topology PCIE_NVLINK_PAIRS = topology(8, i -> i < 4 ? 0 : 1, (a, b) -> {
        if (a / 2 == b / 2) {
            return new Link(a, b, LinkKind.NVLINK, 4);
        }
        return Link.of(a, b, (a < 4) == (b < 4) ? LinkKind.NODE : LinkKind.SYS);
    });

    /** DGX H100: every pair through NVSwitch (NV18), 0-3 on NUMA node 0, 4-7 on node 1. */
    static final Topology DGX_H100 = topology(8, i -> i < 4 ? 0 : 1, (a, b) -> new Link(a, b, LinkKind.NVLINK, 18));

    /** 4 PCIe GPUs without links under one host bridge. */
    static final Topology PCIE_X4 = topology(4, i -> 0, (a, b) -> Link.of(a, b, LinkKind.PHB));

    /** 8 PCIe GPUs reported as SYS to each other even within a socket, NUMA nodes 0-3 / 4-7. */
    static final Topology PCIE_X8_ALL_SYS = topology(8, i -> i < 4 ? 0 : 1, (a, b) -> Link.of(a, b, LinkKind.SYS));

    @Test
    void issueExampleGivesTheNvlinkPairAndTheWholeSocket() {
        TreeSet<Integer> free = new TreeSet<>(List.of(0, 1, 2, 3, 4, 5, 6, 7));

        Choice one = take(free, 1);
        Choice two = take(free, 2);
        Choice four = take(free, 4);

        assertThat(one.indexes()).containsExactly(0);
        assertThat(two.indexes()).containsExactly(2, 3);
        assertThat(four.indexes()).containsExactly(4, 5, 6, 7);
        assertThat(free).containsExactly(1);
    }

    @Test
    void lowestIndexesIsWhatTheIssueComplainsAbout() {
        assertThat(TopologyAwareChoice.lowestIndexes(List.of(1, 2, 3, 4, 5, 6, 7), 2, "no topology").indexes()).containsExactly(1, 2);
        assertThat(TopologyAwareChoice.lowestIndexes(List.of(1, 4, 5, 6, 7), 4, "no topology").indexes()).containsExactly(1, 4, 5, 6);
    }

    @Test
    void explanationNamesTheLinksAndWhatTheLowestIndexesWouldHaveGot() {
        Choice two = TopologyAwareChoice.choose(PCIE_NVLINK_PAIRS, List.of(1, 2, 3, 4, 5, 6, 7), 2);
        Choice four = TopologyAwareChoice.choose(PCIE_NVLINK_PAIRS, List.of(1, 4, 5, 6, 7), 4);

        assertThat(two.explanation()).isEqualTo("devices [2, 3] of free [1, 2, 3, 4, 5, 6, 7]: 1xNV4, NUMA node 0;"
                + " lowest indexes [1, 2] would be linked 1xNODE");
        assertThat(four.explanation()).isEqualTo("devices [4, 5, 6, 7] of free [1, 4, 5, 6, 7]: 2xNV4, 4xNODE, NUMA node 1;"
                + " lowest indexes [1, 4, 5, 6] would be linked 1xNV4, 2xNODE, 3xSYS");
    }

    @Test
    void aSingleDeviceComesFromAnIslandThatIsAlreadyBroken() {
        Choice c = TopologyAwareChoice.choose(PCIE_NVLINK_PAIRS, List.of(0, 1, 3, 4, 5, 6, 7), 1);

        assertThat(c.indexes()).containsExactly(3);
        assertThat(c.explanation()).endsWith("lowest indexes [0] are as well linked but would break a whole free NVLink group");
    }

    @Test
    void allNvswitchTakesTheLowestIndexesWithinASocket() {
        TreeSet<Integer> free = new TreeSet<>(List.of(0, 1, 2, 3, 4, 5, 6, 7));
        assertThat(TopologyAwareChoice.choose(DGX_H100, free, 4).indexes()).containsExactly(0, 1, 2, 3);
        assertThat(TopologyAwareChoice.choose(DGX_H100, free, 1).explanation())
                .isEqualTo("devices [0] of free [0, 1, 2, 3, 4, 5, 6, 7]: one device, NUMA node 0;"
                        + " the lowest indexes are also the best linked");

        Choice one = takeFrom(DGX_H100, free, 1);
        Choice two = takeFrom(DGX_H100, free, 2);
        Choice four = takeFrom(DGX_H100, free, 4);

        assertThat(one.indexes()).containsExactly(0);
        assertThat(two.indexes()).containsExactly(1, 2);
        // Only node 1 still has four free GPUs: the set stays on one socket.
        assertThat(four.indexes()).containsExactly(4, 5, 6, 7);
    }

    @Test
    void withoutLinksTheLowestIndexesAreTaken() {
        assertThat(TopologyAwareChoice.choose(PCIE_X4, List.of(0, 1, 2, 3), 2).indexes()).containsExactly(0, 1);
        assertThat(TopologyAwareChoice.choose(PCIE_X4, List.of(1, 2, 3), 2).indexes()).containsExactly(1, 2);
    }

    @Test
    void withoutLinksTheSetStaysInOneNumaNodeWhenItCan() {
        Choice c = TopologyAwareChoice.choose(PCIE_X8_ALL_SYS, List.of(3, 4, 5, 6, 7), 2);

        assertThat(c.indexes()).containsExactly(4, 5);
        assertThat(c.explanation()).endsWith("lowest indexes [3, 4] would span NUMA nodes 0,1");
        assertThat(TopologyAwareChoice.choose(PCIE_X8_ALL_SYS, List.of(3, 4, 5, 6, 7), 5).indexes())
                .containsExactly(3, 4, 5, 6, 7);
    }

    @Test
    void aSetLargerThanAnyIslandKeepsWholePairsTogether() {
        List<Integer> all = List.of(0, 1, 2, 3, 4, 5, 6, 7);
        assertThat(TopologyAwareChoice.choose(PCIE_NVLINK_PAIRS, all, 6).indexes()).containsExactly(0, 1, 2, 3, 4, 5);
        assertThat(TopologyAwareChoice.choose(PCIE_NVLINK_PAIRS, all, 3).indexes()).containsExactly(0, 1, 2);
        // Free 0, 2, 3, 5, 6, 7: three devices that include the most NVLink pairs, on one socket where possible.
        assertThat(TopologyAwareChoice.choose(PCIE_NVLINK_PAIRS, List.of(0, 2, 3, 5, 6, 7), 3).indexes())
                .containsExactly(0, 2, 3);
    }

    @Test
    void pcieSwitchesGiveThePairUnderOneSwitchThenTheWholeSocket() {
        // 8 GPUs in PCIe switch pairs (PIX), PXB within a socket, SYS across; no NUMA column (older drivers).
        Topology pix = topology(8, i -> -1, (a, b) -> Link.of(a, b,
                a / 2 == b / 2 ? LinkKind.PIX : (a < 4) == (b < 4) ? LinkKind.PXB : LinkKind.SYS));
        TreeSet<Integer> free = new TreeSet<>(List.of(0, 1, 2, 3, 4, 5, 6, 7));

        assertThat(takeFrom(pix, free, 1).indexes()).containsExactly(0);
        assertThat(takeFrom(pix, free, 2).indexes()).containsExactly(2, 3);
        assertThat(takeFrom(pix, free, 4).indexes()).containsExactly(4, 5, 6, 7);
    }

    @Test
    void takingEveryFreeDeviceNeedsNoChoice() {
        Choice c = TopologyAwareChoice.choose(PCIE_NVLINK_PAIRS, List.of(7, 1, 4), 3);

        assertThat(c.indexes()).containsExactly(1, 4, 7);
        assertThat(c.explanation()).isEqualTo("devices [1, 4, 7] of free [1, 4, 7]: every free device");
    }

    @Test
    void devicesTheTopologyDoesNotKnowCountAsUnlinked() {
        Choice c = TopologyAwareChoice.choose(PCIE_X4, List.of(2, 3, 9), 2);

        assertThat(c.indexes()).containsExactly(2, 3);
        assertThat(TopologyAwareChoice.choose(PCIE_X4, List.of(3, 9, 10), 2).explanation()).contains("1xunknown");
    }

    @Test
    void aCountOutsideOneToTheFreeDevicesIsRefused() {
        assertThatThrownBy(() -> TopologyAwareChoice.choose(PCIE_X4, List.of(0, 1), 3))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("cannot take 3 of 2 free devices");
        assertThatThrownBy(() -> TopologyAwareChoice.lowestIndexes(List.of(0, 1), 0, "no topology"))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("cannot take 0 of 2 free devices");
    }

    @Test
    void manyDevicesAreChosenGreedilyAndStillKeepPairsTogether() {
        // 24 GPUs in NVLink pairs: C(24, 12) sets is too many to try one by one.
        Topology pairs24 = topology(24, i -> i / 12, (a, b) -> a / 2 == b / 2
                ? new Link(a, b, LinkKind.NVLINK, 4) : Link.of(a, b, LinkKind.SYS));
        List<Integer> free = new ArrayList<>(IntStream.range(0, 24).boxed().toList());
        free.removeAll(List.of(0, 2));
        assertThat(TopologyAwareChoice.binomial(free.size(), 12)).isGreaterThan(TopologyAwareChoice.EXHAUSTIVE_LIMIT);

        Choice c = TopologyAwareChoice.choose(pairs24, free, 12);

        assertThat(c.indexes()).containsExactly(4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    }

    private static Choice take(TreeSet<Integer> free, int count) {
        return takeFrom(PCIE_NVLINK_PAIRS, free, count);
    }

    private static Choice takeFrom(Topology topology, TreeSet<Integer> free, int count) {
        Choice c = TopologyAwareChoice.choose(topology, free, count);
        free.removeAll(c.indexes());
        return c;
    }

    static Topology topology(int n, java.util.function.IntUnaryOperator numa, BiFunction<Integer, Integer, Link> link) {
        Map<Integer, Integer> nodes = new HashMap<>();
        List<Link> links = new ArrayList<>();
        for (int a = 0; a < n; a++) {
            if (numa.applyAsInt(a) >= 0) {
                nodes.put(a, numa.applyAsInt(a));
            }
            for (int b = a + 1; b < n; b++) {
                links.add(link.apply(a, b));
            }
        }
        return new Topology(nodes, links);
    }
}
