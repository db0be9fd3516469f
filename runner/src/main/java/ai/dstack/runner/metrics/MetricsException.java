package ai.dstack.runner.metrics;

/** The cgroup figures could not be read or parsed (the API answers 500). */
public final class MetricsException extends Exception {
    MetricsException(String message, Throwable cause) {
        super(message, cause);
    }

    MetricsException(String message) {
        super(message);
    }
}
