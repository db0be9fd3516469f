package ai.dstack.agent.testing.fuzz;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.IntFunction;

/**
 * Sends generated cases one after the other and judges each answer (the oracle), keeping counts per
 * family. The run itself never throws: the caller decides what fails the test.
 */
public final class FuzzRun {
    /** A case whose answer the contract does not allow. */
    public record Failure(FuzzCase c, String got) {
        @Override
        public String toString() {
            return "#" + c.index() + " [" + c.family() + "] " + c.endpoint() + ": " + c.what() + " — expected " + c.expect()
                    + ", got " + got + "\n    sent: " + c.show(300);
        }
    }

    /** Counts of one family. */
    public static final class Tally {
        public int cases;
        public int failed;
    }

    /** What a run found. */
    public record Result(int passed, List<Failure> failures, Map<String, Tally> families, Set<String> created) {
        /** The one summary line. */
        public String summary() {
            return passed + " passed, " + failures.size() + " failed";
        }

        /**
         * The run's report: per-family table, the first 60 failures, the agent's RSS, then the summary
         * line alone ({@code N passed, M failed}).
         */
        public String report(String target, long seed, long rssBefore, long rssAfter) {
            StringBuilder b = new StringBuilder(target + " fuzz, seed " + seed + ", " + (passed + failures.size()) + " requests:\n");
            b.append(table());
            failures.stream().limit(60).forEach(f -> b.append(f).append('\n'));
            b.append(target).append(" RSS before ").append(rssBefore).append(" MiB, after ").append(rssAfter).append(" MiB\n");
            return b.append(summary()).toString();
        }

        /** One line per family: cases and failures. */
        public String table() {
            StringBuilder b = new StringBuilder();
            families.forEach((f, t) -> b.append(String.format("  %-18s %5d cases %5d failed%n", f, t.cases, t.failed)));
            return b.toString();
        }
    }

    private FuzzRun() {
    }

    /** Runs the cases {@code indices} made by {@code cases} against 127.0.0.1:{@code port}. */
    public static Result run(int port, IntFunction<FuzzCase> cases, Iterable<Integer> indices, Duration deadline) {
        List<Failure> failures = new ArrayList<>();
        Map<String, Tally> families = new TreeMap<>();
        Set<String> created = new LinkedHashSet<>();
        int passed = 0;
        for (int i : indices) {
            FuzzCase c = cases.apply(i);
            RawHttp.Outcome o = RawHttp.exchange(port, c.request(), deadline);
            String problem = judge(c, o);
            Tally t = families.computeIfAbsent(c.family(), f -> new Tally());
            t.cases++;
            if (o instanceof RawHttp.Reply r && r.status() / 100 == 2 && c.creates() != null) {
                created.add(c.creates());
            }
            if (problem == null) {
                passed++;
            } else {
                t.failed++;
                failures.add(new Failure(c, problem));
            }
        }
        return new Result(passed, failures, families, created);
    }

    /** Null when the answer is allowed, else what was wrong with it. */
    public static String judge(FuzzCase c, RawHttp.Outcome o) {
        Expect e = c.expect();
        return switch (o) {
            case RawHttp.Hung h -> "no complete reply within the deadline (hang)" + (h.sofar().isEmpty() ? "" : ": " + h.sofar());
            case RawHttp.Garbage g -> "not an HTTP reply: " + g.what();
            case RawHttp.Closed cl -> e.closeOk() ? null : "connection closed without a reply (" + cl.how() + ")";
            case RawHttp.Reply r -> judgeReply(c, r);
        };
    }

    private static String judgeReply(FuzzCase c, RawHttp.Reply r) {
        Expect e = c.expect();
        int s = r.status();
        boolean allowed = e.statuses().contains(s) || (e.any4xx() && s / 100 == 4);
        if (!allowed) {
            String kind = s / 100 == 5 ? "5xx" : s / 100 == 2 ? "wrong accept" : "wrong status";
            return kind + ": " + r;
        }
        if (s / 100 == 4 && !head(c)) {
            String body = r.text();
            int nl = body.indexOf('\n');
            if (body.isBlank() || (nl >= 0 && nl != body.length() - 1) || body.length() > 4096) {
                return "a " + s + " without a one-line message: '" + body.replace("\n", "\\n") + "'";
            }
        }
        return null;
    }

    private static boolean head(FuzzCase c) {
        return new String(c.request(), 0, Math.min(5, c.request().length), StandardCharsets.ISO_8859_1).startsWith("HEAD ");
    }

    /** Parses {@code -Dfuzz.only=1,5,10-20}: the indices to replay, or null for a whole run. */
    public static List<Integer> only(String spec) {
        if (spec == null || spec.isBlank()) {
            return null;
        }
        List<Integer> out = new ArrayList<>();
        for (String part : spec.split(",")) {
            String[] range = part.strip().split("-");
            int from = Integer.parseInt(range[0].strip());
            int to = range.length > 1 ? Integer.parseInt(range[1].strip()) : from;
            for (int i = from; i <= to; i++) {
                out.add(i);
            }
        }
        return out;
    }

    /** The cases a run takes: {@code -Dfuzz.only} (see {@link #only}), else {@code -Dfuzz.count} (default given) from 0. */
    public static List<Integer> selected(int defaultCount) {
        List<Integer> only = only(System.getProperty("fuzz.only"));
        return only != null ? only : all(Integer.getInteger("fuzz.count", defaultCount));
    }

    /** 0 … count-1. */
    public static List<Integer> all(int count) {
        List<Integer> out = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            out.add(i);
        }
        return out;
    }
}
