package ai.dstack.agent.api;

import ai.dstack.agent.pluginhost.GpuPool;
import ai.dstack.agent.pluginhost.PluginRuntime;
import ai.dstack.agent.spi.Device;
import ai.dstack.agent.spi.TaskMetrics;
import ai.dstack.agent.task.TaskService;
import ai.dstack.agent.task.TaskState;
import io.helidon.http.HeaderNames;
import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.HttpService;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import java.io.IOException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Instance health, GPU facts and per-task metrics (docs/shim.md §2.5, §2.6, §2.14). Without
 * accelerators health is {@code {"dcgm":null}}; without a metrics source from the primary vendor's
 * plugin metrics are 404 with the Go shim's message.
 * <pre>
 * curl localhost:10998/api/instance/health
 * curl localhost:10998/api/instance/info
 * curl localhost:10998/metrics/tasks/t1
 * </pre>
 */
final class InstanceService implements HttpService {
    private final PluginRuntime plugins;
    private final TaskService tasks;

    InstanceService(PluginRuntime plugins, TaskService tasks) {
        this.plugins = plugins;
        this.tasks = tasks;
    }

    @Override
    public void routing(HttpRules rules) {
        Routes.on(rules)
                .get("/api/instance/health", (req, res) -> Replies.json(res, plugins.health()))
                .get("/api/instance/info", this::info)
                .get("/metrics/tasks/{id}", this::taskMetrics)
                .otherMethodsNotAllowed();
    }

    private void info(ServerRequest req, ServerResponse res) {
        GpuPool gpus = plugins.gpus();
        Map<String, String> info = new HashMap<>();
        if (!gpus.devices().isEmpty()) {
            Device first = gpus.devices().getFirst();
            info.put("gpu_vendor", first.vendor());
            if (!first.driverVersion().isEmpty()) {
                info.put("gpu_driver_version", first.driverVersion());
            }
        }
        Replies.json(res, info);
    }

    private void taskMetrics(ServerRequest req, ServerResponse res) throws ApiException {
        TaskMetrics source = plugins.taskMetrics().orElseThrow(() -> new ApiException(404, "DCGM Exporter is not available"));
        TaskState task = tasks.get(req.path().pathParameters().get("id"))
                .orElseThrow(() -> new ApiException(404, "Task not found"));
        List<String> ids = task.gpuIds() == null ? List.of() : task.gpuIds();
        String body;
        try {
            body = source.scrape(ids);
        } catch (IOException e) {
            throw new ApiException(502, e.getMessage());
        }
        res.header(HeaderNames.CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8");
        res.send(body);
    }
}
