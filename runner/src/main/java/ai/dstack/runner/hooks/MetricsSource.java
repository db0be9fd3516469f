package ai.dstack.runner.hooks;

import java.util.Optional;

/** Container metrics for {@code GET /api/metrics} (docs/runner.md §7). */
public interface MetricsSource {
    /**
     * A sample to serialise as JSON; empty when no collector is available (→ 404).
     *
     * @throws Exception a read failure (→ 500 carrying its message)
     */
    Optional<Object> sample() throws Exception;

    static MetricsSource unavailable() {
        return Optional::empty;
    }
}
