package ai.dstack.runner;

import java.util.Map;

/**
 * Every long wait of the runner, overridable through {@code DSTACK_RUNNER_<NAME>} env vars
 * (milliseconds unless the name says otherwise) so tests can run them short.
 *
 * @param startTimeoutMs  from API start until {@code /api/run} must have been accepted (docs/runner.md §3.2)
 * @param logsTimeoutMs   shared budget for the final pull and websocket drains (docs/runner.md §3.2)
 * @param stopGraceMs     from the interrupt until the job's session is killed (docs/runner.md §5.10)
 * @param pullMaxBytes    rough cap on the encoded size of one {@code /api/pull} answer
 * @param submitMaxBytes  largest accepted {@code /api/submit} body
 */
public record Settings(long startTimeoutMs, long logsTimeoutMs, long stopGraceMs, long pullMaxBytes,
                       long submitMaxBytes) {

    public static Settings fromEnv(Map<String, String> env) {
        return new Settings(
                get(env, "START_TIMEOUT_MS", 300_000),
                get(env, "LOGS_TIMEOUT_MS", 300_000),
                get(env, "STOP_GRACE_MS", 10_000),
                get(env, "PULL_MAX_BYTES", 1024 * 1024),
                get(env, "SUBMIT_MAX_BYTES", 1024 * 1024));
    }

    private static long get(Map<String, String> env, String name, long fallback) {
        String value = env.get("DSTACK_RUNNER_" + name);
        if (value == null || value.isBlank()) {
            return fallback;
        }
        try {
            return Long.parseLong(value.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("DSTACK_RUNNER_" + name + " must be an integer, got " + value);
        }
    }
}
