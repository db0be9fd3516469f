package ai.dstack.runner.api;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.cfg.CoercionAction;
import com.fasterxml.jackson.databind.cfg.CoercionInputShape;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.type.LogicalType;

/** The API's JSON mapper: strict scalars (no "2" or 1.5 into ints), no trailing data, unknown fields ignored. */
final class Json {
    static final ObjectMapper MAPPER = create();

    private Json() {
    }

    /**
     * A body as Go's encoding/json reads it: UTF-8 only (a BOM or UTF-16 is malformed; Jackson alone
     * would decode them), invalid bytes inside strings become U+FFFD, a key given twice keeps its last
     * value (binding a record straight from the text fails when a key repeats after all were seen).
     */
    static <T> T readLikeGo(byte[] body, Class<T> type) throws java.io.IOException {
        com.fasterxml.jackson.databind.JsonNode tree = MAPPER.readTree(new String(body, java.nio.charset.StandardCharsets.UTF_8));
        return tree == null || tree.isNull() ? null : MAPPER.treeToValue(tree, type);
    }

    private static ObjectMapper create() {
        // Go's decoder: nesting up to 10000 deep, numbers of any length in unknown fields.
        com.fasterxml.jackson.core.JsonFactory factory = com.fasterxml.jackson.core.JsonFactory.builder()
                .streamReadConstraints(com.fasterxml.jackson.core.StreamReadConstraints.builder()
                        .maxNestingDepth(10_000).maxNumberLength(Integer.MAX_VALUE).build())
                .build();
        ObjectMapper mapper = JsonMapper.builder(factory)
                .disable(MapperFeature.ALLOW_COERCION_OF_SCALARS)
                .disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT)
                .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
                .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
                .build();
        mapper.coercionConfigFor(LogicalType.Integer)
                .setCoercion(CoercionInputShape.String, CoercionAction.Fail)
                .setCoercion(CoercionInputShape.Float, CoercionAction.Fail);
        mapper.coercionConfigFor(LogicalType.Textual)
                .setCoercion(CoercionInputShape.Integer, CoercionAction.Fail)
                .setCoercion(CoercionInputShape.Float, CoercionAction.Fail);
        mapper.coercionConfigFor(LogicalType.Boolean)
                .setCoercion(CoercionInputShape.String, CoercionAction.Fail)
                .setCoercion(CoercionInputShape.Integer, CoercionAction.Fail);
        return mapper;
    }
}
