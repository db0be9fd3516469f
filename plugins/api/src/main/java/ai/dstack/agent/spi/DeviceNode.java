package ai.dstack.agent.spi;

/**
 * A host device node mapped into a container.
 *
 * @param hostPath      logical host path, e.g. {@code /dev/kfd} (never prefixed with the host root)
 * @param containerPath path inside the container
 * @param permissions   cgroup permissions, e.g. {@code rwm}
 */
public record DeviceNode(String hostPath, String containerPath, String permissions) {
    /** The same path inside and outside, {@code rwm}. */
    public static DeviceNode same(String path) {
        return new DeviceNode(path, path, "rwm");
    }
}
