package ai.dstack.agent.spi;

import java.util.List;
import java.util.Map;

/**
 * What the core read back from an existing container, for {@link AcceleratorPlugin#recover}.
 *
 * @param env            the container's environment
 * @param deviceNodes    device nodes mapped into it
 * @param deviceRequests its engine device requests
 * @param runtime        its OCI runtime name
 */
public record ContainerView(Map<String, String> env, List<DeviceNode> deviceNodes,
                            List<DeviceRequest> deviceRequests, String runtime) {
    public ContainerView {
        env = Map.copyOf(env);
        deviceNodes = List.copyOf(deviceNodes);
        deviceRequests = List.copyOf(deviceRequests);
        runtime = runtime == null ? "" : runtime;
    }
}
