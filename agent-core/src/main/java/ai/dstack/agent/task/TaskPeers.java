package ai.dstack.agent.task;

import ai.dstack.agent.docker.Engine;
import ai.dstack.agent.docker.EngineException;
import ai.dstack.agent.host.LoopbackSockets;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.logging.Logger;

/**
 * Whether a client of the shim API is a process of a task container (docs/api-isolation.md). The
 * shim listens on loopback only, but a host-network task shares the host's loopback, so the network
 * cannot tell its jobs from the host's own processes; their PID namespace can. Only host-network
 * tasks' containers are looked at: bridge-network ones cannot reach the host's loopback.
 */
public final class TaskPeers {
    private static final Logger LOG = Logger.getLogger(TaskPeers.class.getName());
    private final TaskService tasks;
    private final Engine engine;
    private final LoopbackSockets sockets;
    /** Main process ids of running tasks' containers: a running container keeps its pid. */
    private final Map<String, Long> pids = new ConcurrentHashMap<>();

    public TaskPeers(TaskService tasks, Engine engine, LoopbackSockets sockets) {
        this.tasks = tasks;
        this.engine = engine;
        this.sockets = sockets;
    }

    /** Whether any host-network task has a container, i.e. whether clients need to be looked at at all. */
    public boolean anyHostNetworkContainer() {
        return tasks.list().stream().anyMatch(TaskPeers::hostNetworkContainer);
    }

    /**
     * Whether the client at {@code client} of our {@code server} address is a process of a host-network task's
     * container. A client whose socket no process holds any more (it sent a request and closed) is
     * counted as one while such containers run: it cannot be told apart, and it gets no answer anyway.
     */
    public boolean fromTaskContainer(InetSocketAddress client, InetSocketAddress server) {
        List<TaskState> hostTasks = tasks.list().stream().filter(TaskPeers::hostNetworkContainer).toList();
        if (hostTasks.isEmpty()) {
            return false;
        }
        pids.keySet().retainAll(hostTasks.stream().map(TaskState::containerId).toList());
        long inode = sockets.clientInode(client, server);
        for (TaskState task : hostTasks) {
            long pid = mainPid(task);
            if (pid > 0 && (inode == 0 || sockets.heldInNamespaceOf(pid, inode))) {
                return true;
            }
        }
        return false;
    }

    private static boolean hostNetworkContainer(TaskState s) {
        return s.spec().hostNetwork() && !s.containerId().isEmpty();
    }

    private long mainPid(TaskState task) {
        Long known = pids.get(task.containerId());
        if (known != null && task.status() == TaskStatus.RUNNING) {
            return known;
        }
        try {
            long pid = engine.mainPid(task.containerId());
            if (pid > 0 && task.status() == TaskStatus.RUNNING) {
                pids.put(task.containerId(), pid);
            }
            return pid;
        } catch (EngineException e) {
            LOG.warning("cannot tell whether an API client is in container " + task.containerId() + ": " + e.getMessage());
            return 0;
        }
    }
}
