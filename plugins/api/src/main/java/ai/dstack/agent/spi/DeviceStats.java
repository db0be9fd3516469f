package ai.dstack.agent.spi;

/**
 * Live figures of one device.
 *
 * @param id               the device's resource id
 * @param memoryUsedBytes  device memory in use
 * @param utilizationPct   compute utilisation, 0–100
 */
public record DeviceStats(String id, long memoryUsedBytes, long utilizationPct) {
}
