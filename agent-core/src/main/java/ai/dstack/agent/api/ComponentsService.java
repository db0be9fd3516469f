package ai.dstack.agent.api;

import ai.dstack.agent.component.ComponentInfo;
import ai.dstack.agent.component.Components;
import com.fasterxml.jackson.annotation.JsonProperty;
import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.HttpService;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import java.util.List;

/**
 * The runner and shim components (docs/shim.md §2.7, §2.8, §7).
 * <pre>
 * curl localhost:10998/api/components
 * curl -d '{"name":"dstack-runner","url":"https://…/dstack-runner"}' localhost:10998/api/components/install
 * </pre>
 */
final class ComponentsService implements HttpService {
    private final Components components;

    ComponentsService(Components components) {
        this.components = components;
    }

    record ComponentList(@JsonProperty("components") List<ComponentInfo> components) {
    }

    record InstallRequest(@JsonProperty("name") String name, @JsonProperty("url") String url) {
    }

    @Override
    public void routing(HttpRules rules) {
        Routes.on(rules)
                .get("/api/components", (req, res) -> Replies.json(res, new ComponentList(components.list())))
                .post("/api/components/install", this::install)
                .otherMethodsNotAllowed();
    }

    private void install(ServerRequest req, ServerResponse res) throws ApiException {
        InstallRequest body = JsonBody.read(req, InstallRequest.class);
        try {
            components.install(body.name(), body.url());
        } catch (Components.InstallRefused e) {
            throw new ApiException(e.conflict() ? 409 : 400, e.getMessage());
        }
        Replies.ok(res);
    }
}
