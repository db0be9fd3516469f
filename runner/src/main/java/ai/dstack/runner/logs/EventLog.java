package ai.dstack.runner.logs;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;

/**
 * An append-only history of timestamped byte messages kept in a file; memory holds only a
 * 16-byte index entry per event, so a chatty job does not grow the heap.
 * Appends are serialised by the caller ({@link LogBook}); reads may run concurrently.
 */
public final class EventLog implements AutoCloseable {
    private final FileChannel file;
    private long[] timestamps = new long[1024];
    private long[] offsets = new long[1025];
    private volatile int size;

    public EventLog(Path path) {
        try {
            Files.createDirectories(path.getParent());
            file = FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                    StandardOpenOption.READ, StandardOpenOption.WRITE);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** One stored event. */
    public record Event(long timestamp, byte[] message) {
    }

    void append(long timestamp, byte[] message) {
        int n = size;
        if (n == timestamps.length) {
            timestamps = Arrays.copyOf(timestamps, n * 2);
            offsets = Arrays.copyOf(offsets, n * 2 + 1);
        }
        long start = offsets[n];
        try {
            ByteBuffer buffer = ByteBuffer.wrap(message);
            long pos = start;
            while (buffer.hasRemaining()) {
                pos += file.write(buffer, pos);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        timestamps[n] = timestamp;
        offsets[n + 1] = start + message.length;
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

    public int length(int index) {
        long[] off = offsets;
        return (int) (off[index + 1] - off[index]);
    }

    public Event read(int index) {
        long[] off = offsets;
        long start = off[index];
        byte[] bytes = new byte[(int) (off[index + 1] - start)];
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
        return new Event(timestamps[index], bytes);
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
