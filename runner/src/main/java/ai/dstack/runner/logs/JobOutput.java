package ai.dstack.runner.logs;

import java.io.IOException;
import java.io.OutputStream;
import java.util.Arrays;
import java.util.List;

/**
 * Where the job's terminal output goes: raw to {@code job.log} and to the websocket stream,
 * rendered (docs/runner.md §6.5) to the job-log history under the quota. Rendered lines are held back briefly
 * (500 ms after the last cursor movement, at most 3 s, or until 32 KiB are complete) so that
 * progress bars collapse before they are stored.
 */
public final class JobOutput {
    private static final long QUIET_MS = 500;
    private static final long MAX_HOLD_MS = 3_000;

    private final LogBook book;
    private final OutputStream rawFile;
    private final LogQuota quota;
    private final Runnable onQuotaExceeded;
    private final TerminalRenderer renderer = new TerminalRenderer();
    private long lastCursorMove;
    private long lastFlush = System.currentTimeMillis();
    private boolean quotaExceeded;

    /**
     * @param onQuotaExceeded called once, on the first message the quota rejects
     */
    public JobOutput(LogBook book, OutputStream rawFile, LogQuota quota, Runnable onQuotaExceeded) {
        this.book = book;
        this.rawFile = rawFile;
        this.quota = quota;
        this.onQuotaExceeded = onQuotaExceeded;
    }

    /** One chunk read from the pty. */
    public void accept(byte[] buffer, int length) {
        try {
            rawFile.write(buffer, 0, length);
        } catch (IOException ignored) {
            // job.log is a post-mortem copy; the histories still get the output
        }
        book.appendTerminal(Arrays.copyOf(buffer, length));
        synchronized (this) {
            renderer.write(buffer, 0, length);
            long now = System.currentTimeMillis();
            if (renderer.takeCursorMoved()) {
                lastCursorMove = now;
            }
            if (renderer.completedChars() >= TerminalRenderer.MAX_BATCH) {
                emit(renderer.flushCompleted(), now);
            }
        }
    }

    /** Called periodically: flushes completed lines when they are due. */
    public synchronized void tick() {
        long now = System.currentTimeMillis();
        if (now - lastCursorMove >= QUIET_MS || now - lastFlush >= MAX_HOLD_MS) {
            emit(renderer.flushCompleted(), now);
        }
    }

    /** End of output: everything left, including an unfinished line. */
    public synchronized void finish() {
        emit(renderer.flushAll(), System.currentTimeMillis());
        try {
            rawFile.flush();
        } catch (IOException ignored) {
            // see accept
        }
    }

    public synchronized boolean quotaExceeded() {
        return quotaExceeded;
    }

    private void emit(List<byte[]> batches, long now) {
        lastFlush = now;
        for (byte[] batch : batches) {
            if (quota.tryConsume(batch.length, now)) {
                book.appendJobLog(batch);
            } else if (!quotaExceeded) {
                quotaExceeded = true;
                onQuotaExceeded.run();
            }
        }
    }
}
