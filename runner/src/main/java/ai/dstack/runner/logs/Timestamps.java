package ai.dstack.runner.logs;

/**
 * Real epoch milliseconds, strictly increasing across every stream that shares the generator
 * (Go's "second + counter" scheme repeats values after 999 events a second).
 */
public final class Timestamps {
    private long last;

    public Timestamps() {
        last = System.currentTimeMillis();
    }

    /** A fresh value, greater than every value issued before. */
    public synchronized long next() {
        last = Math.max(System.currentTimeMillis(), last + 1);
        return last;
    }

    /** The most recently issued value (the creation time before the first event). */
    public synchronized long last() {
        return last;
    }
}
