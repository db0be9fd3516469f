package ai.dstack.agent.spi;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * How to put reserved devices into a container: the plugin's answer to
 * {@link AcceleratorPlugin#reserve}. The core applies it to the engine's create request.
 *
 * @param deviceNodes    device nodes to map
 * @param deviceRequests engine device requests (NVIDIA)
 * @param runtime        OCI runtime name, "" for the engine default (Gaudi: {@code habana})
 * @param env            environment variables to set in the container
 * @param capAdd         Linux capabilities to add
 * @param ipcMode        IPC mode, "" for the engine default
 * @param securityOpts   security options, e.g. {@code seccomp=unconfined}
 * @param mounts         extra bind mounts
 */
public record ContainerEdits(List<DeviceNode> deviceNodes, List<DeviceRequest> deviceRequests, String runtime,
                             Map<String, String> env, List<String> capAdd, String ipcMode,
                             List<String> securityOpts, List<BindMount> mounts) {
    public static final ContainerEdits NONE = builder().build();

    public ContainerEdits {
        deviceNodes = List.copyOf(deviceNodes);
        deviceRequests = List.copyOf(deviceRequests);
        runtime = runtime == null ? "" : runtime;
        env = Map.copyOf(env);
        capAdd = List.copyOf(capAdd);
        ipcMode = ipcMode == null ? "" : ipcMode;
        securityOpts = List.copyOf(securityOpts);
        mounts = List.copyOf(mounts);
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Collects edits step by step; plugins build one per reservation. */
    public static final class Builder {
        private final List<DeviceNode> deviceNodes = new ArrayList<>();
        private final List<DeviceRequest> deviceRequests = new ArrayList<>();
        private String runtime = "";
        private final Map<String, String> env = new LinkedHashMap<>();
        private final List<String> capAdd = new ArrayList<>();
        private String ipcMode = "";
        private final List<String> securityOpts = new ArrayList<>();
        private final List<BindMount> mounts = new ArrayList<>();

        public Builder deviceNode(DeviceNode node) { deviceNodes.add(node); return this; }
        public Builder deviceRequest(DeviceRequest request) { deviceRequests.add(request); return this; }
        public Builder runtime(String name) { runtime = name; return this; }
        public Builder env(String name, String value) { env.put(name, value); return this; }
        public Builder capAdd(String capability) { capAdd.add(capability); return this; }
        public Builder ipcMode(String mode) { ipcMode = mode; return this; }
        public Builder securityOpt(String option) { securityOpts.add(option); return this; }
        public Builder mount(BindMount mount) { mounts.add(mount); return this; }

        public ContainerEdits build() {
            return new ContainerEdits(deviceNodes, deviceRequests, runtime, env, capAdd, ipcMode, securityOpts, mounts);
        }
    }
}
