package ai.dstack.runner.logs;

import java.util.ArrayList;
import java.util.List;

/**
 * Finds runs of terminal output that the renderer (docs/runner.md §6.5) would store unchanged
 * except for the pty's CR before each LF: well-formed UTF-8 of printable characters and TABs,
 * a CR only directly before an LF, no space before a line end (it would be trimmed), lines
 * shorter than {@link #MAX_LINE}. Such a run needs no rendering: its job-log events are
 * references to the raw bytes already in {@code job.log}, cut at line ends into pieces of at most
 * {@code maxBatch} bytes. State carries across blocks, so a block boundary may split a line, a
 * CR-LF pair or a UTF-8 sequence. Not thread-safe.
 */
final class PlainLines {
    /** Longest plain line; longer ones go through the renderer, which cuts them (docs/runner.md §6.5). */
    static final int MAX_LINE = 8 * 1024;

    /** Plain bytes at {@code start} in the raw stream that render to {@code length} bytes. */
    record Piece(long start, int rawLength, int length) {
    }

    private final int maxBatch;
    private final List<Piece> ready = new ArrayList<>();
    private boolean active;
    /** Raw offset of the first byte not yet handed out as a piece. */
    private long pieceStart;
    /** Raw offset after the last LF of the run (≥ pieceStart), and the CRs before it. */
    private long lineEnd;
    private int crsBeforeLineEnd;
    /** Raw offset after the last byte of the run. */
    private long end;
    private int lineLength;
    private boolean lastWasCr;
    private boolean lastWasSpace;
    private boolean sawCr;
    /** UTF-8 continuation bytes still expected, and the range allowed for the next one. */
    private int pending;
    private int low = 0x80;
    private int high = 0xBF;

    PlainLines(int maxBatch) {
        if (maxBatch <= MAX_LINE) {
            throw new IllegalArgumentException("maxBatch must exceed MAX_LINE");
        }
        this.maxBatch = maxBatch;
    }

    /** Whether a run is open (plain bytes not yet handed out or given back). */
    boolean active() {
        return active;
    }

    /**
     * Extends the run with {@code bytes[from, to)}, which sit at {@code rawOffset} in the raw
     * stream (right after the run's end when one is open). Returns the index of the first byte
     * that is not plain ({@code to} when all are); the run then ends before it.
     */
    int scan(byte[] bytes, int from, int to, long rawOffset) {
        if (!active) {
            active = true;
            pieceStart = rawOffset;
            lineEnd = rawOffset;
            crsBeforeLineEnd = 0;
            end = rawOffset;
        } else if (rawOffset != end) {
            throw new IllegalStateException("a plain run must be contiguous");
        }
        int i = from;
        int lineCrs = lastWasCr ? 1 : 0;
        for (; i < to; i++) {
            int b = bytes[i] & 0xFF;
            if (b > 0x20 && b < 0x7F && pending == 0 && !lastWasCr) {
                // the common case, a run of visible ASCII, in a loop of its own
                int j = i + 1;
                while (j < to && bytes[j] > 0x20 && bytes[j] < 0x7F) { // negative (≥ 0x80) bytes end it too
                    j++;
                }
                int room = MAX_LINE - 1 - lineLength;
                lastWasSpace = false;
                if (j - i > room) {
                    i += room;
                    break;
                }
                lineLength += j - i;
                i = j - 1;
                continue;
            }
            if (pending > 0) {
                if (b < low || b > high) {
                    break;
                }
                pending--;
                low = 0x80;
                high = 0xBF;
            } else if (lastWasCr && b != '\n') {
                break;
            } else if (b >= 0x20 && b < 0x7F) {
                lastWasSpace = b == ' ';
            } else if (b == '\t') {
                lastWasSpace = false;
            } else if (b == '\n') {
                if (lastWasSpace) {
                    break;
                }
                long lf = rawOffset + (i - from) + 1;
                if (lf - pieceStart > maxBatch) {
                    ready.add(new Piece(pieceStart, (int) (lineEnd - pieceStart),
                            (int) (lineEnd - pieceStart) - crsBeforeLineEnd));
                    pieceStart = lineEnd;
                    crsBeforeLineEnd = 0;
                }
                crsBeforeLineEnd += lineCrs;
                lineEnd = lf;
                lineCrs = 0;
                lineLength = 0;
                lastWasCr = false;
                continue;
            } else if (b == '\r') {
                if (lastWasSpace) {
                    break;
                }
                lastWasCr = true;
                sawCr = true;
                lineCrs = 1;
                lineLength++;
                continue;
            } else if (b >= 0xC2 && b <= 0xF4) {
                pending = b < 0xE0 ? 1 : b < 0xF0 ? 2 : 3;
                low = b == 0xE0 ? 0xA0 : b == 0xF0 ? 0x90 : 0x80;
                high = b == 0xED ? 0x9F : b == 0xF4 ? 0x8F : 0xBF;
                lastWasSpace = false;
            } else {
                break; // controls, DEL, ESC, stray continuation or invalid lead bytes
            }
            if (++lineLength >= MAX_LINE) {
                break;
            }
        }
        end = rawOffset + (i - from);
        return i;
    }

    /** Whether a CR went into the run since the last call (a cursor move for the hold timer). */
    boolean takeSawCr() {
        boolean saw = sawCr;
        sawCr = false;
        return saw;
    }

    /** Pieces that reached {@code maxBatch}, oldest first; they leave the run. */
    List<Piece> takeReady() {
        List<Piece> out = List.copyOf(ready);
        ready.clear();
        return out;
    }

    /** Every complete line of the run as pieces; an unfinished last line stays in the run. */
    List<Piece> takeLines() {
        List<Piece> out = takeReady();
        if (active && lineEnd > pieceStart) {
            List<Piece> all = new ArrayList<>(out);
            all.add(new Piece(pieceStart, (int) (lineEnd - pieceStart), (int) (lineEnd - pieceStart) - crsBeforeLineEnd));
            pieceStart = lineEnd;
            crsBeforeLineEnd = 0;
            out = all;
        }
        if (active && end == pieceStart) {
            reset();
        }
        return out;
    }

    /**
     * Ends the run and returns the raw range {start, length} of what was not handed out yet
     * (pieces not taken included), for the renderer to consume instead.
     */
    long[] giveBack() {
        long start = ready.isEmpty() ? pieceStart : ready.getFirst().start();
        long[] range = {start, end - start};
        reset();
        return range;
    }

    private void reset() {
        ready.clear();
        active = false;
        lineLength = 0;
        lastWasCr = false;
        lastWasSpace = false;
        pending = 0;
        low = 0x80;
        high = 0xBF;
    }
}
