package ai.dstack.runner.api;

/**
 * Counts open {@code /logs_ws} streams so shutdown can wait until each delivered everything
 * (no client at all counts as drained).
 */
public final class WsClients {
    private int open;

    synchronized void opened() {
        open++;
    }

    synchronized void closed(boolean drained) {
        open--;
        notifyAll();
    }

    /** Waits up to {@code millis} until no stream is open; true if none is. */
    public synchronized boolean awaitDrained(long millis) throws InterruptedException {
        long deadline = System.currentTimeMillis() + millis;
        while (open > 0) {
            long left = deadline - System.currentTimeMillis();
            if (left <= 0) {
                return false;
            }
            wait(left);
        }
        return true;
    }
}
