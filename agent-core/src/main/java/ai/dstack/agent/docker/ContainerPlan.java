package ai.dstack.agent.docker;

import ai.dstack.agent.spi.BindMount;
import ai.dstack.agent.spi.ContainerEdits;
import ai.dstack.agent.spi.DeviceNode;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Everything the engine's create call gets for one task container: plain data, built by
 * {@link ContainerPlanner}, turned into an engine request by {@link Engine}.
 *
 * @param name             container name
 * @param image            normalised image reference
 * @param labels           container labels
 * @param user             user the container runs as
 * @param entrypoint       entrypoint, replacing the image's
 * @param cmd              command, replacing the image's
 * @param env              environment, in order
 * @param mounts           bind mounts, in order
 * @param networkMode      {@code host} or {@code bridge}
 * @param ports            container TCP ports published on 127.0.0.1 (ignored in host mode)
 * @param nanoCpus         CPU limit in 1e-9 CPUs, 0 unlimited
 * @param memory           memory limit in bytes, 0 unlimited
 * @param shmSize          /dev/shm size in bytes, 0 the engine default
 * @param privileged       whether the container is privileged
 * @param devices          device nodes mapped regardless of GPUs (e.g. /dev/infiniband)
 * @param unlimitedMemlock whether memlock is unlimited (RDMA)
 * @param edits            the accelerator's container edits
 */
public record ContainerPlan(String name, String image, Map<String, String> labels, String user, List<String> entrypoint,
                            List<String> cmd, Map<String, String> env, List<BindMount> mounts, String networkMode,
                            List<Integer> ports, long nanoCpus, long memory, long shmSize, boolean privileged,
                            List<DeviceNode> devices, boolean unlimitedMemlock, ContainerEdits edits) {
    public ContainerPlan {
        labels = Map.copyOf(labels);
        entrypoint = List.copyOf(entrypoint);
        cmd = List.copyOf(cmd);
        env = new LinkedHashMap<>(env);
        mounts = List.copyOf(mounts);
        ports = List.copyOf(ports);
        devices = List.copyOf(devices);
    }

    /** The same plan with other accelerator edits (the recreate-after-start-failure path). */
    public ContainerPlan withEdits(ContainerEdits other) {
        return new ContainerPlan(name, image, labels, user, entrypoint, cmd, env, mounts, networkMode, ports, nanoCpus,
                memory, shmSize, privileged, devices, unlimitedMemlock, other);
    }

    /** {@code KEY=value} lines: the plan's env, then the edits' env. */
    public List<String> envLines() {
        Map<String, String> all = new LinkedHashMap<>(env);
        all.putAll(edits.env());
        return all.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue()).toList();
    }
}
