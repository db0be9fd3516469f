package ai.dstack.agent.spi;

/**
 * What is on a block device.
 *
 * @param state  blank, has a filesystem, or carries some other signature
 * @param fsType filesystem type when {@link State#FILESYSTEM}, else ""
 */
public record FsProbe(State state, String fsType) {
    /** The three verdicts of {@code blkid -p}. */
    public enum State { BLANK, FILESYSTEM, FOREIGN }
}
