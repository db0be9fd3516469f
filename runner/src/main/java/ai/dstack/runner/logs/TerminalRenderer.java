package ai.dstack.runner.logs;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * A small virtual terminal that turns raw pty output into plain lines (docs/runner.md §6.5):
 * carriage returns, backspaces and cursor/erase CSI sequences are applied, colours and modes
 * dropped, so progress bars collapse to their final state. TABs and blank lines are kept.
 * Not thread-safe; the caller serialises writes and flushes.
 */
public final class TerminalRenderer {
    /** Largest message one flush produces, and the current-line size that forces a partial flush. */
    public static final int MAX_BATCH = 32 * 1024;
    private static final char ESC = 0x1b;

    private enum Mode { TEXT, ESCAPE, CSI }

    private final CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
            .onMalformedInput(CodingErrorAction.IGNORE)
            .onUnmappableCharacter(CodingErrorAction.IGNORE);
    private ByteBuffer carry = ByteBuffer.allocate(0);
    private final List<StringBuilder> lines = new ArrayList<>();
    private int row;
    private int col;
    private Mode mode = Mode.TEXT;
    private final StringBuilder params = new StringBuilder();
    private int completedChars;
    private boolean cursorMoved;

    /** Feeds raw bytes; a multi-byte character split across writes is carried over. */
    public void write(byte[] bytes, int offset, int length) {
        ByteBuffer in;
        if (carry.hasRemaining()) {
            in = ByteBuffer.allocate(carry.remaining() + length);
            in.put(carry).put(bytes, offset, length).flip();
        } else {
            in = ByteBuffer.wrap(bytes, offset, length);
        }
        CharBuffer out = CharBuffer.allocate(length + 4);
        decoder.decode(in, out, false);
        carry = in.hasRemaining() ? ByteBuffer.wrap(copyRest(in)) : ByteBuffer.allocate(0);
        out.flip();
        while (out.hasRemaining()) {
            accept(out.get());
        }
    }

    private static byte[] copyRest(ByteBuffer in) {
        byte[] rest = new byte[in.remaining()];
        in.get(rest);
        return rest;
    }

    /** Whether a cursor-moving input arrived since the last call (and clears the flag). */
    public boolean takeCursorMoved() {
        boolean moved = cursorMoved;
        cursorMoved = false;
        return moved;
    }

    /** Characters held in completed lines (above the cursor). */
    public int completedChars() {
        return completedChars;
    }

    private void accept(char c) {
        switch (mode) {
            case ESCAPE -> {
                if (c == '[') {
                    mode = Mode.CSI;
                    params.setLength(0);
                } else {
                    mode = Mode.TEXT; // a non-CSI escape degrades to its characters
                    accept(c);
                }
            }
            case CSI -> csi(c);
            case TEXT -> text(c);
        }
    }

    private void text(char c) {
        switch (c) {
            case ESC -> mode = Mode.ESCAPE;
            case '\n' -> moveTo(row + 1, 0);
            case '\r' -> {
                col = 0;
                cursorMoved = true;
            }
            case '\b' -> {
                col = Math.max(0, col - 1);
                cursorMoved = true;
            }
            case '\t' -> put(c);
            default -> {
                if (c >= 0x20 && c != 0x7f) {
                    put(c);
                }
            }
        }
    }

    private void csi(char c) {
        boolean param = (c >= '0' && c <= '9') || c == ';' || (c == '?' && params.isEmpty());
        if (param) {
            params.append(c);
            return;
        }
        mode = Mode.TEXT;
        if (c < 0x20) { // a control inside an unfinished sequence aborts it
            put('[');
            for (int i = 0; i < params.length(); i++) {
                put(params.charAt(i));
            }
            text(c);
            return;
        }
        int[] n = numbers();
        int first = n.length > 0 && n[0] > 0 ? n[0] : 1;
        switch (c) {
            case 'A' -> moveTo(Math.max(0, row - first), col);
            case 'B' -> moveTo(row + first, col);
            case 'C' -> moveTo(row, col + first);
            case 'D' -> moveTo(row, Math.max(0, col - first));
            case 'G' -> moveTo(row, first - 1);
            case 'H', 'f' -> moveTo(first - 1, n.length > 1 && n[1] > 0 ? n[1] - 1 : 0);
            case 'J' -> eraseDisplay(n.length > 0 ? n[0] : 0);
            case 'K' -> eraseLine(n.length > 0 ? n[0] : 0);
            default -> {
                // colours, modes and unknown finals are dropped
            }
        }
    }

    private int[] numbers() {
        String p = params.toString().replace("?", "");
        if (p.isEmpty()) {
            return new int[0];
        }
        String[] parts = p.split(";", -1);
        int[] out = new int[parts.length];
        for (int i = 0; i < parts.length; i++) {
            try {
                out[i] = parts[i].isEmpty() ? 0 : Math.min(Integer.parseInt(parts[i]), 100_000);
            } catch (NumberFormatException e) {
                out[i] = 100_000;
            }
        }
        return out;
    }

