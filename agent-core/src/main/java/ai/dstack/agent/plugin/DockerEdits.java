package ai.dstack.agent.plugin;

import ai.dstack.agent.spi.ContainerEdits;
import ai.dstack.agent.spi.ContainerView;
import ai.dstack.agent.spi.DeviceNode;
import ai.dstack.agent.spi.DeviceRequest;
import com.github.dockerjava.api.command.InspectContainerResponse;
import com.github.dockerjava.api.model.Capability;
import com.github.dockerjava.api.model.Device;
import com.github.dockerjava.api.model.HostConfig;
import com.github.dockerjava.api.model.Mount;
import com.github.dockerjava.api.model.MountType;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Translates plugin container edits to the Docker engine's create request (docker-java), and an
 * inspected container back to the {@link ContainerView} plugins recover ids from.
 */
public final class DockerEdits {
    private DockerEdits() {
    }

    /** Adds the edits' devices, device requests, runtime, capabilities, IPC mode, security options and mounts. */
    public static HostConfig apply(HostConfig config, ContainerEdits edits) {
        if (!edits.deviceNodes().isEmpty()) {
            List<Device> devices = new ArrayList<>(config.getDevices() == null ? List.of() : Arrays.asList(config.getDevices()));
            edits.deviceNodes().forEach(n -> devices.add(new Device(n.permissions(), n.containerPath(), n.hostPath())));
            config.withDevices(devices);
        }
        if (!edits.deviceRequests().isEmpty()) {
            List<com.github.dockerjava.api.model.DeviceRequest> requests = new ArrayList<>(
                    config.getDeviceRequests() == null ? List.of() : config.getDeviceRequests());
            for (DeviceRequest r : edits.deviceRequests()) {
                requests.add(new com.github.dockerjava.api.model.DeviceRequest()
                        .withDriver(r.driver()).withDeviceIds(r.deviceIds()).withCapabilities(List.of(r.capabilities())));
            }
            config.withDeviceRequests(requests);
        }
        if (!edits.runtime().isEmpty()) {
            config.withRuntime(edits.runtime());
        }
        if (!edits.capAdd().isEmpty()) {
            List<Capability> caps = new ArrayList<>(config.getCapAdd() == null ? List.of() : Arrays.asList(config.getCapAdd()));
            edits.capAdd().forEach(c -> caps.add(Capability.valueOf(c)));
            config.withCapAdd(caps.toArray(Capability[]::new));
        }
        if (!edits.ipcMode().isEmpty()) {
            config.withIpcMode(edits.ipcMode());
        }
        if (!edits.securityOpts().isEmpty()) {
            List<String> opts = new ArrayList<>(config.getSecurityOpts() == null ? List.of() : config.getSecurityOpts());
            opts.addAll(edits.securityOpts());
            config.withSecurityOpts(opts);
        }
        if (!edits.mounts().isEmpty()) {
            List<Mount> mounts = new ArrayList<>(config.getMounts() == null ? List.of() : config.getMounts());
            edits.mounts().forEach(m -> mounts.add(new Mount().withType(MountType.BIND).withSource(m.hostPath())
                    .withTarget(m.containerPath()).withReadOnly(m.readOnly())));
            config.withMounts(mounts);
        }
        return config;
    }

    /** The edits' environment as Docker's {@code NAME=value} list. */
    public static List<String> env(ContainerEdits edits) {
        return edits.env().entrySet().stream().map(e -> e.getKey() + "=" + e.getValue()).toList();
    }

    /** What plugins need to know about an existing container to recover the device ids it holds. */
    public static ContainerView view(InspectContainerResponse container) {
        Map<String, String> env = new LinkedHashMap<>();
        String[] lines = container.getConfig() == null ? null : container.getConfig().getEnv();
        for (String line : lines == null ? new String[0] : lines) {
            int eq = line.indexOf('=');
            if (eq > 0) {
                env.put(line.substring(0, eq), line.substring(eq + 1));
            }
        }
        HostConfig hc = container.getHostConfig();
        List<DeviceNode> nodes = new ArrayList<>();
        List<DeviceRequest> requests = new ArrayList<>();
        String runtime = "";
        if (hc != null) {
            for (Device d : hc.getDevices() == null ? new Device[0] : hc.getDevices()) {
                nodes.add(new DeviceNode(d.getPathOnHost(), d.getPathInContainer(), d.getcGroupPermissions()));
            }
            if (hc.getDeviceRequests() != null) {
                for (var r : hc.getDeviceRequests()) {
                    List<String> caps = r.getCapabilities() == null || r.getCapabilities().isEmpty() ? List.of() : r.getCapabilities().getFirst();
                    requests.add(new DeviceRequest(r.getDriver(), r.getDeviceIds() == null ? List.of() : r.getDeviceIds(), caps));
                }
            }
            runtime = hc.getRuntime();
        }
        return new ContainerView(env, nodes, requests, runtime);
    }

}
