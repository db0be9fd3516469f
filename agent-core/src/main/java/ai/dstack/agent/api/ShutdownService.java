package ai.dstack.agent.api;

import com.fasterxml.jackson.annotation.JsonProperty;
import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.HttpService;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import java.util.function.Consumer;

/**
 * Shutdown on request (docs/shim.md §2.4): the 200 is written first, then the shim stops — graceful
 * (in-flight requests and installs get the grace) or forced. Running containers are left alone.
 * <pre>
 * curl -d '{"force":false}' localhost:10998/api/shutdown
 * </pre>
 */
final class ShutdownService implements HttpService {
    private final Consumer<Boolean> shutdown;

    /** {@code shutdown} gets {@code force}. */
    ShutdownService(Consumer<Boolean> shutdown) {
        this.shutdown = shutdown;
    }

    record ShutdownRequest(@JsonProperty("force") Boolean force) {
    }

    @Override
    public void routing(HttpRules rules) {
        Routes.on(rules).post("/api/shutdown", this::shutdown).otherMethodsNotAllowed();
    }

    private void shutdown(ServerRequest req, ServerResponse res) throws ApiException {
        boolean force = Boolean.TRUE.equals(JsonBody.read(req, ShutdownRequest.class).force());
        res.whenSent(() -> shutdown.accept(force));
        Replies.ok(res);
    }
}
