package ai.dstack.agent.spi.topology;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class TopologyTest {
    @Test
    void linksAreFoundInEitherOrderAndScoreNvlinkLanesAbovePcie() {
        Topology t = new Topology(Map.of(0, 0, 1, 0), List.of(new Link(0, 1, LinkKind.NVLINK, 4), Link.of(1, 2, LinkKind.SYS)));

        assertThat(t.link(1, 0)).contains(new Link(0, 1, LinkKind.NVLINK, 4));
        assertThat(t.link(0, 2)).isEmpty();
        assertThat(t.indexes()).containsExactly(0, 1, 2);
        assertThat(t.numaNode(2)).isEmpty();
        assertThat(new Link(0, 1, LinkKind.NVLINK, 18).score()).isGreaterThan(new Link(0, 1, LinkKind.NVLINK, 4).score());
        assertThat(new Link(0, 1, LinkKind.NVLINK, 1).score()).isGreaterThan(Link.of(0, 1, LinkKind.PIX).score());
        assertThat(List.of(new Link(0, 1, LinkKind.NVLINK, 4).label(), Link.of(0, 1, LinkKind.NODE).label())).containsExactly("NV4", "NODE");
        assertThat(t.known()).isTrue();
        assertThat(Topology.NONE.known()).isFalse();
        assertThat(Topology.failed("nvidia-smi topo -m: timed out").error()).isEqualTo("nvidia-smi topo -m: timed out");
    }

    @Test
    void aLinkJoinsTwoDifferentDevicesAndOnlyNvlinkHasLanes() {
        assertThatThrownBy(() -> Link.of(3, 3, LinkKind.PIX)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("a link joins two different device indexes, got 3 and 3");
        assertThatThrownBy(() -> new Link(0, 1, LinkKind.PIX, 2)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("link 0-1: 2 lanes on a PIX link");
        assertThatThrownBy(() -> Link.of(0, 1, null)).isInstanceOf(IllegalArgumentException.class).hasMessage("link 0-1 has no kind");
    }
}
