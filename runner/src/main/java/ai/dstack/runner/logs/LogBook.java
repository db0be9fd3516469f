package ai.dstack.runner.logs;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * The runner's histories: job states, rendered job logs, runner logs and the raw terminal stream
 * for websockets, all stamped by one generator. A timestamp is issued and its event stored in the
 * same critical section, so a pull that answers {@code last_updated = C} has seen every event
 * with a timestamp ≤ C. The raw terminal stream is {@code job.log} itself, and job-log events of
 * plain lines are references into it, so the job's output is on disk about once.
 */
public final class LogBook implements AutoCloseable {
    /** Longest a terminal event stays open (the job's output ticker seals it sooner, every 100 ms). */
    static final long TERMINAL_JOIN_MS = 100;
    static final int TERMINAL_JOIN_BYTES = 64 * 1024;
    private final Timestamps timestamps = new Timestamps();
    private final EventLog jobLogs;
    private final EventLog runnerLogs;
    private final EventLog terminal;
    private final List<JobStateEvent> states = new ArrayList<>();
    private final CountDownLatch finalPull = new CountDownLatch(1);
    private volatile LongSupplier noConnectionsSecs = () -> 0;
    private boolean finished;
    private volatile boolean shuttingDown;

    /** Histories in {@code dir}, the raw terminal stream in {@code dir/terminal.events}. */
    public LogBook(Path dir) {
        this(dir, dir.resolve("terminal.events"));
    }

    /** Histories in {@code dir}; the raw terminal stream appended to {@code terminalFile} ({@code job.log}). */
    public LogBook(Path dir, Path terminalFile) {
        terminal = new EventLog(terminalFile, true, null);
        jobLogs = new EventLog(dir.resolve("job_logs.events"), false, terminal);
        runnerLogs = new EventLog(dir.resolve("runner_logs.events"));
    }

    /**
     * One page of the histories, as {@code /api/pull} returns it. The log lists read each message
     * from disk when asked for it, so writing a page out holds one message at a time.
     */
    public record Page(List<JobStateEvent> jobStates, List<EventLog.Event> jobLogs,
                       List<EventLog.Event> runnerLogs, long lastUpdated, long noConnectionsSecs, boolean hasMore) {
    }

    public synchronized void appendJobLog(byte[] message) {
        jobLogs.append(timestamps.next(), message);
    }

    public synchronized void appendRunnerLog(byte[] message) {
        runnerLogs.append(timestamps.next(), message);
    }

    /**
     * One block of raw terminal output; returns where it starts in the terminal file. Blocks join
     * one websocket event until it is {@link #TERMINAL_JOIN_MS} old or {@link #TERMINAL_JOIN_BYTES}
     * long, or {@link #sealTerminal} is called.
     */
    public synchronized long appendTerminal(byte[] bytes, int length) {
        return terminal.appendJoined(timestamps.next(), bytes, 0, length, System.currentTimeMillis(),
                TERMINAL_JOIN_MS, TERMINAL_JOIN_BYTES);
    }

    /** Makes the terminal output appended so far visible to {@code /logs_ws}. */
    public synchronized void sealTerminal() {
        terminal.seal();
    }

    /** A job-log event made of {@code rawLength} plain terminal bytes at {@code start}, {@code length} once rendered. */
    public synchronized void appendJobLogReference(long start, int rawLength, int length) {
        jobLogs.appendReference(timestamps.next(), start, rawLength, length);
    }

    /** Records a state event with the next timestamp. */
    public synchronized void recordState(String state, String reason, String message, Integer exitStatus) {
        states.add(new JobStateEvent(state, timestamps.next(), reason, message, exitStatus));
    }

    /** The executor reached {@code wait_logs_finished}: every event it will record is stored. */
    public synchronized void markFinished() {
        finished = true;
    }

    public synchronized boolean finished() {
        return finished;
    }

    /** The lifecycle started draining: websocket streams close once they delivered everything. */
    public void markShuttingDown() {
        sealTerminal();
        shuttingDown = true;
        terminal.wakeAll();
    }

    public boolean shuttingDown() {
        return shuttingDown;
    }

    /** The raw terminal stream that {@code /logs_ws} serves. */
    public EventLog terminal() {
        return terminal;
    }

    public void noConnectionsSource(LongSupplier source) {
        noConnectionsSecs = source;
    }

    /** Waits until a pull answered {@code has_more=false} (the server has the final logs). */
    public boolean awaitFinalPull(long millis) throws InterruptedException {
        return finalPull.await(millis, TimeUnit.MILLISECONDS);
    }

    /**
     * Events with a timestamp after {@code after}, oldest first across all histories, up to about
     * {@code maxBytes} of encoded payload (at least one event when any is pending).
     */
    public Page pull(long after, long maxBytes) {
        int jobSize;
        int runnerSize;
        List<JobStateEvent> stateSnapshot;
        long issued;
        boolean done;
        synchronized (this) {
            jobSize = jobLogs.size();
            runnerSize = runnerLogs.size();
            stateSnapshot = List.copyOf(states);
            issued = timestamps.last();
            done = finished;
        }
        int j = jobLogs.firstAfter(after, jobSize);
        int r = runnerLogs.firstAfter(after, runnerSize);
        int s = 0;
        while (s < stateSnapshot.size() && stateSnapshot.get(s).timestamp() <= after) {
            s++;
        }
        int jobFrom = j;
        int runnerFrom = r;
        List<JobStateEvent> outStates = new ArrayList<>();
        long budget = maxBytes;
        long last = after;
        boolean capped = false;
        while (true) {
            long tj = j < jobSize ? jobLogs.timestamp(j) : Long.MAX_VALUE;
            long tr = r < runnerSize ? runnerLogs.timestamp(r) : Long.MAX_VALUE;
            long ts = s < stateSnapshot.size() ? stateSnapshot.get(s).timestamp() : Long.MAX_VALUE;
            long next = Math.min(tj, Math.min(tr, ts));
            if (next == Long.MAX_VALUE) {
                break;
            }
            long cost = next == ts ? 160 : 48 + (next == tj ? jobLogs.length(j) : runnerLogs.length(r)) * 4L / 3;
            boolean first = outStates.isEmpty() && j == jobFrom && r == runnerFrom;
            if (cost > budget && !first) {
                capped = true;
                break;
            }
            budget -= cost;
            last = next;
            if (next == ts) {
                outStates.add(stateSnapshot.get(s++));
            } else if (next == tj) {
                j++;
            } else {
                r++;
            }
        }
        long lastUpdated = capped ? last : Math.max(issued, after);
        boolean hasMore = capped || !done;
        if (!hasMore) {
            finalPull.countDown();
        }
        return new Page(outStates, jobLogs.slice(jobFrom, j), runnerLogs.slice(runnerFrom, r), lastUpdated,
                noConnectionsSecs.getAsLong(), hasMore);
    }

    @Override
    public void close() {
        jobLogs.close();
        runnerLogs.close();
        terminal.close();
    }
}
