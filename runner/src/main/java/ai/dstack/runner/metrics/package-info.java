/**
 * {@code GET /api/metrics} figures (docs/runner.md §7): the container's cgroup (v2 or v1) and the GPU vendor tool, through
 * {@link ai.dstack.runner.metrics.MetricsCollector}.
 */
package ai.dstack.runner.metrics;
