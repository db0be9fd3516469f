package ai.dstack.agent.spi;

import java.util.List;

/**
 * A Docker device request (the engine's {@code HostConfig.DeviceRequests} entry).
 *
 * @param driver       driver name, "" for the engine default (NVIDIA's hook)
 * @param deviceIds    device ids to expose, e.g. NVIDIA UUIDs
 * @param capabilities one capability set, e.g. {@code [gpu, utility, compute]}
 */
public record DeviceRequest(String driver, List<String> deviceIds, List<String> capabilities) {
    public DeviceRequest {
        driver = driver == null ? "" : driver;
        deviceIds = List.copyOf(deviceIds);
        capabilities = List.copyOf(capabilities);
    }
}
