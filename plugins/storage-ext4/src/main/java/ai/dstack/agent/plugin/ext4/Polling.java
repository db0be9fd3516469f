package ai.dstack.agent.plugin.ext4;

import ai.dstack.agent.spi.HostContext;
import ai.dstack.agent.spi.StorageException;
import java.time.Duration;
import java.util.function.Function;

/** Retries a look at the host until it finds something or the operator-tunable wait is over. */
final class Polling {
    private Polling() {
    }

    /** One look; null means "not yet". */
    interface Attempt<T> {
        T tryOnce() throws StorageException;
    }

    /**
     * Tries every {@code <name>-poll-interval-ms} until {@code <name>-timeout-ms} (settings declared in
     * {@link Ext4Volumes#SETTINGS}) is over, then fails with {@code onTimeout(timeout)}.
     */
    static <T> T until(HostContext host, String name, Attempt<T> attempt, Function<Duration, String> onTimeout)
            throws StorageException {
        Duration wait = host.millis(name + "-timeout-ms");
        Duration poll = host.millis(name + "-poll-interval-ms");
        long deadline = System.nanoTime() + wait.toNanos();
        while (true) {
            T found = attempt.tryOnce();
            if (found != null) {
                return found;
            }
            if (System.nanoTime() - deadline >= 0) {
                throw new StorageException(onTimeout.apply(wait));
            }
            Ext4Volumes.sleep(poll);
        }
    }
}
