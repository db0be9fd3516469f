package ai.dstack.agent.api;

import io.helidon.webserver.http.ServerRequest;
import java.io.IOException;
import java.io.InputStream;

/**
 * Request bodies read whole with a size cap. A body that cannot be read to its end (shorter than its
 * Content-Length, a chunked encoding cut short or with a bad chunk size) is the client's fault: 400,
 * never a 500 (docs/api-errors.md).
 */
final class Bodies {
    static final String UNREADABLE = "Request body could not be read to its end";

    private Bodies() {
    }

    /** At most {@code limit} bytes (413 beyond), or 400 when the body breaks off. */
    static byte[] read(ServerRequest req, int limit) throws ApiException {
        byte[] body;
        try (InputStream in = req.content().inputStream()) {
            body = in.readNBytes(limit + 1);
        } catch (IOException | RuntimeException e) {
            // Helidon reports a cut body as an I/O error, an InsufficientDataAvailableException or a RequestException.
            throw ApiException.badRequest(UNREADABLE);
        }
        if (body.length > limit) {
            throw new ApiException(413, "Request body must not be larger than 1MB");
        }
        return body;
    }
}
