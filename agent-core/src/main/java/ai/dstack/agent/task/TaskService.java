package ai.dstack.agent.task;

import ai.dstack.agent.docker.EngineException;
import ai.dstack.agent.docker.PullHandle;
import ai.dstack.agent.files.Trees;
import ai.dstack.agent.task.TaskException.Kind;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.logging.Logger;

/**
 * Every task this shim knows: submit, read, terminate, remove. Changes to one task are serialised
 * by its lock, so concurrent calls on a task wait for each other instead of racing (never a 500
 * from a race); reads return snapshots without waiting.
 */
public final class TaskService {
    private static final Logger LOG = Logger.getLogger(TaskService.class.getName());
    private final Map<String, Task> tasks = new ConcurrentHashMap<>();
    private final Object submitLock = new Object();
    private final PipelineServices services;
    private final TaskStore store;
    private final Path runnersDir;
    private final ExecutorService workers;

    /**
     * @param services   what tasks run on
     * @param store      task state files
     * @param runnersDir where runner dirs are created
     * @param workers    runs pipelines and background stops (virtual threads)
     */
    public TaskService(PipelineServices services, TaskStore store, Path runnersDir, ExecutorService workers) {
        this.services = services;
        this.store = store;
        this.runnersDir = runnersDir;
        this.workers = workers;
    }

    /** Registers a task as pending (its file written before any resource is taken) and starts its pipeline. */
    public TaskState submit(TaskSpec spec) throws TaskException {
        String containerName = ContainerPlanner.containerName(spec.name(), spec.id());
        Task task = new Task(TaskState.pending(spec, containerName, runnersDir.resolve(containerName).toString()), store);
        synchronized (submitLock) {
            if (tasks.containsKey(spec.id())) {
                throw new TaskException(Kind.CONFLICT, "request error: task " + spec.id() + " is already submitted");
            }
            try {
                store.save(task.state());
            } catch (IOException e) {
                throw new TaskException(Kind.INTERNAL, "internal error: cannot write the task state: " + e.getMessage());
            }
            tasks.put(spec.id(), task);
        }
        TaskState submitted = task.state();
        workers.execute(new Pipeline(task, services));
        return submitted;
    }

    /** Takes over tasks found at startup (already reconciled with the engine) and resumes their pipelines. */
    public void adopt(List<TaskState> states) {
        for (TaskState state : states) {
            Task task = new Task(state, store);
            tasks.put(state.id(), task);
            workers.execute(new Pipeline(task, services));
        }
    }

    public Optional<TaskState> get(String id) {
        return Optional.ofNullable(tasks.get(id)).map(Task::state);
    }

    public List<TaskState> list() {
        return tasks.values().stream().map(Task::state).sorted(Comparator.comparing(TaskState::id)).toList();
    }

    /**
     * Terminates a task in any status (docs/shim.md §3.4). A running container is stopped inside the
     * call when {@code graceSeconds} is within the sync limit, else in the background; the task's
     * host resources are released by its pipeline once the container really stopped.
     */
    public TaskState terminate(String id, String reason, String message, long graceSeconds) throws TaskException {
        Task task = find(id);
        boolean stopped = false;
        task.lock();
        try {
            if (task.removed()) {
                throw notFound(id);
            }
            TaskState s = task.state();
            boolean hasContainer = !s.containerId().isEmpty();
            boolean running = !s.terminated() && s.status() == TaskStatus.RUNNING && hasContainer;
            // Still stopping after an earlier terminate with a long grace: a short grace now wins.
            boolean stillStopping = s.terminated() && !task.released() && hasContainer;
            int grace = (int) Math.min(graceSeconds, Integer.MAX_VALUE);
            boolean sync = Duration.ofSeconds(graceSeconds).compareTo(services.waits().syncStopLimit()) <= 0;
            if ((running || stillStopping) && sync) {
                try {
                    services.engine().stop(s.containerId(), grace);
                } catch (EngineException e) {
                    throw new TaskException(Kind.INTERNAL, "internal error: failed to stop container: " + e.getMessage());
                }
                stopped = true;
            } else if (running) {
                String containerId = s.containerId();
                workers.execute(() -> stopInBackground(id, containerId, grace));
            }
            PullHandle pull = task.pull();
            if (!s.terminated() && s.status() == TaskStatus.PULLING && pull != null) {
                pull.cancel("terminated");
            }
            task.finish(reason, message);
        } finally {
            task.unlock();
        }
        if (stopped) {
            task.awaitReleased(services.waits().removeWait());
        }
        return task.state();
    }

    private void stopInBackground(String id, String containerId, int grace) {
        try {
            services.engine().stop(containerId, grace);
        } catch (EngineException e) {
            LOG.warning("task " + id + ": background stop failed: " + e.getMessage());
        }
    }

    /**
     * Forgets a terminated task: its container (force) and runner dir go. Waits up to the remove
     * wait for a task still stopping, then refuses with 409.
     */
    public void remove(String id) throws TaskException {
        Task task = find(id);
        task.lock();
        try {
            if (task.removed()) {
                throw notFound(id);
            }
            if (!task.state().terminated()) {
                throw new TaskException(Kind.CONFLICT,
                        "request error: cannot remove task " + id + " with " + task.state().status().wire() + " status");
            }
        } finally {
            task.unlock();
        }
        if (!task.awaitReleased(services.waits().removeWait())) {
            throw new TaskException(Kind.CONFLICT, "request error: task " + id + " is still stopping");
        }
        task.lock();
        try {
            if (task.removed()) {
                throw notFound(id);
            }
            TaskState s = task.state();
            if (!s.containerId().isEmpty()) {
                try {
                    services.engine().removeForce(s.containerId());
                } catch (EngineException e) {
                    throw new TaskException(Kind.INTERNAL,
                            "internal error: failed to remove container task=" + id + ": " + e.getMessage());
                }
            }
            deleteRecursively(Path.of(s.runnerDir()));
            try {
                store.delete(id);
            } catch (IOException e) {
                LOG.warning("task " + id + ": cannot delete its state file: " + e.getMessage());
            }
            task.markRemoved();
            tasks.remove(id, task);
        } finally {
            task.unlock();
        }
    }

    private Task find(String id) throws TaskException {
        Task task = tasks.get(id);
        if (task == null) {
            throw notFound(id);
        }
        return task;
    }

    private static TaskException notFound(String id) {
        return new TaskException(Kind.NOT_FOUND, "task " + id + ": not found");
    }

    private static void deleteRecursively(Path dir) {
        try {
            Trees.delete(dir);
        } catch (IOException e) {
            LOG.warning("cannot delete runner dir " + dir + ": " + e.getMessage());
        }
    }
}
