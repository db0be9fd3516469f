package ai.dstack.agent.api;

import io.helidon.http.DirectHandler;
import io.helidon.http.DirectHandler.EventType;
import io.helidon.http.HeaderNames;
import io.helidon.http.HeaderValues;
import io.helidon.http.Status;
import io.helidon.webserver.ConnectionContext;
import io.helidon.webserver.http.DirectHandlers;
import io.helidon.webserver.http.Filter;
import io.helidon.webserver.http.FilterChain;
import io.helidon.webserver.http.RoutingRequest;
import io.helidon.webserver.http.RoutingResponse;
import io.helidon.common.buffers.DataReader;
import java.lang.reflect.Field;
import java.nio.charset.StandardCharsets;
import java.util.logging.Logger;

/**
 * Malformed HTTP below the routes (docs/api-errors.md): what Helidon refuses while reading a request
 * gets a 4xx with a one-line plain-text message and the connection closed, never an empty reply or a
 * {@code 500} (a method with a NUL in it made Helidon 4.5.0 answer 500); request methods are
 * case-sensitive as in Go ({@code post} is not {@code POST}: 405), which Helidon 4.5.0's parser does
 * not do by itself (it upper-cases the method it reads); a header line without a name is a 400.
 */
final class ProtocolErrors {
    private ProtocolErrors() {
    }

    /** Direct handlers for every event Helidon answers without routing. */
    static DirectHandlers directHandlers() {
        DirectHandlers.Builder b = DirectHandlers.builder();
        for (EventType type : EventType.values()) {
            b.addHandler(type, ProtocolErrors::reply);
        }
        return b.build();
    }

    /** The filter that refuses what Helidon lets through: case variants of methods, nameless headers (register it first). */
    static Filter requestChecks() {
        return new RequestChecks();
    }

    private static DirectHandler.TransportResponse reply(DirectHandler.TransportRequest request, EventType type, Status status,
                                                         io.helidon.http.ServerResponseHeaders headers, String message) {
        Status answer = status;
        if (type == EventType.INTERNAL_ERROR && (request == null || request.method() == null || request.method().isEmpty())) {
            // Thrown while the request line was parsed (e.g. a method with a NUL in it): the request is bad.
            answer = Status.BAD_REQUEST_400;
        }
        String text = switch (answer.code()) {
            case 400 -> "malformed HTTP request";
            case 405 -> "Method Not Allowed";
            case 413 -> "Request body must not be larger than 1MB";
            case 414 -> "request line too long";
            case 431 -> "request headers too large";
            case 505 -> "HTTP version not supported";
            default -> answer.code() >= 500 ? "" : answer.reasonPhrase();
        };
        DirectHandler.TransportResponse.Builder reply = DirectHandler.TransportResponse.builder();
        if (headers != null) {
            reply.headers(headers);
        }
        return reply.status(answer)
                .header(HeaderValues.create(HeaderNames.CONTENT_TYPE, Replies.TEXT))
                .keepAlive(false)
                .entity((text + "\n").getBytes(StandardCharsets.UTF_8))
                .build();
    }

    /**
     * Compares the method as sent with the one Helidon parsed (and upper-cased): {@code post} on a POST
     * route is 405 as in Go. Helidon 4.5.0 keeps no raw method, but when routing starts, the request's
     * head is still in the connection's read buffer just before the read position (private fields of
     * its {@code DataReader}). Where the request line cannot be seen there (split across reads),
     * nothing is judged; {@code MalformedRequestsIT#methodsAreCaseSensitive} notices if a Helidon upgrade moves
     * those fields.
     */
    static final class RequestChecks implements Filter {
        private static final Logger LOG = Logger.getLogger(RequestChecks.class.getName());
        private static final Field CTX;
        private static final Field HEAD;
        private static final Field BYTES;
        private static final Field POSITION;

        static {
            Field[] f = new Field[4];
            try {
                f[0] = Class.forName("io.helidon.webserver.http1.Http1ServerRequest").getDeclaredField("ctx");
                f[1] = DataReader.class.getDeclaredField("head");
                f[2] = f[1].getType().getDeclaredField("bytes");
                f[3] = f[1].getType().getDeclaredField("position");
                for (Field field : f) {
                    field.setAccessible(true);
                }
            } catch (ReflectiveOperationException | RuntimeException e) {
                LOG.warning("cannot check the case of request methods with this Helidon: " + e);
                f = new Field[4];
            }
            CTX = f[0];
            HEAD = f[1];
            BYTES = f[2];
            POSITION = f[3];
        }

        @Override
        public void filter(FilterChain chain, RoutingRequest req, RoutingResponse res) {
            for (var header : req.headers()) {
                if (header.name().isEmpty()) {
                    // ": value" is no header line (Go: malformed MIME header line); Helidon takes it as a nameless header.
                    res.header(HeaderNames.CONNECTION, "close");
                    Replies.text(res, 400, "malformed HTTP request");
                    return;
                }
            }
            String parsed = req.prologue().method().text();
            String sent = sentMethod(req);
            if (sent != null && !sent.equals(parsed) && sent.equalsIgnoreCase(parsed)) {
                res.header(HeaderNames.CONNECTION, "close");
                Replies.text(res, 405, "Method Not Allowed");
                return;
            }
            chain.proceed();
        }

        /** The first token of the request line as sent, or null where it cannot be seen. */
        private static String sentMethod(RoutingRequest req) {
            if (CTX == null || !CTX.getDeclaringClass().isInstance(req)) {
                return null;
            }
            try {
                DataReader reader = ((ConnectionContext) CTX.get(req)).dataReader();
                Object node = HEAD.get(reader);
                if (node == null) {
                    return null;
                }
                byte[] bytes = (byte[]) BYTES.get(node);
                int end = Math.min((int) POSITION.get(node), bytes.length);
                // Walk back over the header lines (name, then ':') to the request line (method, then ' ').
                int lineEnd = end;
                while (lineEnd > 0) {
                    int lineStart = lineEnd - 1;
                    while (lineStart > 0 && bytes[lineStart - 1] != '\n') {
                        lineStart--;
                    }
                    for (int i = lineStart; i < lineEnd; i++) {
                        if (bytes[i] == ':') {
                            break;
                        }
                        if (bytes[i] == ' ') {
                            return i > lineStart ? new String(bytes, lineStart, i - lineStart, StandardCharsets.ISO_8859_1) : null;
                        }
                    }
                    lineEnd = lineStart;
                }
                return null;
            } catch (ReflectiveOperationException | RuntimeException e) {
                return null;
            }
        }
    }
}
