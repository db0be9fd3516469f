package ai.dstack.agent.api;

import com.fasterxml.jackson.annotation.JsonProperty;
import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.HttpService;

/**
 * Liveness and version (docs/shim.md §2.3).
 * <pre>
 * curl localhost:10998/api/healthcheck
 * </pre>
 */
final class HealthService implements HttpService {
    private final Healthcheck body;

    record Healthcheck(@JsonProperty("service") String service, @JsonProperty("version") String version) {
    }

    HealthService(String version) {
        this.body = new Healthcheck("dstack-shim", version);
    }

    @Override
    public void routing(HttpRules rules) {
        Routes.on(rules)
                .get("/api/healthcheck", (req, res) -> Replies.json(res, body))
                .otherMethodsNotAllowed();
    }
}
