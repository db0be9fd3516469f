package ai.dstack.runner.logs;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.AbstractList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * An append-only history of timestamped byte messages kept in a file; memory holds only an
 * index entry per event, so a chatty job does not grow the heap. An event is either stored in
 * this log's own file or, to keep one copy of the job's output on disk, a reference to a range
 * of another log's file (the raw terminal stream) whose plain lines render to those bytes with
 * every CR dropped (see {@link PlainLines}).
 * Appends are serialised by the caller ({@link LogBook}); reads may run concurrently.
 */
public final class EventLog implements AutoCloseable {
    private final FileChannel file;
    private final EventLog source;
    private long[] timestamps = new long[1024];
    /** Event i occupies [offsets[i], offsets[i+1]) of this file (nothing for a reference). */
    private long[] offsets = new long[1025];
    /**
     * Only in a log with a source: where reference i starts there, its raw length (0: not a
     * reference) and its message length (the raw length less its CRs).
     */
    private long[] refStarts;
    private int[] refRawLengths;
    private int[] refLengths;
    /** Whether event {@code size} is open: written, growing, not yet visible to readers. */
    private boolean open;
    private long openedAt;
    private volatile int size;

    /** A log of its own in {@code path}, truncated. */
    public EventLog(Path path) {
        this(path, false, null);
    }

    /**
     * @param append keep what {@code path} holds and add after it (the raw {@code job.log})
     * @param source where references point, or null when this log holds no references
     */
    public EventLog(Path path, boolean append, EventLog source) {
        this.source = source;
        if (source != null) {
            refStarts = new long[1024];
            refRawLengths = new int[1024];
            refLengths = new int[1024];
        }
        try {
            Files.createDirectories(path.toAbsolutePath().getParent());
            file = append
                    ? FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE)
                    : FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                            StandardOpenOption.READ, StandardOpenOption.WRITE);
            offsets[0] = file.size();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** One stored event. */
    public record Event(long timestamp, byte[] message) {
    }

    /** Stores {@code bytes[offset, offset+length)} as one event; returns where it starts in the file. */
    long append(long timestamp, byte[] bytes, int offset, int length) {
        seal();
        int n = grow();
        long start = offsets[n];
        write(bytes, offset, length, start);
        timestamps[n] = timestamp;
        offsets[n + 1] = start + length;
        published(n);
        return start;
    }

    void append(long timestamp, byte[] message) {
        append(timestamp, message, 0, message.length);
    }

    /**
     * Stores {@code bytes[offset, offset+length)} at the end of the open event, which readers see
     * once it is sealed: by {@link #seal}, or by this call when the open event is {@code maxAgeMs}
     * old or would exceed {@code maxBytes}. Returns where the bytes start in the file. Small pty
     * reads thus become few large events (few index entries, few websocket frames).
     */
    long appendJoined(long timestamp, byte[] bytes, int offset, int length, long now, long maxAgeMs, int maxBytes) {
        if (open && (now - openedAt >= maxAgeMs || offsets[size + 1] - offsets[size] + length > maxBytes)) {
            seal();
        }
        int n = size;
        if (!open) {
            n = grow();
            timestamps[n] = timestamp;
            offsets[n + 1] = offsets[n];
            open = true;
            openedAt = now;
        }
        long start = offsets[n + 1];
        write(bytes, offset, length, start);
        offsets[n + 1] = start + length;
        return start;
    }

    /** Makes the open event, if any, visible to readers. */
    void seal() {
        if (open) {
            open = false;
            published(size);
        }
    }

    /** Stores a reference to {@code rawLength} plain bytes of the source at {@code start}, {@code length} once rendered. */
    void appendReference(long timestamp, long start, int rawLength, int length) {
        if (source == null || rawLength <= 0) {
            throw new IllegalStateException("this log holds no references, or the range is empty");
        }
        seal();
        int n = grow();
        timestamps[n] = timestamp;
        offsets[n + 1] = offsets[n];
        refStarts[n] = start;
        refRawLengths[n] = rawLength;
        refLengths[n] = length;
        published(n);
    }

