package ai.dstack.agent.api;

import ai.dstack.agent.component.Components;
import ai.dstack.agent.pluginhost.PluginRuntime;
import ai.dstack.agent.task.PipelineStats;
import ai.dstack.agent.task.TaskPeers;
import ai.dstack.agent.task.TaskService;
import io.helidon.webserver.WebServer;
import io.helidon.webserver.http.HttpRouting;
import java.net.InetAddress;
import java.time.Duration;
import java.util.Optional;
import java.util.function.Consumer;

/** The shim's HTTP API on loopback: every service, then {@code 404 page not found} for the rest. */
public final class ApiServer {
    private ApiServer() {
    }

    /**
     * Builds (not starts) the server.
     *
     * @param port     API port on loopback (0: any free port)
     * @param grace    how long in-flight requests get at stop
     * @param shutdown called with {@code force} after a shutdown request was answered
     * @param peers    when present, processes of task containers get 403 (docs/api-isolation.md)
     */
    public static WebServer create(int port, Duration grace, String version, TaskService tasks, Components components,
                                   PluginRuntime plugins, PipelineStats stats, Consumer<Boolean> shutdown,
                                   Optional<TaskPeers> peers) {
        return WebServer.builder()
                .address(InetAddress.getLoopbackAddress())
                .port(port)
                .shutdownHook(false)
                .shutdownGracePeriod(grace)
                .directHandlers(ProtocolErrors.directHandlers())
                .routing(routing -> {
                    // malformed requests are refused before any other filter sees them
                    routing.addFilter(ProtocolErrors.requestChecks());
                    peers.ifPresent(p -> routing.addFilter(new TaskPeerFilter(p)));
                    routing(routing, version, tasks, components, plugins, stats, shutdown);
                })
                .build();
    }

    private static void routing(HttpRouting.Builder routing, String version, TaskService tasks, Components components,
                                PluginRuntime plugins, PipelineStats stats, Consumer<Boolean> shutdown) {
        routing.register(new HealthService(version))
                .register(new TasksService(tasks))
                .register(new InstanceService(plugins, tasks))
                .register(new ComponentsService(components))
                .register(new ShutdownService(shutdown))
                .register(new MetricsService(tasks, plugins::gpus, stats))
                .any((req, res) -> Replies.text(res, 404, "404 page not found"));
    }
}
