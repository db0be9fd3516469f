package ai.dstack.agent.api;

import ai.dstack.agent.json.StrictJson;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.io.JsonEOFException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import io.helidon.http.HeaderNames;
import io.helidon.webserver.http.ServerRequest;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * Strict JSON request bodies (docs/shim.md §2.1, §8): media type {@code application/json} when a
 * Content-Type is given (415), at most 1 MiB (413), not empty, one well-formed value of the right
 * types and nothing after it (400, with the Go shim's texts). {@code null} means "all defaults".
 */
final class JsonBody {
    static final int LIMIT = 1 << 20;

    private JsonBody() {
    }

    static <T> T read(ServerRequest req, Class<T> type) throws ApiException {
        var contentType = req.headers().value(HeaderNames.CONTENT_TYPE);
        if (contentType.isPresent()) {
            String media = contentType.get().split(";", 2)[0].strip().toLowerCase(Locale.ROOT);
            if (!media.equals("application/json")) {
                throw new ApiException(415, "Content-Type header is not application/json");
            }
        }
        return parse(Bodies.read(req, LIMIT), type);
    }

    static <T> T parse(byte[] body, Class<T> type) throws ApiException {
        // UTF-8 only, and bytes that are not UTF-8 become U+FFFD as in Go: accepted inside strings,
        // refused anywhere else (Jackson alone would guess UTF-16/32 from the bytes and skip a BOM).
        String text = new String(body, StandardCharsets.UTF_8);
        if (text.isBlank()) {
            throw ApiException.badRequest("Request body must not be empty");
        }
        try {
            // Through a tree first: a key given twice keeps its last value, as in Go (binding a record
            // straight from the text fails on a key repeated after all of the record's keys were seen).
            JsonNode tree = StrictJson.mapper().readTree(text);
            if (tree == null || tree.isNull()) {
                tree = StrictJson.mapper().createObjectNode();
            }
            return StrictJson.mapper().treeToValue(tree, type);
        } catch (MismatchedInputException e) {
            if (e.getMessage().startsWith("Trailing token")) {
                throw ApiException.badRequest("Request body must only contain a single JSON object");
            }
            throw invalidValue(fieldOf(e), e.getLocation());
        } catch (JsonEOFException e) {
            throw ApiException.badRequest("Request body contains badly-formed JSON");
        } catch (JsonParseException e) {
            if (e.getMessage().contains("end-of-input")) {
                throw ApiException.badRequest("Request body contains badly-formed JSON");
            }
            throw ApiException.badRequest("Request body contains badly-formed JSON" + at(e.getLocation()));
        } catch (JsonMappingException e) {
            // A value the record's constructor refused, e.g. an unknown enum constant.
            throw invalidValue(fieldOf(e), e.getLocation());
        } catch (JsonProcessingException e) {
            throw ApiException.badRequest("Request body contains badly-formed JSON");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static ApiException invalidValue(String field, JsonLocation location) {
        return ApiException.badRequest("Request body contains an invalid value for the \"" + field + "\" field" + at(location));
    }

    private static String fieldOf(JsonMappingException e) {
        StringBuilder name = new StringBuilder();
        for (JsonMappingException.Reference r : e.getPath()) {
            if (r.getFieldName() != null) {
                name.append(name.isEmpty() ? "" : ".").append(r.getFieldName());
            }
        }
        return name.toString();
    }

    private static String at(JsonLocation location) {
        if (location == null) {
            return "";
        }
        long offset = location.getByteOffset() >= 0 ? location.getByteOffset() : location.getCharOffset();
        return offset < 0 ? "" : " (at position " + offset + ")";
    }
}
