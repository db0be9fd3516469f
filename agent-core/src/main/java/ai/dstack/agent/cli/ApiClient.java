package ai.dstack.agent.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/**
 * A small JSON-over-HTTP client for the shim and runner APIs, with the dstack server's 9 s request
 * timeout. Works on JSON trees: the CLI reads a few fields and must not break on extra ones.
 */
final class ApiClient {
    static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration TIMEOUT = Duration.ofSeconds(9);

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(3)).build();
    private final String base;
    private final String what;

    /**
     * @param base base URL, e.g. {@code http://localhost:10998}
     * @param what what answers there, for error messages ("the shim", "the runner")
     */
    ApiClient(String base, String what) {
        this.base = base;
        this.what = what;
    }

    String base() {
        return base;
    }

    JsonNode get(String path) throws ApiException {
        return json(send(HttpRequest.newBuilder(uri(path)).GET()));
    }

    JsonNode postJson(String path, Object body) throws ApiException {
        try {
            return json(send(HttpRequest.newBuilder(uri(path))
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofByteArray(JSON.writeValueAsBytes(body)))));
        } catch (IOException e) {
            throw new ApiException(what + ": cannot encode request: " + e.getMessage());
        }
    }

    String postBytes(String path, byte[] body, String contentType) throws ApiException {
        var request = HttpRequest.newBuilder(uri(path)).POST(HttpRequest.BodyPublishers.ofByteArray(body));
        if (contentType != null) {
            request.header("Content-Type", contentType);
        }
        return send(request.timeout(Duration.ofSeconds(60)));
    }

    /** True when something answers 200 at the path. */
    boolean answers(String path) {
        try {
            get(path);
            return true;
        } catch (ApiException e) {
            return false;
        }
    }

    private URI uri(String path) {
        return URI.create(base + path);
    }

    private String send(HttpRequest.Builder request) throws ApiException {
        try {
            HttpResponse<String> response = http.send(request.timeout(TIMEOUT).build(), HttpResponse.BodyHandlers.ofString());
            if (response.statusCode() / 100 != 2) {
                throw new ApiException(what + " answered " + response.statusCode() + ": " + response.body().strip(),
                        response.statusCode());
            }
            return response.body();
        } catch (ConnectException e) {
            throw new ApiException(what + " is not reachable at " + base, 0);
        } catch (IOException e) {
            throw new ApiException(what + " at " + base + ": " + e.getMessage(), 0);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ApiException("interrupted", 0);
        }
    }

    private JsonNode json(String body) throws ApiException {
        try {
            return body.isBlank() ? JSON.nullNode() : JSON.readTree(body);
        } catch (IOException e) {
            throw new ApiException(what + " sent invalid JSON: " + e.getMessage(), 0);
        }
    }

    /** A call failed; the message says what to do where it can. */
    static final class ApiException extends Exception {
        private final int status;

        ApiException(String message) {
            this(message, 0);
        }

        ApiException(String message, int status) {
            super(message);
            this.status = status;
        }

        /** HTTP status, 0 when no response came. */
        int status() {
            return status;
        }
    }
}
