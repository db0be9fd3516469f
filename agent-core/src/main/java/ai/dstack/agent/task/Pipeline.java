package ai.dstack.agent.task;

import ai.dstack.agent.docker.ContainerPlan;
import ai.dstack.agent.docker.EngineException;
import ai.dstack.agent.docker.ImageRef;
import ai.dstack.agent.docker.PortMapping;
import ai.dstack.agent.docker.PullHandle;
import ai.dstack.agent.pluginhost.GpuPool;
import ai.dstack.agent.spi.ContainerEdits;
import ai.dstack.agent.volume.VolumeManager;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The run pipeline of one task (docs/shim.md §3.2): preparing → pulling → creating → running →
 * terminated. Each step commits its status; a terminate seen at any step boundary ends the
 * pipeline there, and the container is started only under the task lock after checking for it,
 * so a terminated task never starts a container. Whatever the outcome, the task's host resources
 * are released at the end — after the container stopped.
 */
final class Pipeline implements Runnable {
    private static final Logger LOG = Logger.getLogger(Pipeline.class.getName());
    private static final int LOG_LINES = 5;
    private final Task task;
    private final PipelineServices services;
    private final Judge judge;
    private TaskStatus resumeAt;

    /** What a restored task's container really is, once the engine answers (the restart reconciliation of one task). */
    @FunctionalInterface
    interface Judge {
        TaskState judge(TaskState stored) throws EngineException;
    }

    /** A pipeline that runs the task from where its state says it is (pending for a new task). */
    Pipeline(Task task, PipelineServices services) {
        this(task, services, null);
    }

    /**
     * A pipeline for a task restored while the engine was unreachable: it waits for the engine,
     * lets {@code judge} set the task's real state, then resumes from there. Until then the task
     * keeps its stored state and its GPUs (a container merely unreachable is not gone).
     */
    Pipeline(Task task, PipelineServices services, Judge judge) {
        this.task = task;
        this.services = services;
        this.judge = judge;
        this.resumeAt = task.state().status();
    }

