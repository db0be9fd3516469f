package ai.dstack.agent.api;

import ai.dstack.agent.pluginhost.GpuPool;
import ai.dstack.agent.spi.Device;
import ai.dstack.agent.task.PipelineStats;
import ai.dstack.agent.task.TaskService;
import ai.dstack.agent.task.TaskState;
import ai.dstack.agent.task.TaskStatus;
import io.helidon.http.HeaderNames;
import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.HttpService;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;

/**
 * The agent's own metrics in Prometheus text (not part of the Go shim's API): tasks by status,
 * pull and start durations, GPUs allocated, free and unhealthy.
 * <pre>
 * curl localhost:10998/metrics
 * </pre>
 */
final class MetricsService implements HttpService {
    private final TaskService tasks;
    private final Supplier<GpuPool> gpus;
    private final PipelineStats stats;

    MetricsService(TaskService tasks, Supplier<GpuPool> gpus, PipelineStats stats) {
        this.tasks = tasks;
        this.gpus = gpus;
        this.stats = stats;
    }

    @Override
    public void routing(HttpRules rules) {
        Routes.on(rules).get("/metrics", this::metrics).otherMethodsNotAllowed();
    }

    private void metrics(ServerRequest req, ServerResponse res) {
        StringBuilder out = new StringBuilder();
        Map<TaskStatus, Integer> byStatus = new EnumMap<>(TaskStatus.class);
        for (TaskStatus s : TaskStatus.values()) {
            byStatus.put(s, 0);
        }
        Set<String> held = new HashSet<>();
        for (TaskState t : tasks.list()) {
            byStatus.merge(t.status(), 1, Integer::sum);
            held.addAll(gpus.get().heldBy(t.id()));
        }
        family(out, "dstack_shim_tasks", "gauge", "Tasks the shim knows, by status.");
        byStatus.forEach((status, n) -> out.append("dstack_shim_tasks{status=\"")
                .append(status.name().toLowerCase(Locale.ROOT)).append("\"} ").append(n).append('\n'));
        summary(out, "dstack_shim_image_pull_seconds", "Time tasks spent in the image pull step.", stats.pulls());
        summary(out, "dstack_shim_container_start_seconds", "Time from container create to started container.", stats.starts());
        int allocated = 0;
        int free = 0;
        int unhealthy = 0;
        for (Device d : gpus.get().devices()) {
            if (!d.healthy()) {
                unhealthy++;
            } else if (held.contains(d.id())) {
                allocated++;
            } else {
                free++;
            }
        }
        family(out, "dstack_shim_gpus", "gauge", "Accelerators of the primary vendor, by state.");
        out.append("dstack_shim_gpus{state=\"allocated\"} ").append(allocated).append('\n');
        out.append("dstack_shim_gpus{state=\"free\"} ").append(free).append('\n');
        out.append("dstack_shim_gpus{state=\"unhealthy\"} ").append(unhealthy).append('\n');
        res.header(HeaderNames.CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8");
        res.send(out.toString());
    }

    private static void family(StringBuilder out, String name, String type, String help) {
        out.append("# HELP ").append(name).append(' ').append(help).append('\n');
        out.append("# TYPE ").append(name).append(' ').append(type).append('\n');
    }

    private static void summary(StringBuilder out, String name, String help, PipelineStats.Summary s) {
        family(out, name, "summary", help);
        out.append(name).append("_count ").append(s.count()).append('\n');
        out.append(name).append("_sum ").append(String.format(Locale.ROOT, "%.3f", s.totalSeconds())).append('\n');
    }
}