    private void moveTo(int newRow, int newCol) {
        cursorMoved = true;
        while (lines.size() <= newRow) {
            lines.add(new StringBuilder());
        }
        if (newRow != row) {
            recountCompleted(newRow);
        }
        row = newRow;
        col = newCol;
    }

    private void recountCompleted(int newRow) {
        if (newRow == row + 1) {
            completedChars += lines.get(row).length() + 1;
            return;
        }
        int sum = 0;
        for (int i = 0; i < newRow; i++) {
            sum += lines.get(i).length() + 1;
        }
        completedChars = sum;
    }

    private void put(char c) {
        while (lines.size() <= row) {
            lines.add(new StringBuilder());
        }
        StringBuilder line = lines.get(row);
        while (line.length() < col) {
            line.append(' ');
        }
        if (col < line.length()) {
            line.setCharAt(col, c);
        } else {
            line.append(c);
        }
        col++;
    }

    private void eraseLine(int how) {
        if (row >= lines.size()) {
            return;
        }
        StringBuilder line = lines.get(row);
        switch (how) {
            case 0 -> line.setLength(Math.min(col, line.length()));
            case 1 -> {
                for (int i = 0; i < Math.min(col + 1, line.length()); i++) {
                    line.setCharAt(i, ' ');
                }
            }
            default -> line.setLength(0);
        }
    }

    private void eraseDisplay(int how) {
        switch (how) {
            case 0 -> {
                eraseLine(0);
                for (int i = row + 1; i < lines.size(); i++) {
                    lines.get(i).setLength(0);
                }
            }
            case 1 -> {
                for (int i = 0; i < row && i < lines.size(); i++) {
                    lines.get(i).setLength(0);
                }
                eraseLine(1);
            }
            default -> lines.forEach(l -> l.setLength(0));
        }
        recountCompleted(row);
    }

    /**
     * Removes and returns the completed lines (above the cursor), then, if the current line is
     * still longer than {@link #MAX_BATCH}, a prefix of it without a newline. Each returned
     * message is at most {@link #MAX_BATCH} bytes.
     */
    public List<byte[]> flushCompleted() {
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < row; i++) {
            appendTrimmed(out, lines.get(i)).append('\n');
        }
        if (row > 0) {
            lines.subList(0, row).clear();
            row = 0;
        }
        completedChars = 0;
        List<byte[]> batches = split(out);
        if (!lines.isEmpty() && lines.get(0).length() > MAX_BATCH) {
            StringBuilder line = lines.get(0);
            int cut = MAX_BATCH / 4; // at most 4 UTF-8 bytes per char keeps the batch ≤ MAX_BATCH
            if (Character.isHighSurrogate(line.charAt(cut - 1))) {
                cut--;
            }
            batches.add(line.substring(0, cut).getBytes(StandardCharsets.UTF_8));
            line.delete(0, cut);
            col = Math.max(0, col - cut);
        }
        return batches;
    }

    /** Removes and returns everything left (end of the job): every line ends with a newline. */
    public List<byte[]> flushAll() {
        List<byte[]> batches = flushCompleted();
        StringBuilder out = new StringBuilder();
        for (StringBuilder line : lines) {
            appendTrimmed(out, line).append('\n');
        }
        // the empty line the cursor sits on after a final newline is not output
        if (!lines.isEmpty() && lines.getLast().isEmpty()) {
            out.setLength(out.length() - 1);
        }
        lines.clear();
        row = 0;
        col = 0;
        batches.addAll(split(out));
        return batches;
    }

    private static StringBuilder appendTrimmed(StringBuilder out, StringBuilder line) {
        int end = line.length();
        while (end > 0 && (line.charAt(end - 1) == ' ' || line.charAt(end - 1) == 0)) {
            end--;
        }
        return out.append(line, 0, end);
    }

    private static List<byte[]> split(StringBuilder text) {
        List<byte[]> batches = new ArrayList<>();
        if (text.isEmpty()) {
            return batches;
        }
        byte[] all = text.toString().getBytes(StandardCharsets.UTF_8);
        int start = 0;
        while (start < all.length) {
            int end = Math.min(all.length, start + MAX_BATCH);
            if (end < all.length) {
                int nl = lastNewline(all, start, end);
                if (nl > start) {
                    end = nl + 1;
                } else {
                    while (end > start && (all[end] & 0xC0) == 0x80) {
                        end--; // never split a UTF-8 sequence
                    }
                }
            }
            byte[] batch = new byte[end - start];
            System.arraycopy(all, start, batch, 0, batch.length);
            batches.add(batch);
            start = end;
        }
        return batches;
    }

    private static int lastNewline(byte[] bytes, int from, int to) {
        for (int i = to - 1; i >= from; i--) {
            if (bytes[i] == '\n') {
                return i;
            }
        }
        return -1;
    }
}
