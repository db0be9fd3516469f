package ai.dstack.runner;

import java.util.List;
import java.util.Map;

/**
 * Everything the runner takes from its environment, read once at start from one table
 * ({@link #TABLE}, listed in the runner README). Durations end in {@code _MS}; an older name
 * of a setting is still accepted when the new one is unset. The job's own environment (the
 * container's, passed on to the job) is not a setting.
 *
 * @param startTimeoutMs    from API start until {@code /api/run} must have been accepted (docs/runner.md §3.2)
 * @param logsTimeoutMs     after the job: the linger and websocket drains (docs/runner.md §3.2, docs/runner-behaviour.md)
 * @param stopGraceMs       from the interrupt until the job's session is killed (docs/runner.md §5.10)
 * @param pullMaxBytes      rough cap on the encoded size of one {@code /api/pull} answer
 * @param submitMaxBytes    largest accepted {@code /api/submit} body
 * @param gpuToolTimeoutMs  longest wait for one run of the GPU tool behind {@code /api/metrics}
 * @param gpuMetricsCacheMs how long a GPU tool reading is reused
 * @param reportedVersion   the version the runner reports, null for the build's
 */
public record Settings(long startTimeoutMs, long logsTimeoutMs, long stopGraceMs, long pullMaxBytes,
                       long submitMaxBytes, long gpuToolTimeoutMs, long gpuMetricsCacheMs, String reportedVersion) {

    /**
     * One environment variable.
     *
     * @param name     the variable
     * @param oldNames earlier names, still accepted
     * @param fallback the default ("" for none)
     * @param meaning  one line for the README
     */
    public record Setting(String name, List<String> oldNames, String fallback, String meaning) {
        /** The value in {@code env} (the name first, then the old names), else the default. */
        String value(Map<String, String> env) {
            for (String n : names()) {
                String v = env.get(n);
                if (v != null && !v.isBlank()) {
                    return v.trim();
                }
            }
            return fallback;
        }

        List<String> names() {
            return java.util.stream.Stream.concat(java.util.stream.Stream.of(name), oldNames.stream()).toList();
        }

        long number(Map<String, String> env) {
            String v = value(env);
            try {
                return Long.parseLong(v);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(name + " must be an integer, got " + v);
            }
        }
    }

    private static final Setting START_TIMEOUT = new Setting("DSTACK_RUNNER_START_TIMEOUT_MS", List.of(), "300000",
            "from start until `/api/run` must have been accepted, else exit 1");
    private static final Setting LOGS_TIMEOUT = new Setting("DSTACK_RUNNER_LOGS_TIMEOUT_MS", List.of(), "300000",
            "after the job: how long the runner lingers for a repeated final pull and websocket drains, unless stopped");
    private static final Setting STOP_GRACE = new Setting("DSTACK_RUNNER_STOP_GRACE_MS", List.of(), "10000",
            "from a stop's SIGINT/SIGTERM until the job's session is killed");
    private static final Setting PULL_MAX = new Setting("DSTACK_RUNNER_PULL_MAX_BYTES", List.of(), "16777216",
            "rough cap on one `/api/pull` answer (streamed: it costs no heap)");
    private static final Setting SUBMIT_MAX = new Setting("DSTACK_RUNNER_SUBMIT_MAX_BYTES", List.of(), "1048576",
            "largest `/api/submit` body (413 above)");
    private static final Setting GPU_TOOL_TIMEOUT = new Setting("DSTACK_RUNNER_GPU_TOOL_TIMEOUT_MS",
            List.of("DSTACK_RUNNER_GPU_TOOL_TIMEOUT"), "5000", "longest wait for one GPU tool run behind `/api/metrics`");
    private static final Setting GPU_METRICS_CACHE = new Setting("DSTACK_RUNNER_GPU_METRICS_CACHE_MS",
            List.of("DSTACK_RUNNER_GPU_METRICS_CACHE"), "2000", "how long a GPU tool reading is reused");
    private static final Setting REPORTED_VERSION = new Setting("DSTACK_REPORTED_VERSION", List.of(), "",
            "the version reported by `--version` and `/api/healthcheck` (default: the build's)");

    /** Every setting, in README order. */
    public static final List<Setting> TABLE = List.of(START_TIMEOUT, LOGS_TIMEOUT, STOP_GRACE, PULL_MAX, SUBMIT_MAX,
            GPU_TOOL_TIMEOUT, GPU_METRICS_CACHE, REPORTED_VERSION);

    /** Reads the table; throws {@link IllegalArgumentException} for a malformed number. */
    public static Settings fromEnv(Map<String, String> env) {
        String version = REPORTED_VERSION.value(env);
        return new Settings(START_TIMEOUT.number(env), LOGS_TIMEOUT.number(env), STOP_GRACE.number(env),
                PULL_MAX.number(env), SUBMIT_MAX.number(env), GPU_TOOL_TIMEOUT.number(env),
                GPU_METRICS_CACHE.number(env), version.isEmpty() ? null : version);
    }
}
