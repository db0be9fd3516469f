package ai.dstack.agent.testing.fuzz;

import java.util.Set;
import java.util.TreeSet;

/**
 * What the contract allows as the answer to one fuzzed request.
 *
 * @param statuses   exact statuses allowed (e.g. 200 for a valid request, 505 for HTTP/1.0)
 * @param any4xx     whether any 4xx is allowed (a rejection)
 * @param closeOk    whether the connection may close without a reply (the body could not be read)
 */
public record Expect(Set<Integer> statuses, boolean any4xx, boolean closeOk) {
    /** Exactly these statuses (a valid request, or one whose rejection the contract names). */
    public static Expect exactly(Integer... statuses) {
        return new Expect(Set.of(statuses), false, false);
    }

    /** A rejection: any 4xx with a one-line message. */
    public static Expect rejected() {
        return new Expect(Set.of(), true, false);
    }

    /** A rejection, or the connection closed (where the request cannot be read to its end). */
    public static Expect rejectedOrClosed() {
        return new Expect(Set.of(), true, true);
    }

    /** Also allows these statuses. */
    public Expect or(Integer... more) {
        Set<Integer> all = new TreeSet<>(statuses);
        all.addAll(Set.of(more));
        return new Expect(Set.copyOf(all), any4xx, closeOk);
    }

    /** Also allows any rejection (where our validation is stricter than Go's, as the contract permits). */
    public Expect orRejected() {
        return new Expect(statuses, true, closeOk);
    }

    @Override
    public String toString() {
        StringBuilder b = new StringBuilder();
        if (!statuses.isEmpty()) {
            b.append(new TreeSet<>(statuses));
        }
        if (any4xx) {
            b.append(b.isEmpty() ? "" : " or ").append("4xx");
        }
        if (closeOk) {
            b.append(" or closed");
        }
        return b.toString();
    }
}
