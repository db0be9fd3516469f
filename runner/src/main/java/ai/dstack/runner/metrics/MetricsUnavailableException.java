package ai.dstack.runner.metrics;

/** No usable cgroup hierarchy was found (the API answers 404 {@code Metrics collector is not available}). */
public final class MetricsUnavailableException extends Exception {
    MetricsUnavailableException(String message) {
        super(message);
    }
}
