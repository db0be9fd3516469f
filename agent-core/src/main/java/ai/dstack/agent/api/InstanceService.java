package ai.dstack.agent.api;

import ai.dstack.agent.host.GpuPool;
import ai.dstack.agent.spi.Device;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.HttpService;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import java.util.HashMap;
import java.util.Map;

/**
 * Instance health, GPU facts and per-task metrics (spec shim §2.5, §2.6, §2.14). Without DCGM
 * health is {@code {"dcgm":null}} and metrics are 404.
 * <pre>
 * curl localhost:10998/api/instance/health
 * curl localhost:10998/api/instance/info
 * curl localhost:10998/metrics/tasks/t1
 * </pre>
 */
final class InstanceService implements HttpService {
    private final GpuPool gpus;

    InstanceService(GpuPool gpus) {
        this.gpus = gpus;
    }

    record Health(@JsonProperty("dcgm") @JsonInclude(JsonInclude.Include.ALWAYS) Object dcgm) {
    }

    @Override
    public void routing(HttpRules rules) {
        Routes.on(rules)
                .get("/api/instance/health", (req, res) -> Replies.json(res, new Health(null)))
                .get("/api/instance/info", this::info)
                .get("/metrics/tasks/{id}", (req, res) -> {
                    throw new ApiException(404, "DCGM Exporter is not available");
                })
                .otherMethodsNotAllowed();
    }

    private void info(ServerRequest req, ServerResponse res) {
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
}
