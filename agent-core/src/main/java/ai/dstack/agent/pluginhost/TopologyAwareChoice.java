package ai.dstack.agent.pluginhost;

import ai.dstack.agent.spi.topology.Link;
import ai.dstack.agent.spi.topology.LinkKind;
import ai.dstack.agent.spi.topology.Topology;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Collectors;

/**
 * Which free devices of the primary vendor a task of a given size gets, from the {@link Topology} its
 * plugin reported, in the spirit of kubelet's {@code GetPreferredAllocation} and the go-gpuallocator
 * library (docs/gpu-topology.md): the set whose devices are best linked to each other, and among
 * equally linked sets the one that leaves whole islands (NVLink groups, PCIe switches, NUMA nodes)
 * free for later tasks, so it is taken from an island that is already broken. Candidate sets are
 * compared, best first, by
 * <ol>
 *   <li>the sum of their pairwise {@link Link#score() link scores} (NVLink beats PCIe beats the socket interconnect);</li>
 *   <li>the number of NUMA nodes they span (fewer is better; decides on hosts whose links are all alike);</li>
 *   <li>how many whole islands stay free, island levels tightest first;</li>
 *   <li>the lowest indexes, which is also the whole choice when nothing else tells sets apart.</li>
 * </ol>
 * Every set is tried while there are at most {@link #EXHAUSTIVE_LIMIT} of them (8 or 16 GPUs);
 * beyond that the set is grown greedily from the best-linked pair.
 */
final class TopologyAwareChoice {
    /** Above this many candidate sets, the set is built greedily. */
    static final long EXHAUSTIVE_LIMIT = 200_000;

    /** Link levels that make islands, tightest first; NUMA nodes are the last island level (see {@link #ISLAND_NAMES}). */
    private static final List<LinkKind> ISLAND_LEVELS = List.of(LinkKind.NVLINK, LinkKind.PIX, LinkKind.PXB, LinkKind.PHB, LinkKind.NODE);
    private static final List<String> ISLAND_NAMES = List.of("NVLink group", "PCIe switch", "PCIe bridge group",
            "host bridge", "NUMA-local PCIe group", "NUMA node");

    /**
     * The chosen devices and why.
     *
     * @param indexes     device indexes, ascending
     * @param explanation one line for the shim's log: the set, its links, and what it beat
     */
    record Choice(List<Integer> indexes, String explanation) {
        public Choice {
            indexes = List.copyOf(indexes);
            Objects.requireNonNull(explanation, "explanation");
        }
    }

    private TopologyAwareChoice() {
    }

    /** The default for vendors without topology: the lowest free indexes; {@code why} says why there is none. */
    static Choice lowestIndexes(Collection<Integer> free, int count, String why) {
        List<Integer> sorted = sortedFree(free, count);
        List<Integer> chosen = sorted.subList(0, count);
        return new Choice(chosen, describeSet(chosen, sorted) + ": lowest indexes (" + why + ")");
    }

    /**
     * The best-linked {@code count} devices among {@code free} (see the class comment).
     *
     * @param topology what the vendor reported; devices it does not mention count as unlinked
     * @param free     indexes of the devices no task holds
     * @param count    how many to take, from 1 to the number of free devices
     */
    static Choice choose(Topology topology, Collection<Integer> free, int count) {
        List<Integer> sorted = sortedFree(free, count);
        if (count == sorted.size()) {
            return new Choice(sorted, describeSet(sorted, sorted) + ": every free device");
        }
        Scorer scorer = new Scorer(topology, sorted);
        int[] best = binomial(sorted.size(), count) <= EXHAUSTIVE_LIMIT
                ? scorer.bestOfAll(count)
                : scorer.greedy(count);
        int[] lowest = new int[count];
        for (int i = 0; i < count; i++) {
            lowest[i] = i;
        }
        return new Choice(scorer.indexes(best), scorer.explain(best, lowest));
    }

    private static List<Integer> sortedFree(Collection<Integer> free, int count) {
        List<Integer> sorted = List.copyOf(new TreeSet<>(free));
        if (count < 1 || count > sorted.size()) {
            throw new IllegalArgumentException("cannot take " + count + " of " + sorted.size() + " free devices");
        }
        return sorted;
    }

    private static String describeSet(List<Integer> chosen, List<Integer> free) {
        return "devices " + chosen + " of free " + free;
    }

    static long binomial(int n, int k) {
        long r = 1;
        for (int i = 1; i <= k; i++) {
            r = r * (n - k + i) / i;
            if (r > Long.MAX_VALUE / (n + 1)) {
                return Long.MAX_VALUE;
            }
        }
        return r;
    }

