package ai.dstack.runner.api;

import com.sun.net.httpserver.HttpExchange;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;

/**
 * One HTTP exchange as the handlers see it: the request's method, headers, query and body, and
 * the ways to answer. Every request body is read here ({@link #body()}, {@link #bodyAtMost}), so
 * protocol-level checks of bodies live in one place.
 */
final class Call {
    private static final String TEXT = "text/plain; charset=utf-8";

    /** A request the handlers cannot read: answered {@code 400} with the message. */
    static final class BadRequest extends Exception {
        BadRequest(String message) {
            super(message);
        }
    }

    /** A body over the caller's limit. */
    static final class TooLarge extends Exception {
        TooLarge() {
            super(null, null, false, false);
        }
    }

    private final HttpExchange exchange;
    private boolean answered;

    Call(HttpExchange exchange) {
        this.exchange = exchange;
    }

    HttpExchange exchange() {
        return exchange;
    }

    String method() {
        return exchange.getRequestMethod();
    }

    String path() {
        return exchange.getRequestURI().getPath();
    }

    /** The first value of a request header, or null. */
    String header(String name) {
        return exchange.getRequestHeaders().getFirst(name);
    }

    /** The decoded value of a query parameter ("" when given without a value), or null when absent. */
    String query(String name) throws BadRequest {
        String raw = exchange.getRequestURI().getRawQuery();
        if (raw == null) {
            return null;
        }
        for (String pair : raw.split("&")) {
            int eq = pair.indexOf('=');
            String key = eq < 0 ? pair : pair.substring(0, eq);
            if (decode(key).equals(name)) {
                return eq < 0 ? "" : decode(pair.substring(eq + 1));
            }
        }
        return null;
    }

    private static String decode(String s) throws BadRequest {
        try {
            return URLDecoder.decode(s, StandardCharsets.UTF_8); // '+' is a space, as in forms
        } catch (IllegalArgumentException e) {
            throw new BadRequest("Bad Request");
        }
    }

    /** The request body could not be read to its end (cut short, a broken chunked encoding): a 400. */
    static final class BrokenBody extends IOException {
        BrokenBody(IOException cause) {
            super("Request body could not be read to its end", cause);
        }
    }

    /** The request body as a stream (uploads go to disk through it); read failures are {@link BrokenBody}. */
    InputStream body() {
        InputStream raw = exchange.getRequestBody();
        return new java.io.FilterInputStream(raw) {
            @Override
            public int read() throws IOException {
                try {
                    return super.read();
                } catch (BrokenBody e) {
                    throw e;
                } catch (IOException e) {
                    throw new BrokenBody(e);
                }
            }

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                try {
                    return super.read(b, off, len);
                } catch (BrokenBody e) {
                    throw e;
                } catch (IOException e) {
                    throw new BrokenBody(e);
                }
            }
        };
    }

    /** The whole request body; {@link TooLarge} when it has more than {@code max} bytes. */
    byte[] bodyAtMost(long max) throws IOException, TooLarge {
        try (InputStream in = body()) {
            byte[] bytes = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, max + 1));
            if (bytes.length > max) {
                throw new TooLarge();
            }
            return bytes;
        }
    }

    boolean answered() {
        return answered;
    }

    /** A one-line text answer (the message plus a newline). */
    void text(int status, String message) throws IOException {
        bytes(status, TEXT, (message + "\n").getBytes(StandardCharsets.UTF_8));
    }

    void bytes(int status, String contentType, byte[] body) throws IOException {
        answered = true;
        exchange.getResponseHeaders().set("Content-Type", contentType);
        if (method().equals("HEAD")) {
            exchange.getResponseHeaders().set("Content-Length", Integer.toString(body.length));
            exchange.sendResponseHeaders(status, -1);
            return;
        }
        exchange.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
        if (body.length > 0) {
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        }
    }

    /** A 200 whose body is written as it is produced (chunked); the caller closes the stream. */
    OutputStream stream(String contentType) throws IOException {
        answered = true;
        exchange.getResponseHeaders().set("Content-Type", contentType);
        if (method().equals("HEAD")) {
            exchange.sendResponseHeaders(200, -1);
            return OutputStream.nullOutputStream();
        }
        exchange.sendResponseHeaders(200, 0);
        return exchange.getResponseBody();
    }

    /** Marks the exchange as taken over (e.g. by a websocket upgrade). */
    void takenOver() {
        answered = true;
    }
}
