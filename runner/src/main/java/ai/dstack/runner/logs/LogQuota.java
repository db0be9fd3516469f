package ai.dstack.runner.logs;

/**
 * Bytes of rendered job logs allowed per hour, in whole-hour windows counted from the last
 * submit (docs/runner.md §6.6). A message that would exceed the window's quota is rejected whole.
 */
public final class LogQuota {
    private static final long HOUR_MS = 3_600_000L;
    private final long bytesPerHour;
    private final long windowStart;
    private long window;
    private long used;

    /** {@code bytesPerHour} ≤ 0 disables the quota. */
    public LogQuota(long bytesPerHour, long startMillis) {
        this.bytesPerHour = bytesPerHour;
        this.windowStart = startMillis;
    }

    public static LogQuota unlimited() {
        return new LogQuota(0, 0);
    }

    public long bytesPerHour() {
        return bytesPerHour;
    }

    /** Accounts {@code bytes} at {@code nowMillis}; false if that would exceed the quota. */
    public synchronized boolean tryConsume(long bytes, long nowMillis) {
        if (bytesPerHour <= 0) {
            return true;
        }
        long current = Math.max(0, (nowMillis - windowStart) / HOUR_MS);
        if (current != window) {
            window = current;
            used = 0;
        }
        if (used + bytes > bytesPerHour) {
            return false;
        }
        used += bytes;
        return true;
    }
}
