package ai.dstack.runner.logs;

import java.util.List;

/**
 * Where the job's terminal output goes. Each block read from the pty is appended once, raw, to
 * {@code job.log}, which is also the websocket stream's store (docs/runner.md §6.7). For the
 * rendered job logs (docs/runner.md §6.5), runs of plain lines ({@link PlainLines}) skip the renderer and are
 * stored as references into {@code job.log}; everything else goes through the
 * {@link TerminalRenderer}, and a plain run is handed back to it when a non-plain byte follows,
 * so cursor moves still reach the lines above. Rendered lines are held back briefly (500 ms
 * after the last cursor movement, at most 3 s, or until 32 KiB are complete) so that progress
 * bars collapse before they are stored; the quota counts rendered bytes (docs/runner.md §6.6).
 */
public final class JobOutput {
    private static final long QUIET_MS = 500;
    private static final long MAX_HOLD_MS = 3_000;

    private final LogBook book;
    private final LogQuota quota;
    private final Runnable onQuotaExceeded;
    private final TerminalRenderer renderer = new TerminalRenderer();
    private final PlainLines plain = new PlainLines(TerminalRenderer.MAX_BATCH);
    private long lastCursorMove;
    private long lastFlush = System.currentTimeMillis();
    private boolean quotaExceeded;

    /**
     * @param onQuotaExceeded called once, on the first message the quota rejects
     */
    public JobOutput(LogBook book, LogQuota quota, Runnable onQuotaExceeded) {
        this.book = book;
        this.quota = quota;
        this.onQuotaExceeded = onQuotaExceeded;
    }

    /** One block read from the pty. */
    public void accept(byte[] buffer, int length) {
        long rawOffset = book.appendTerminal(buffer, length);
        synchronized (this) {
            long now = System.currentTimeMillis();
            int at = 0;
            while (at < length) {
                if (plain.active() || renderer.atLineStart()) {
                    int stop = plain.scan(buffer, at, length, rawOffset + at);
                    if (plain.takeSawCr()) {
                        lastCursorMove = now;
                    }
                    emitPlain(plain.takeReady(), now);
                    if (stop == length) {
                        break;
                    }
                    giveBack();
                    at = stop;
                }
                // the renderer takes the bytes up to the next line end, then plain lines may resume
                int lf = at;
                while (lf < length && buffer[lf] != '\n') {
                    lf++;
                }
                int next = Math.min(length, lf + 1);
                renderer.write(buffer, at, next - at);
                at = next;
            }
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
        book.sealTerminal();
        long now = System.currentTimeMillis();
        if (now - lastCursorMove >= QUIET_MS || now - lastFlush >= MAX_HOLD_MS) {
            emit(renderer.flushCompleted(), now);
            emitPlain(plain.takeLines(), now);
        }
    }

    /** End of output: everything left, including an unfinished line. */
    public synchronized void finish() {
        book.sealTerminal();
        long now = System.currentTimeMillis();
        emit(renderer.flushCompleted(), now);
        emitPlain(plain.takeLines(), now);
        if (plain.active()) {
            giveBack();
        }
        emit(renderer.flushAll(), now);
    }

    public synchronized boolean quotaExceeded() {
        return quotaExceeded;
    }

    /** The open plain run goes to the renderer after all (a non-plain byte follows it). */
    private void giveBack() {
        long[] range = plain.giveBack();
        if (range[1] > 0) {
            byte[] raw = book.terminal().readRaw(range[0], (int) range[1]);
            renderer.write(raw, 0, raw.length);
        }
    }

    private void emitPlain(List<PlainLines.Piece> pieces, long now) {
        if (pieces.isEmpty()) {
            return;
        }
        emit(renderer.flushCompleted(), now); // lines held above the run come first
        for (PlainLines.Piece p : pieces) {
            if (admit(p.length(), now)) {
                book.appendJobLogReference(p.start(), p.rawLength(), p.length());
            }
        }
    }

    private void emit(List<byte[]> batches, long now) {
        lastFlush = now;
        for (byte[] batch : batches) {
            if (admit(batch.length, now)) {
                book.appendJobLog(batch);
            }
        }
    }

    private boolean admit(int bytes, long now) {
        lastFlush = now;
        if (quota.tryConsume(bytes, now)) {
            return true;
        }
        if (!quotaExceeded) {
            quotaExceeded = true;
            onQuotaExceeded.run();
        }
        return false;
    }
}