    /** Scores sets of positions into the sorted free list. */
    private static final class Scorer {
        private final List<Integer> free;
        private final Topology topology;
        /** Pairwise link scores between free positions, 0 where unknown. */
        private final int[][] score;
        private final Link[][] link;
        /** NUMA node per free position, -1 unknown. */
        private final int[] numa;
        /** Per island level, the islands that are entirely free now, as bit masks over free positions. */
        private final List<long[][]> wholeIslands = new ArrayList<>();

        Scorer(Topology topology, List<Integer> free) {
            this.topology = topology;
            this.free = free;
            int n = free.size();
            score = new int[n][n];
            link = new Link[n][n];
            numa = new int[n];
            for (int i = 0; i < n; i++) {
                numa[i] = topology.numaNode(free.get(i)).orElse(-1);
                for (int j = i + 1; j < n; j++) {
                    Link l = topology.link(free.get(i), free.get(j)).orElse(null);
                    link[i][j] = link[j][i] = l;
                    score[i][j] = score[j][i] = l == null ? 0 : l.score();
                }
            }
            buildIslands();
        }

        /** Islands over every device the topology or the free list names, per level. */
        private void buildIslands() {
            TreeSet<Integer> all = new TreeSet<>(topology.indexes());
            all.addAll(free);
            List<Integer> universe = List.copyOf(all);
            for (LinkKind level : ISLAND_LEVELS) {
                addWholeIslands(components(universe, level));
            }
            Map<Integer, List<Integer>> byNuma = new TreeMap<>();
            for (int d : universe) {
                topology.numaNode(d).ifPresent(node -> byNuma.computeIfAbsent(node, k -> new ArrayList<>()).add(d));
            }
            addWholeIslands(new ArrayList<>(byNuma.values()));
        }

        private List<List<Integer>> components(List<Integer> universe, LinkKind level) {
            Map<Integer, Integer> parent = new LinkedHashMap<>();
            universe.forEach(d -> parent.put(d, d));
            for (Link l : topology.links()) {
                if (l.kind().ordinal() <= level.ordinal() && parent.containsKey(l.a()) && parent.containsKey(l.b())) {
                    parent.put(root(parent, l.a()), root(parent, l.b()));
                }
            }
            Map<Integer, List<Integer>> groups = new TreeMap<>();
            universe.forEach(d -> groups.computeIfAbsent(root(parent, d), k -> new ArrayList<>()).add(d));
            return new ArrayList<>(groups.values());
        }

        private static int root(Map<Integer, Integer> parent, int d) {
            while (parent.get(d) != d) {
                d = parent.get(d);
            }
            return d;
        }

        /** Keeps the islands of at least two devices that are entirely free now (only those can stay whole). */
        private void addWholeIslands(List<List<Integer>> islands) {
            List<long[]> whole = new ArrayList<>();
            for (List<Integer> island : islands) {
                if (island.size() >= 2 && free.containsAll(island)) {
                    long[] mask = new long[(free.size() + 63) / 64];
                    island.forEach(d -> {
                        int p = free.indexOf(d);
                        mask[p / 64] |= 1L << (p % 64);
                    });
                    whole.add(mask);
                }
            }
            wholeIslands.add(whole.toArray(new long[0][]));
        }

        int[] bestOfAll(int k) {
            int n = free.size();
            int[] combo = new int[k];
            for (int i = 0; i < k; i++) {
                combo[i] = i;
            }
            int[] best = combo.clone();
            while (true) {
                if (compare(combo, best) > 0) {
                    best = combo.clone();
                }
                int i = k - 1;
                while (i >= 0 && combo[i] == n - k + i) {
                    i--;
                }
                if (i < 0) {
                    return best;
                }
                combo[i]++;
                for (int j = i + 1; j < k; j++) {
                    combo[j] = combo[j - 1] + 1;
                }
            }
        }

        /**
         * Too many sets to try: start from the best-linked pair, then add the device best linked to
         * the set so far; on a tie, the one with the best link to a device still outside (so its
         * partner can follow), then the lowest index.
         */
        int[] greedy(int k) {
            int n = free.size();
            List<Integer> chosen = new ArrayList<>();
            int bestA = 0;
            int bestB = 1;
            for (int a = 0; a < n; a++) {
                for (int b = a + 1; b < n; b++) {
                    if (score[a][b] > score[bestA][bestB]) {
                        bestA = a;
                        bestB = b;
                    }
                }
            }
            chosen.add(bestA);
            if (k > 1) {
                chosen.add(bestB);
            }
            while (chosen.size() < k) {
                int pick = -1;
                long pickKey = Long.MIN_VALUE;
                for (int d = 0; d < n; d++) {
                    if (chosen.contains(d)) {
                        continue;
                    }
                    long toSet = 0;
                    for (int c : chosen) {
                        toSet += score[c][d];
                    }
                    int toOutside = 0;
                    for (int o = 0; o < n; o++) {
                        if (o != d && !chosen.contains(o)) {
                            toOutside = Math.max(toOutside, score[d][o]);
                        }
                    }
                    long key = toSet * 1_000 + toOutside;
                    if (key > pickKey) {
                        pick = d;
                        pickKey = key;
                    }
                }
                chosen.add(pick);
            }
            return chosen.stream().sorted().mapToInt(Integer::intValue).toArray();
        }

