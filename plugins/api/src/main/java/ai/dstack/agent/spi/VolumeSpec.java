package ai.dstack.agent.spi;

/**
 * A network volume as the dstack server describes it in a task.
 *
 * @param backend    cloud backend: {@code aws} or {@code gcp}
 * @param name       volume name (a single path component)
 * @param volumeId   the cloud's volume id, e.g. {@code vol-0abc…}
 * @param initFs     whether a blank device may be formatted
 * @param deviceName attachment device name, e.g. {@code /dev/sdf}; null when unknown
 */
public record VolumeSpec(String backend, String name, String volumeId, boolean initFs, String deviceName) {
}