    @Override
    public void run() {
        try {
            if (judge != null) {
                awaitJudgement();
            }
            switch (resumeAt) {
                case PENDING, PREPARING, PULLING, CREATING -> runSteps();
                case RUNNING -> watch(task.state().containerId());
                case TERMINATED -> stopLeftover();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            LOG.log(Level.SEVERE, "task " + task.id() + ": pipeline failed", e);
            task.finish("executor_error", "internal error: " + e);
        } finally {
            release();
            task.markReleased();
        }
    }

    private void awaitJudgement() throws InterruptedException {
        while (true) {
            services.engine().awaitAnswer();
            task.lock();
            try {
                if (!task.state().terminated()) {
                    TaskState judged = judge.judge(task.state());
                    task.update(s -> judged);
                    LOG.info("task " + task.id() + " judged now that the engine answers: " + judged.status().wire()
                             + (judged.terminated() ? " (" + judged.terminationReason() + ")" : ""));
                }
                break;
            } catch (EngineException.Unreachable e) {
                // gone again before it could tell: wait for it once more
            } catch (EngineException e) {
                task.finish("executor_error", "cannot restore the task: " + e.getMessage());
                break;
            } finally {
                task.unlock();
            }
        }
        resumeAt = task.state().status();
    }

    private void runSteps() throws InterruptedException {
        TaskSpec spec = task.state().spec();
        long createStart = System.nanoTime();
        Optional<String> containerId;
        // Every wait up to the container's start ends on terminate (docs/shim-operations.md).
        task.enterInterruptible();
        try {
            containerId = prepareUpToStart(spec);
            createStart = System.nanoTime();
        } finally {
            task.leaveInterruptible();
        }
        if (containerId.isPresent() && start(containerId.get(), spec)) {
            services.stats().starts().record(Duration.ofNanos(System.nanoTime() - createStart));
            watch(task.state().containerId());
        }
    }

    /** Steps 1–7: prepare, pull, create; the container to start, empty when the task ended. */
    private Optional<String> prepareUpToStart(TaskSpec spec) {
        // preparing and pulling are recorded with the create's write: a restart repeats them (idempotent)
        if (resumeAt == TaskStatus.PENDING && !task.advanceDeferred(TaskStatus.PENDING, TaskStatus.PREPARING)) {
            return Optional.empty();
        }
        if (resumeAt.compareTo(TaskStatus.PULLING) < 0 && !prepare(spec)) {
            return Optional.empty();
        }
        if (resumeAt.compareTo(TaskStatus.PULLING) < 0 && !task.advanceDeferred(TaskStatus.PREPARING, TaskStatus.PULLING)) {
            return Optional.empty();
        }
        if (resumeAt.compareTo(TaskStatus.CREATING) < 0) {
            long pullStart = System.nanoTime();
            boolean pulled = pull(spec);
            services.stats().pulls().record(Duration.ofNanos(System.nanoTime() - pullStart));
            if (!pulled || !task.advance(TaskStatus.PULLING, TaskStatus.CREATING)) {
                return Optional.empty();
            }
        }
        // A container already created (found by the restart reconciliation) is started, never created twice.
        return task.state().containerId().isEmpty() ? create(spec) : Optional.of(task.state().containerId());
    }

    /** Steps 1–5: runner dir, GPUs, host keys, volumes, instance mount dirs. False when the task ended. */
    private boolean prepare(TaskSpec spec) {
        try {
            Path dir = Path.of(task.state().runnerDir());
            Files.createDirectories(dir);
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        } catch (IOException | RuntimeException e) {
            return fail("executor_error", "prepare runner dir: " + e.getMessage());
        }
        if (task.state().gpuIds() == null) {
            try {
                List<String> ids = services.gpus().allocate(task.id(), spec.gpu());
                task.updateDeferred(s -> s.withGpuIds(ids)); // durable with CREATING, before any container holds them
            } catch (GpuPool.NoCapacityException e) {
                return fail("executor_error", e.getMessage());
            }
        }
        if (ended()) {
            return false;
        }
        if (!spec.hostSshKeys().isEmpty() && !spec.hostSshUser().isEmpty()) {
            try {
                services.hostKeys().add(task.id(), spec.hostSshUser(), spec.hostSshKeys());
                task.update(s -> s.withHostKeysAdded(true));
            } catch (IOException | RuntimeException e) {
                return fail("executor_error", "ak.AppendPublicKeys error: " + e.getMessage());
            }
        }
        if (ended()) {
            return false;
        }
        if (!spec.volumes().isEmpty()) {
            task.update(s -> s.withVolumesPrepared(true)); // before mounting: a half-done mount is released too
            try {
                services.volumes().prepare(spec.volumes());
            } catch (VolumeManager.VolumeException | RuntimeException e) {
                return fail("executor_error", "prepareVolumes error: " + e.getMessage());
            }
        }
        if (ended()) {
            return false;
        }
        try {
            for (TaskSpec.InstanceMount m : spec.instanceMounts()) {
                Path p = Path.of(m.instancePath());
                if (!Files.exists(p)) {
                    Files.createDirectories(p);
                    Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxrwxrwx"));
                }
            }
        } catch (IOException | RuntimeException e) {
            return fail("executor_error", "prepareInstanceMountPoints error: " + e.getMessage());
        }
        return !ended();
    }

    /** Step 6: pull unless a pinned image is present. */
    private boolean pull(TaskSpec spec) {
        ImageRef ref = ImageRef.parse(spec.imageName());
        try {
            if (!ref.floating() && services.engine().imagePresent(ref.canonical())) {
                return !ended();
            }
            PullHandle handle = new PullHandle();
            task.pullStarted(handle);
            if (ended()) {
                return false;
            }
            long limit = services.waits().pullDeadline().toMillis();
            ScheduledFuture<?> deadline = limit <= 0 ? null
                    : services.timer().schedule(() -> handle.cancel("context deadline exceeded"), limit, TimeUnit.MILLISECONDS);
            try {
                services.engine().pull(ref, spec.registryUsername(), spec.registryPassword(),
                        Path.of(task.state().runnerDir(), "pull.log"),
                        p -> task.updateInMemory(s -> s.withPullProgress(p)), handle, services.waits().pullStall());
            } finally {
                if (deadline != null) {
                    deadline.cancel(false);
                }
            }
        } catch (EngineException e) {
            return fail("creating_container_error", "pullImage error: " + e.getMessage());
        }
        return !ended();
    }

    /** Step 7: create the container; its id is recorded even when the task was terminated meanwhile, so remove finds it. */
    private Optional<String> create(TaskSpec spec) {
        List<String> ids = task.state().gpuIds() == null ? List.of() : task.state().gpuIds();
        ContainerPlan plan;
        try {
            plan = services.planner().plan(spec, task.state().containerName(), Path.of(task.state().runnerDir()),
                    ids, services.gpus().edits(ids), services.planner().runnerMounts());
        } catch (EngineException e) {
            fail("creating_container_error", "createContainer error: " + e.getMessage());
            return Optional.empty();
        }
        try {
            String id = createOrLeave(plan);
            if (id == null) {
                return Optional.empty();
            }
            // written with the start's record: a restart finds a created container by its name anyway
            task.updateDeferred(s -> s.withContainerId(id));
            return Optional.of(id);
        } catch (EngineException e) {
            Optional<String> earlier = earlierContainer(plan);
            if (earlier.isPresent()) {
                task.update(s -> s.withContainerId(earlier.get()));
                return earlier;
            }
            fail("creating_container_error", "createContainer error: " + e.getMessage());
            return Optional.empty();
        }
    }

    /**
     * The engine's create, on its own thread so that a terminate ends the wait for it: the request
     * itself is not cut (the engine may be making the container), and what it makes for a task
     * that ended meanwhile is removed when the engine answers. Null when the task ended first.
     */
    private String createOrLeave(ContainerPlan plan) throws EngineException {
        CompletableFuture<String> made = new CompletableFuture<>();
        Thread.ofVirtual().name("create-" + task.id()).start(() -> {
            try {
                made.complete(services.engine().create(plan));
            } catch (EngineException | RuntimeException e) {
                made.completeExceptionally(e);
            }
        });
        try {
            return made.get();
        } catch (InterruptedException e) {
            made.whenComplete((id, failure) -> {
                if (id != null) {
                    removeUnwanted(id);
                } else {
                    LOG.info("task " + task.id() + ": the create still running at terminate failed: " + failure.getMessage());
                }
            });
            return null;
        } catch (ExecutionException e) {
            if (e.getCause() instanceof EngineException ee) {
                throw ee;
            }
            throw new EngineException(String.valueOf(e.getCause()), e.getCause());
        }
    }

    private void removeUnwanted(String containerId) {
        try {
            services.engine().removeForce(containerId);
            LOG.info("task " + task.id() + ": the create still running at terminate made container " + containerId + ": removed");
        } catch (EngineException e) {
            LOG.warning("task " + task.id() + ": the create still running at terminate made container " + containerId
                        + ", which cannot be removed: " + e.getMessage());
        }
    }

    /**
     * The container an interrupted earlier create of this very task made (the name is taken by a
     * container with this task's labels): adopted instead of failing on the name.
     */
    private Optional<String> earlierContainer(ContainerPlan plan) {
        try {
            return services.engine().inspect(plan.name())
                    .filter(c -> sameTask(plan, c.labels()))
                    .filter(c -> c.state().equals("created"))
                    .map(c -> c.id());
        } catch (EngineException e) {
            return Optional.empty();
        }
    }

    private static boolean sameTask(ContainerPlan plan, Map<String, String> labels) {
        return plan.labels().entrySet().stream().allMatch(e -> e.getValue().equals(labels.get(e.getKey())));
    }

    /** A task terminated before a restart whose container still runs (a background stop was cut short): stop it. */
    private void stopLeftover() throws InterruptedException {
        String id = task.state().containerId();
        if (id.isEmpty()) {
            return;
        }
        try {
            if (services.engine().inspect(id).map(c -> c.live()).orElse(false)) {
                services.engine().stop(id, 0);
                services.engine().awaitExit(id);
            }
        } catch (EngineException e) {
            LOG.warning("task " + task.id() + ": cannot stop its leftover container: " + e.getMessage());
        }
    }

    /**
     * Step 8, under the task lock: start unless terminated, retry once with the accelerator's
     * other edits if the engine refused, record ports, commit {@code running}.
     */
    private boolean start(String containerId, TaskSpec spec) {
        task.lock();
        try {
            if (ended()) {
                return false;
            }
            String id = containerId;
            try {
                services.engine().start(id);
            } catch (EngineException first) {
                List<String> ids = task.state().gpuIds() == null ? List.of() : task.state().gpuIds();
                Optional<ContainerEdits> retry = spec.gpuDevices().isEmpty() && !ids.isEmpty()
                        ? services.gpus().retryAfterStartFailure(ids, first.getMessage()) : Optional.empty();
                if (retry.isEmpty()) {
                    return fail("container_exited_with_error", logsOr(id, first.getMessage()));
                }
                try {
                    services.engine().removeForce(id);
                    task.update(s -> s.withContainerId(""));
                    ContainerPlan plan = services.planner().plan(spec, task.state().containerName(),
                            Path.of(task.state().runnerDir()), ids, retry.get(), services.planner().runnerMounts());
                    id = services.engine().create(plan);
                    String recreated = id;
                    task.update(s -> s.withContainerId(recreated));
                    services.engine().start(id);
                } catch (EngineException second) {
                    return fail("container_exited_with_error", logsOr(id, second.getMessage()));
                }
            }
            List<PortMapping> ports = List.of();
            if (!spec.hostNetwork()) {
                try {
                    ports = services.engine().inspect(id).map(f -> f.ports()).orElse(List.of());
                } catch (EngineException e) {
                    LOG.warning("task " + task.id() + ": cannot read published ports: " + e.getMessage());
                }
            }
            List<PortMapping> published = ports;
            task.update(s -> s.withStatus(TaskStatus.RUNNING).withPorts(published));
            return true;
        } finally {
            task.unlock();
        }
    }

    /** Step 9–10: wait for the exit and terminate with its reason. */
    private void watch(String containerId) throws InterruptedException {
        try {
            int exit = services.engine().awaitExit(containerId);
            if (exit == 0) {
                task.finish("done_by_runner", "");
            } else {
                // No output (e.g. killed when its engine stopped): the exit code is the reason.
                task.finish("container_exited_with_error", logsOr(containerId, "container exited with code " + exit));
            }
        } catch (EngineException.NoSuchContainer e) {
            task.finish("container_exited_with_error", "container disappeared");
        } catch (EngineException e) {
            task.finish("container_exited_with_error", e.getMessage());
        }
    }

    /** Cleanup in reverse order of setup: volumes, host keys, GPUs. */
    private void release() {
        TaskState s = task.state();
        if (s.volumesPrepared()) {
            services.volumes().release(s.spec().volumes());
            task.update(t -> t.withVolumesPrepared(false));
        }
        if (s.hostKeysAdded()) {
            try {
                services.hostKeys().remove(task.id(), s.spec().hostSshUser(), s.spec().hostSshKeys());
                task.update(t -> t.withHostKeysAdded(false));
            } catch (IOException | RuntimeException e) {
                LOG.warning("task " + task.id() + ": cannot remove its host SSH keys: " + e.getMessage());
            }
        }
        services.gpus().release(task.id());
    }

    private String logsOr(String containerId, String fallback) {
        String logs = services.engine().lastLogLines(containerId, LOG_LINES);
        return logs.isEmpty() ? fallback : logs;
    }

    private boolean fail(String reason, String message) {
        LOG.info("task " + task.id() + ": " + reason + ": " + message);
        task.finish(reason, message);
        return false;
    }

    private boolean ended() {
        return task.state().terminated();
    }
}