        /** Positive when {@code a} is the better set. */
        int compare(int[] a, int[] b) {
            int c = Integer.compare(linkSum(a), linkSum(b));
            if (c != 0) {
                return c;
            }
            c = Integer.compare(numaSpan(b), numaSpan(a));
            if (c != 0) {
                return c;
            }
            c = Arrays.compare(wholeIslandsLeft(a), wholeIslandsLeft(b));
            if (c != 0) {
                return c;
            }
            return Arrays.compare(b, a);
        }

        int linkSum(int[] set) {
            int s = 0;
            for (int i = 0; i < set.length; i++) {
                for (int j = i + 1; j < set.length; j++) {
                    s += score[set[i]][set[j]];
                }
            }
            return s;
        }

        int numaSpan(int[] set) {
            return (int) Arrays.stream(set).map(p -> numa[p]).filter(node -> node >= 0).distinct().count();
        }

        /** Per island level, tightest first: how many islands that are whole now stay whole without {@code set}. */
        int[] wholeIslandsLeft(int[] set) {
            long[] taken = new long[(free.size() + 63) / 64];
            for (int p : set) {
                taken[p / 64] |= 1L << (p % 64);
            }
            int[] left = new int[wholeIslands.size()];
            for (int level = 0; level < left.length; level++) {
                for (long[] island : wholeIslands.get(level)) {
                    boolean untouched = true;
                    for (int w = 0; w < island.length && untouched; w++) {
                        untouched = (island[w] & taken[w]) == 0;
                    }
                    if (untouched) {
                        left[level]++;
                    }
                }
            }
            return left;
        }

        List<Integer> indexes(int[] set) {
            return Arrays.stream(set).mapToObj(free::get).toList();
        }

        String explain(int[] chosen, int[] lowest) {
            StringBuilder why = new StringBuilder(describeSet(indexes(chosen), free)).append(": ").append(links(chosen));
            String numaText = numaText(chosen);
            if (!numaText.isEmpty()) {
                why.append(", ").append(numaText);
            }
            if (Arrays.equals(chosen, lowest)) {
                return why.append("; the lowest indexes are also the best linked").toString();
            }
            why.append("; lowest indexes ").append(indexes(lowest));
            if (linkSum(chosen) != linkSum(lowest)) {
                return why.append(" would be linked ").append(links(lowest)).toString();
            }
            if (numaSpan(chosen) != numaSpan(lowest)) {
                return why.append(" would span ").append(numaText(lowest)).toString();
            }
            int[] keep = wholeIslandsLeft(chosen);
            int[] lose = wholeIslandsLeft(lowest);
            for (int level = 0; level < keep.length; level++) {
                if (keep[level] != lose[level]) {
                    return why.append(" are as well linked but would break a whole free ")
                            .append(ISLAND_NAMES.get(level)).toString();
                }
            }
            return why.append(" tie").toString();
        }

        /** The set's pairwise links, best first, e.g. {@code 2xNV4, 4xNODE}; "one device" for a single one. */
        String links(int[] set) {
            if (set.length == 1) {
                return "one device";
            }
            Map<String, Integer> counts = new LinkedHashMap<>();
            List<Link> found = new ArrayList<>();
            int unknown = 0;
            for (int i = 0; i < set.length; i++) {
                for (int j = i + 1; j < set.length; j++) {
                    Link l = link[set[i]][set[j]];
                    if (l == null) {
                        unknown++;
                    } else {
                        found.add(l);
                    }
                }
            }
            found.sort((x, y) -> Integer.compare(y.score(), x.score()));
            found.forEach(l -> counts.merge(l.label(), 1, Integer::sum));
            if (unknown > 0) {
                counts.put("unknown", unknown);
            }
            return counts.entrySet().stream().map(e -> e.getValue() + "x" + e.getKey()).collect(Collectors.joining(", "));
        }

        String numaText(int[] set) {
            List<Integer> nodes = Arrays.stream(set).map(p -> numa[p]).filter(node -> node >= 0).distinct().sorted()
                    .boxed().toList();
            if (nodes.isEmpty()) {
                return "";
            }
            return (nodes.size() == 1 ? "NUMA node " : "NUMA nodes ")
                    + nodes.stream().map(String::valueOf).collect(Collectors.joining(","));
        }
    }
}
