package ai.dstack.agent.api;

import io.helidon.http.HeaderNames;
import io.helidon.http.Method;
import io.helidon.http.PathMatchers;
import io.helidon.webserver.http.Handler;
import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Route registration with the Go shim's HTTP manners: GET routes also answer HEAD, a known path
 * with another method gets 405 and {@code Allow}, and every handler's {@link ApiException} becomes
 * a plain-text error (anything unexpected an empty 500, logged, never a stack trace on the wire).
 */
final class Routes {
    private static final Logger LOG = Logger.getLogger(Routes.class.getName());
    private final HttpRules rules;
    private final Map<String, Set<String>> allowed = new LinkedHashMap<>();

    /** A handler that may refuse the request with an {@link ApiException}. */
    @FunctionalInterface
    interface ApiHandler {
        void handle(ServerRequest req, ServerResponse res) throws ApiException;
    }

    private Routes(HttpRules rules) {
        this.rules = rules;
    }

    static Routes on(HttpRules rules) {
        return new Routes(rules);
    }

    Routes get(String path, ApiHandler handler) {
        allow(path, "GET", "HEAD");
        rules.route(Method.predicate(Method.GET, Method.HEAD), PathMatchers.create(path), guard(handler));
        return this;
    }

    Routes post(String path, ApiHandler handler) {
        allow(path, "POST");
        rules.route(Method.POST, PathMatchers.create(path), guard(handler));
        return this;
    }

    /** Ends the list: other methods on the listed paths get 405. */
    void otherMethodsNotAllowed() {
        allowed.forEach((path, methods) -> rules.any(path, (req, res) -> {
            res.header(HeaderNames.ALLOW, String.join(", ", methods));
            Replies.text(res, 405, "Method Not Allowed");
        }));
    }

    private void allow(String path, String... methods) {
        Set<String> set = allowed.computeIfAbsent(path, p -> new LinkedHashSet<>());
        set.addAll(java.util.List.of(methods));
    }

    private static Handler guard(ApiHandler handler) {
        return (req, res) -> {
            try {
                handler.handle(req, res);
            } catch (ApiException e) {
                Replies.text(res, e.status(), e.getMessage());
            } catch (RuntimeException e) {
                LOG.log(Level.SEVERE, req.prologue().method().text() + " " + req.path().path() + " failed", e);
                if (!res.isSent()) {
                    Replies.text(res, 500, "");
                }
            }
        };
    }
}
