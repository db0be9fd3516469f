package ai.dstack.agent.task;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

/**
 * How long pipelines spend in their slow steps, summed across tasks since the agent started: the
 * image pull step and the container start (create + start). Read by the agent's {@code /metrics}.
 */
public final class PipelineStats {
    private final Summary pulls = new Summary();
    private final Summary starts = new Summary();

    /** Durations of the pull step (a skipped pull counts too: it is what the task waited). */
    public Summary pulls() {
        return pulls;
    }

    /** Durations from container create to a started container. */
    public Summary starts() {
        return starts;
    }

    /** A Prometheus summary without quantiles: how many, and their total. */
    public static final class Summary {
        private final AtomicLong count = new AtomicLong();
        private final AtomicLong totalNanos = new AtomicLong();

        void record(Duration d) {
            count.incrementAndGet();
            totalNanos.addAndGet(d.toNanos());
        }

        public long count() {
            return count.get();
        }

        public double totalSeconds() {
            return totalNanos.get() / 1e9;
        }
    }
}
