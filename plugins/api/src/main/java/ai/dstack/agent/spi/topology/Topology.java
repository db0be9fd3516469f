package ai.dstack.agent.spi.topology;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;

/**
 * How a vendor's devices on one host are wired: a link for each pair of devices and the NUMA node
 * each device hangs off. What a plugin reports so the core can pick well-connected device sets.
 *
 * @param numaNodes device index → NUMA node of its CPU affinity; a device absent here has none known
 * @param links     one entry per pair of devices (either order); a pair without one is unknown
 * @param error     why the vendor tool could not tell (then there are no links), null otherwise
 */
public record Topology(Map<Integer, Integer> numaNodes, List<Link> links, String error) {
    /** Nothing known: what a vendor without a topology source reports. */
    public static final Topology NONE = new Topology(Map.of(), List.of(), null);

    public Topology {
        numaNodes = Map.copyOf(numaNodes);
        links = List.copyOf(links);
    }

    /** What the vendor tool reported. */
    public Topology(Map<Integer, Integer> numaNodes, List<Link> links) {
        this(numaNodes, links, null);
    }

    /** The vendor tool failed or printed something unreadable; {@code why} is one line for the log. */
    public static Topology failed(String why) {
        return new Topology(Map.of(), List.of(), why);
    }

    /** Whether any link is known, i.e. whether a choice by topology can do better than the lowest indexes. */
    public boolean known() {
        return !links.isEmpty();
    }

    /** The link between two devices, whichever order they are given in. */
    public Optional<Link> link(int a, int b) {
        for (Link l : links) {
            if ((l.a() == a && l.b() == b) || (l.a() == b && l.b() == a)) {
                return Optional.of(l);
            }
        }
        return Optional.empty();
    }

    /** The device's NUMA node, or empty when the vendor tool did not say. */
    public Optional<Integer> numaNode(int index) {
        return Optional.ofNullable(numaNodes.get(index));
    }

    /** Every device index this topology mentions, ascending. */
    public List<Integer> indexes() {
        TreeSet<Integer> all = new TreeSet<>(numaNodes.keySet());
        links.forEach(l -> {
            all.add(l.a());
            all.add(l.b());
        });
        return List.copyOf(all);
    }
}
