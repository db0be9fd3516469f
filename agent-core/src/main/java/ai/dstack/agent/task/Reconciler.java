package ai.dstack.agent.task;

import ai.dstack.agent.docker.ContainerFacts;
import ai.dstack.agent.docker.EngineException;
import ai.dstack.agent.docker.Labels;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.logging.Logger;

/**
 * Startup reconciliation (issue "restart safety"): every task file is matched with the engine's
 * containers of this shim (labelled with this home, or Go-labelled ones whose runner dir lies in
 * this home's {@code runners/}), and each task gets the state its container really has. The
 * resulting states are saved and handed to the task service, whose pipelines resume from them.
 */
public final class Reconciler {
    private static final Logger LOG = Logger.getLogger(Reconciler.class.getName());
    static final String NOT_RUNNING = "not running after agent restart";
    private final PipelineServices services;
    private final TaskStore store;
    private final Path home;

    public Reconciler(PipelineServices services, TaskStore store, Path home) {
        this.services = services;
        this.store = store;
        this.home = home;
    }

    public List<TaskState> reconcile() throws IOException, EngineException {
        List<TaskState> stored = store.loadAll();
        Map<String, List<ContainerFacts>> containers = new HashMap<>();
        for (ContainerFacts c : services.engine().taskContainers()) {
            if (ours(c) && c.labels().containsKey(Labels.TASK_ID)) {
                containers.computeIfAbsent(c.labels().get(Labels.TASK_ID), k -> new ArrayList<>()).add(c);
            }
        }
        List<TaskState> result = new ArrayList<>();
        for (TaskState s : stored) {
            List<ContainerFacts> candidates = containers.remove(s.id());
            Optional<ContainerFacts> container = candidates == null ? Optional.empty() : candidates.stream()
                    .filter(c -> c.id().equals(s.containerId()) || c.name().equals(s.containerName())).findFirst();
            result.add(save(withContainer(s, container)));
        }
        for (List<ContainerFacts> orphans : containers.values()) {
            for (ContainerFacts c : orphans) {
                result.add(save(adopt(c)));
            }
        }
        for (TaskState s : result) {
            if (!s.terminated() && s.gpuIds() != null && !s.gpuIds().isEmpty()) {
                services.gpus().restore(s.id(), s.gpuIds());
            }
            LOG.info("restored task " + s.id() + ": " + s.status().wire()
                     + (s.terminated() ? " (" + s.terminationReason() + ")" : ""));
        }
        return result;
    }

    private boolean ours(ContainerFacts c) {
        String owner = c.labels().get(Labels.HOME);
        if (owner != null) {
            return owner.equals(home.toString());
        }
        return !c.runnerDir().isEmpty() && Path.of(c.runnerDir()).normalize().startsWith(home.resolve("runners"));
    }

    /** A task with a file: what its container (if any) says wins. */
    private TaskState withContainer(TaskState s, Optional<ContainerFacts> container) {
        if (s.terminated()) {
            return container.map(c -> s.withContainerId(c.id())).orElse(s);
        }
        if (container.isEmpty()) {
            return s.status() == TaskStatus.RUNNING
                    ? s.terminatedWith("container_exited_with_error", "container disappeared")
                    : s; // pending … creating without a container: the pipeline resumes from its step
        }
        ContainerFacts c = container.get();
        TaskState t = s.withContainerId(c.id());
        if (c.live()) {
            return t.withStatus(TaskStatus.RUNNING).withPorts(t.spec().hostNetwork() ? List.of() : c.ports());
        }
        return switch (c.state()) {
            case "created" -> t.withStatus(TaskStatus.CREATING); // the pipeline starts it
            case "exited" -> exited(t, c);
            default -> t.terminatedWith("container_exited_with_error", NOT_RUNNING);
        };
    }

    /** A container of ours without a task file (a Go shim's task, or a lost file): rebuilt from the container. */
    private TaskState adopt(ContainerFacts c) {
        String id = c.labels().get(Labels.TASK_ID);
        TaskSpec spec = new TaskSpec(id, c.name(), "", "", "", "root", false, 0, 0, 0, 0,
                c.ports().isEmpty() ? "host" : "bridge", List.of(), List.of(), List.of(), List.of(), "", List.of(), List.of());
        String runnerDir = c.runnerDir().isEmpty() ? home.resolve("runners").resolve(c.name()).toString() : c.runnerDir();
        TaskState s = TaskState.pending(spec, c.name(), runnerDir).withContainerId(c.id())
                .withGpuIds(services.gpus().recover(c.view()));
        LOG.warning("container " + c.name() + " of task " + id + " has no task file; adopting it");
        if (c.live()) {
            return s.withStatus(TaskStatus.RUNNING).withPorts(c.ports());
        }
        if (c.state().equals("exited")) {
            return exited(s, c);
        }
        return s.terminatedWith("container_exited_with_error", NOT_RUNNING);
    }

    private TaskState exited(TaskState s, ContainerFacts c) {
        return c.exitCode() == 0 ? s.terminatedWith("done_by_runner", "")
                : s.terminatedWith("container_exited_with_error", services.engine().lastLogLines(c.id(), 5));
    }

    private TaskState save(TaskState s) throws IOException {
        store.save(s);
        return s;
    }
}
