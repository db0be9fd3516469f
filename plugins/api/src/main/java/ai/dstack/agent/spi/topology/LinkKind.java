package ai.dstack.agent.spi.topology;

/**
 * How directly two devices of one host reach each other, best first: the levels of
 * {@code nvidia-smi topo -m} (its legend), which other vendors' tools map onto.
 */
public enum LinkKind {
    /** A bonded set of NVLinks (or another vendor's GPU-to-GPU fabric), directly or through NVSwitch. */
    NVLINK(100),
    /** At most one PCIe bridge (same PCIe switch). */
    PIX(50),
    /** Several PCIe bridges, not through the host bridge. */
    PXB(40),
    /** Through a PCIe host bridge (typically the CPU). */
    PHB(30),
    /** Between PCIe host bridges within one NUMA node. */
    NODE(20),
    /** Across the SMP interconnect between NUMA nodes (QPI/UPI); older drivers print {@code SOC}. */
    SYS(10);

    private final int weight;

    LinkKind(int weight) {
        this.weight = weight;
    }

    /** Relative quality: higher is better; NVLink adds its lane count on top (see {@link Link#score()}). */
    public int weight() {
        return weight;
    }
}