    private void write(byte[] bytes, int offset, int length, long position) {
        try {
            ByteBuffer buffer = ByteBuffer.wrap(bytes, offset, length);
            long pos = position;
            while (buffer.hasRemaining()) {
                pos += file.write(buffer, pos);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Makes room for one more event; returns its index. */
    private int grow() {
        int n = size;
        if (n == timestamps.length) {
            timestamps = Arrays.copyOf(timestamps, n * 2);
            offsets = Arrays.copyOf(offsets, n * 2 + 1);
            if (source != null) {
                refStarts = Arrays.copyOf(refStarts, n * 2);
                refRawLengths = Arrays.copyOf(refRawLengths, n * 2);
                refLengths = Arrays.copyOf(refLengths, n * 2);
            }
        }
        return n;
    }

    private void published(int n) {
        size = n + 1;
        synchronized (this) {
            notifyAll();
        }
    }

    /** Number of events stored so far. */
    public int size() {
        return size;
    }

    /** Index of the first event with a timestamp strictly greater than {@code after} (≤ size). */
    public int firstAfter(long after, int limit) {
        long[] ts = timestamps;
        int lo = 0;
        int hi = limit;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (ts[mid] <= after) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        return lo;
    }

    public long timestamp(int index) {
        return timestamps[index];
    }

    /** Length of the event's message. */
    public int length(int index) {
        if (isReference(index)) {
            return refLengths[index];
        }
        long[] off = offsets;
        return (int) (off[index + 1] - off[index]);
    }

    private boolean isReference(int index) {
        return source != null && refRawLengths[index] > 0;
    }

    public Event read(int index) {
        if (!isReference(index)) {
            long[] off = offsets;
            return new Event(timestamps[index], readRaw(off[index], (int) (off[index + 1] - off[index])));
        }
        byte[] raw = source.readRaw(refStarts[index], refRawLengths[index]);
        byte[] message = new byte[refLengths[index]];
        int n = 0;
        for (byte b : raw) {
            if (b != '\r') {
                message[n++] = b;
            }
        }
        if (n != message.length) {
            throw new IllegalStateException("terminal file changed under a job-log reference");
        }
        return new Event(timestamps[index], message);
    }

    /**
     * Events {@code [from, to)}, each read from the file only when the list is asked for it: a
     * page of a pull holds index ranges, never the messages, so a large page costs no heap.
     */
    public List<Event> slice(int from, int to) {
        if (from < 0 || to < from || to > size) {
            throw new IndexOutOfBoundsException("events " + from + ".." + to + " of " + size);
        }
        return new AbstractList<>() {
            @Override
            public Event get(int i) {
                return read(from + Objects.checkIndex(i, to - from));
            }

            @Override
            public int size() {
                return to - from;
            }
        };
    }

    /** {@code length} bytes of this log's file from {@code start}. */
    byte[] readRaw(long start, int length) {
        byte[] bytes = new byte[length];
        ByteBuffer buffer = ByteBuffer.wrap(bytes);
        try {
            while (buffer.hasRemaining()) {
                if (file.read(buffer, start + buffer.position()) < 0) {
                    throw new IOException("history file truncated");
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes;
    }

    /** Waits up to {@code millis} for the size to exceed {@code known}. */
    public void awaitMore(int known, long millis) throws InterruptedException {
        synchronized (this) {
            if (size <= known) {
                wait(millis);
            }
        }
    }

    /** Wakes every waiter (e.g. at shutdown). */
    public void wakeAll() {
        synchronized (this) {
            notifyAll();
        }
    }

    @Override
    public void close() {
        try {
            file.close();
        } catch (IOException ignored) {
            // nothing to keep
        }
    }
}
