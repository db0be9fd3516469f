package ai.dstack.agent.testing.fuzz;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** A JSON object kept as raw key and value bytes, so that any of them can be damaged. */
public final class JsonBody {
    private final List<byte[][]> entries = new ArrayList<>();

    public static JsonBody object() {
        return new JsonBody();
    }

    /** Adds {@code "key": raw} (raw is JSON text as is). */
    public JsonBody raw(String key, String rawJson) {
        return rawBytes(quote(key).getBytes(StandardCharsets.UTF_8), rawJson.getBytes(StandardCharsets.UTF_8));
    }

    /** Adds {@code "key": "value"}, the value escaped. */
    public JsonBody str(String key, String value) {
        return raw(key, quote(value));
    }

    /** Adds an entry from raw key bytes (with quotes) and raw value bytes. */
    public JsonBody rawBytes(byte[] key, byte[] value) {
        entries.add(new byte[][] {key, value});
        return this;
    }

    /** Replaces the value of {@code key} (all entries with that key). */
    public JsonBody set(String key, String rawJson) {
        byte[] k = quote(key).getBytes(StandardCharsets.UTF_8);
        for (byte[][] e : entries) {
            if (java.util.Arrays.equals(e[0], k)) {
                e[1] = rawJson.getBytes(StandardCharsets.UTF_8);
            }
        }
        return this;
    }

    public JsonBody setBytes(String key, byte[] raw) {
        byte[] k = quote(key).getBytes(StandardCharsets.UTF_8);
        for (byte[][] e : entries) {
            if (java.util.Arrays.equals(e[0], k)) {
                e[1] = raw;
            }
        }
        return this;
    }

    public JsonBody remove(String key) {
        byte[] k = quote(key).getBytes(StandardCharsets.UTF_8);
        entries.removeIf(e -> java.util.Arrays.equals(e[0], k));
        return this;
    }

    public List<String> keys() {
        return entries.stream().map(e -> new String(e[0], StandardCharsets.UTF_8)).map(k -> k.substring(1, k.length() - 1)).toList();
    }

    public byte[] bytes() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write('{');
        for (int i = 0; i < entries.size(); i++) {
            if (i > 0) {
                out.write(',');
            }
            out.writeBytes(entries.get(i)[0]);
            out.write(':');
            out.writeBytes(entries.get(i)[1]);
        }
        out.write('}');
        return out.toByteArray();
    }

    /** A JSON string literal. */
    public static String quote(String s) {
        StringBuilder b = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                default -> {
                    if (c < 0x20) {
                        b.append(String.format("\\u%04x", (int) c));
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        return b.append('"').toString();
    }
}
