package ai.dstack.agent.api;

import ai.dstack.agent.json.StrictJson;
import com.fasterxml.jackson.core.JsonProcessingException;
import io.helidon.http.HeaderNames;
import io.helidon.http.Status;
import io.helidon.webserver.http.ServerResponse;
import java.nio.charset.StandardCharsets;

/** The API's reply shapes (docs/shim.md §2.1): compact JSON + newline, or plain text + newline. */
final class Replies {
    static final String JSON = "application/json";
    static final String TEXT = "text/plain; charset=utf-8";

    private Replies() {
    }

    static void json(ServerResponse res, Object body) {
        byte[] bytes;
        try {
            bytes = (StrictJson.mapper().writeValueAsString(body) + "\n").getBytes(StandardCharsets.UTF_8);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
        res.status(Status.OK_200).header(HeaderNames.CONTENT_TYPE, JSON).send(bytes);
    }

    /** 200 with the body {@code \n}: success without a body (remove, install, shutdown). */
    static void ok(ServerResponse res) {
        text(res, 200, "");
    }

    static void text(ServerResponse res, int status, String message) {
        res.status(Status.create(status)).header(HeaderNames.CONTENT_TYPE, TEXT)
                .send((oneLine(message) + "\n").getBytes(StandardCharsets.UTF_8));
    }

    /** Messages quote what the client sent: keep them one short line (control characters escaped, long input cut). */
    static String oneLine(String message) {
        StringBuilder b = new StringBuilder(Math.min(message.length(), MAX_MESSAGE + 16));
        for (int i = 0; i < message.length(); i++) {
            if (b.length() >= MAX_MESSAGE) {
                b.append("… (").append(message.length()).append(" characters)");
                break;
            }
            char c = message.charAt(i);
            if (c < 0x20 || c == 0x7f || c == 0x85 || c == 0x2028 || c == 0x2029) {
                b.append(String.format("\\u%04x", (int) c));
            } else {
                b.append(c);
            }
        }
        return b.toString();
    }

    private static final int MAX_MESSAGE = 512;
}
