package ai.dstack.agent.spi;

/**
 * A host path bind-mounted into a container.
 *
 * @param hostPath      logical host path
 * @param containerPath path inside the container
 * @param readOnly      whether the container may not write to it
 */
public record BindMount(String hostPath, String containerPath, boolean readOnly) {
}
