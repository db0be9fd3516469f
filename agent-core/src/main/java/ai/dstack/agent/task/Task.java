package ai.dstack.agent.task;

import ai.dstack.agent.docker.PullHandle;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.UnaryOperator;
import java.util.logging.Logger;

/**
 * One task's live state: the current snapshot, the lock that serialises every change (pipeline
 * steps, terminate, remove), and whether its pipeline has finished releasing host resources.
 */
final class Task {
    private static final Logger LOG = Logger.getLogger(Task.class.getName());
    private final TaskStore store;
    private final ReentrantLock lock = new ReentrantLock();
    private final CompletableFuture<Void> released = new CompletableFuture<>();
    private volatile TaskState state;
    private volatile PullHandle pull;
    private Thread preparing;
    private boolean removed;
    /** The snapshot holds deferred changes not yet in the task file. */
    private boolean unsaved;

    Task(TaskState initial, TaskStore store) {
        this.state = initial;
        this.store = store;
    }

    String id() {
        return state.id();
    }

    TaskState state() {
        return state;
    }

    void lock() {
        lock.lock();
    }

    void unlock() {
        lock.unlock();
    }

    /** Under the lock: whether remove already dropped this task. */
    boolean removed() {
        return removed;
    }

    void markRemoved() {
        removed = true;
    }

    /** Applies a change and writes it to the task file; a failed write is logged, the change stays. */
    void update(UnaryOperator<TaskState> change) {
        lock.lock();
        try {
            TaskState next = change.apply(state);
            if (next.equals(state) && !unsaved) {
                return;
            }
            state = next;
            try {
                store.save(next);
                unsaved = false;
            } catch (IOException e) {
                LOG.warning("task " + id() + ": cannot write its state file: " + e.getMessage());
            }
        } finally {
            lock.unlock();
        }
    }

    /**
     * A change written with the next {@link #update}, not now (each write costs two fsyncs): for
     * the steps before the engine create, which a restarted shim simply repeats when their record
     * is lost (a crash between two writes looks the same), so they need not be durable on their own.
     */
    void updateDeferred(UnaryOperator<TaskState> change) {
        lock.lock();
        try {
            TaskState next = change.apply(state);
            if (!next.equals(state)) {
                state = next;
                unsaved = true;
            }
        } finally {
            lock.unlock();
        }
    }

    /** A change kept in memory only (pull progress: frequent, and worthless after a restart). */
    void updateInMemory(UnaryOperator<TaskState> change) {
        lock.lock();
        try {
            state = change.apply(state);
        } finally {
            lock.unlock();
        }
    }

    /** Moves {@code from → to}; false (nothing changed) when the task is no longer in {@code from}. */
    boolean advance(TaskStatus from, TaskStatus to) {
        return advance(from, to, true);
    }

    /** {@link #advance}, written with the next update ({@link #updateDeferred}). */
    boolean advanceDeferred(TaskStatus from, TaskStatus to) {
        return advance(from, to, false);
    }

    private boolean advance(TaskStatus from, TaskStatus to, boolean now) {
        lock.lock();
        try {
            if (state.status() != from) {
                return false;
            }
            if (now) {
                update(s -> s.withStatus(to));
            } else {
                updateDeferred(s -> s.withStatus(to));
            }
            return true;
        } finally {
            lock.unlock();
        }
    }

    /** Terminates with a reason; a non-empty reason already stored wins. */
    void finish(String reason, String message) {
        update(s -> s.terminatedWith(reason, message));
    }

    /**
     * The pipeline thread enters a preparation wait (prepare, pull, create) that a terminate may
     * interrupt: plugin waits, tool runs and engine calls on a virtual thread end on an interrupt.
     */
    synchronized void enterInterruptible() {
        preparing = Thread.currentThread();
    }

    /** Leaves it; an interrupt that arrived meanwhile is cleared here, so it never reaches the release. */
    synchronized void leaveInterruptible() {
        preparing = null;
        Thread.interrupted();
    }

    /** Ends the preparation wait the pipeline is in, if any (terminate). */
    synchronized void interruptPreparation() {
        if (preparing != null) {
            preparing.interrupt();
        }
    }

    void pullStarted(PullHandle handle) {
        pull = handle;
    }

    PullHandle pull() {
        return pull;
    }

    /** Called once the pipeline released the task's GPUs, volumes and host keys. */
    void markReleased() {
        released.complete(null);
    }

    /** Whether the pipeline released the task's host resources (its container, if any, stopped). */
    boolean released() {
        return released.isDone();
    }

    /** Waits up to {@code limit} for the release; true when it happened. */
    boolean awaitReleased(Duration limit) {
        try {
            released.get(limit.toMillis(), TimeUnit.MILLISECONDS);
            return true;
        } catch (TimeoutException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        } catch (ExecutionException e) {
            return true;
        }
    }
}
