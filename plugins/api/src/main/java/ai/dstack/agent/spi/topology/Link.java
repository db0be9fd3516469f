package ai.dstack.agent.spi.topology;

/**
 * The connection between two devices, by their vendor-tool indexes (the same as {@code Device.index}).
 *
 * @param a     index of one device
 * @param b     index of the other, different from {@code a}
 * @param kind  how they reach each other
 * @param lanes bonded NVLink lanes ({@code NV4} → 4) for {@link LinkKind#NVLINK}, else 0
 */
public record Link(int a, int b, LinkKind kind, int lanes) {
    public Link {
        if (a < 0 || b < 0 || a == b) {
            throw new IllegalArgumentException("a link joins two different device indexes, got " + a + " and " + b);
        }
        if (kind == null) {
            throw new IllegalArgumentException("link " + a + "-" + b + " has no kind");
        }
        if (lanes < 0 || (kind != LinkKind.NVLINK && lanes != 0)) {
            throw new IllegalArgumentException("link " + a + "-" + b + ": " + lanes + " lanes on a " + kind + " link");
        }
    }

    /** A PCIe-level link (no lanes). */
    public static Link of(int a, int b, LinkKind kind) {
        return new Link(a, b, kind, 0);
    }

    /** Higher is better: the kind's weight, plus the lane count for NVLink (NV18 beats NV4). */
    public int score() {
        return kind.weight() + lanes;
    }

    /** The label {@code nvidia-smi topo -m} prints: {@code NV4}, {@code PIX}, …, {@code SYS}. */
    public String label() {
        return kind == LinkKind.NVLINK ? "NV" + lanes : kind.name();
    }
}
