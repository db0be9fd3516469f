package ai.dstack.runner.api;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import java.io.IOException;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Exact-path routes, listed the way Helidon's {@code HttpRules} lists them: a path answers only
 * the methods given for it ({@code 405} with {@code Allow} otherwise), an unknown path {@code 404},
 * a handler failure {@code 500} with an empty line: never a stack trace or a dropped connection. A
 * request whose body breaks off is a 400; malformed heads never get here ({@link StrictHttpFront},
 * docs/api-errors.md).
 */
final class Routes implements HttpHandler {
    /** Handles one call. */
    interface Handler {
        void handle(Call call) throws Exception;
    }

    private final Map<String, Map<String, Handler>> byPath = new HashMap<>();

    /** GET (and HEAD, answered without a body). */
    Routes get(String path, Handler handler) {
        return add(path, "GET", handler).add(path, "HEAD", handler);
    }

    Routes post(String path, Handler handler) {
        return add(path, "POST", handler);
    }

    private Routes add(String path, String method, Handler handler) {
        byPath.computeIfAbsent(path, p -> new LinkedHashMap<>()).put(method, handler);
        return this;
    }

    @Override
    public void handle(HttpExchange exchange) throws IOException {
        Call call = new Call(exchange);
        try {
            Map<String, Handler> methods = byPath.get(call.path());
            Handler handler = methods == null ? null : methods.get(call.method());
            if (methods == null) {
                call.text(404, "Not Found");
            } else if (handler == null) {
                exchange.getResponseHeaders().set("Allow", String.join(", ", methods.keySet()));
                call.text(405, "Method Not Allowed");
            } else {
                handler.handle(call);
            }
        } catch (Exception e) {
            if (call.answered()) {
                // half an answer must not look whole: the server drops the connection on a throw
                throw e instanceof IOException io ? io : new IOException(e);
            }
            if (e instanceof Call.BadRequest || e instanceof Call.BrokenBody) {
                call.text(400, e.getMessage());
            } else {
                call.text(500, "");
            }
        }
        exchange.close();
    }
}
