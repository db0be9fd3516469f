package ai.dstack.agent.testing.fuzz;

import ai.dstack.agent.testing.fuzz.HttpFamilies.Made;
import java.nio.ByteBuffer;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.IntFunction;

/**
 * Damage inside JSON bodies, judged as Go's {@code encoding/json} plus the contract's checks would:
 * what Go rejects is a 400, what it accepts (unknown fields, nulls, invalid UTF-8 inside strings,
 * duplicate keys, any nesting up to 10000) is accepted; where our validation is stricter than Go's
 * and the contract allows it, either answer passes. Each method returns null where it does not apply
 * to the route (e.g. a valid body for a route that must never get one).
 */
public final class JsonFamilies {
    private JsonFamilies() {
    }

    /** The families both fuzzers draw from this class, by name (traversal needs the route's places). */
    public static final List<String> NAMES = List.of("json-truncated", "json-syntax", "json-types", "numbers", "nesting",
            "huge", "duplicate-keys", "encodings", "unknown-and-null");

    /** Case {@code i} of the named family (one of {@link #NAMES}) for route {@code r}. */
    public static Made of(String family, SplittableRandom rnd, Route r, int i) {
        return switch (family) {
            case "json-truncated" -> truncated(rnd, r, i);
            case "json-syntax" -> syntax(rnd, r, i);
            case "json-types" -> types(rnd, r, i);
            case "numbers" -> numbers(rnd, r, i);
            case "nesting" -> nesting(rnd, r, i);
            case "huge" -> huge(rnd, r, i);
            case "duplicate-keys" -> duplicates(rnd, r, i);
            case "encodings" -> encodings(rnd, r, i);
            case "unknown-and-null" -> unknownAndNull(rnd, r, i);
            default -> throw new IllegalArgumentException("not a JSON family: " + family);
        };
    }

    /** The JSON type of a known field. */
    public enum Kind { STRING, INT, LONG, UINT, FLOAT, BOOL, STRINGS, OBJECTS, OBJECT }

    /**
     * A known field.
     *
     * @param free     free text Go accepts as is (invalid UTF-8 and all) and we do not check
     * @param required an empty or missing value is refused
     */
    public record Field(String name, Kind kind, boolean free, boolean required) {
    }

    /** A JSON route: the endpoint, a valid body per case, and its known fields. */
    public record Route(Endpoint endpoint, IntFunction<JsonBody> body, List<Field> fields, boolean nullIsEmpty) {
        /** A route where a {@code null} body means "all defaults" (Go's decoder). */
        public Route(Endpoint endpoint, IntFunction<JsonBody> body, List<Field> fields) {
            this(endpoint, body, fields, true);
        }

        Expect valid() {
            return endpoint.valid();
        }

        byte[] send(int i, byte[] body) {
            return Requests.of(endpoint.method(), endpoint.path()).header("Content-Type", "application/json").body(body).bytes();
        }

        Made made(int i, String what, byte[] body, Expect expect) {
            if (!endpoint.mayBeValid() && !java.util.Collections.disjoint(expect.statuses(), endpoint.valid().statuses())) {
                return null;
            }
            return new Made(what, send(i, body), expect);
        }

        Field pick(SplittableRandom rnd, Kind... kinds) {
            List<Field> f = fields.stream().filter(x -> kinds.length == 0 || Arrays.asList(kinds).contains(x.kind())).toList();
            return f.isEmpty() ? null : f.get(rnd.nextInt(f.size()));
        }
    }

    static final Expect BAD = Expect.exactly(400);

    /** The valid body cut at a sampled byte offset (with a matching Content-Length). */
    public static Made truncated(SplittableRandom rnd, Route r, int i) {
        byte[] body = r.body().apply(i).bytes();
        int cut = rnd.nextInt(body.length);
        return r.made(i, "JSON cut at " + cut + " of " + body.length, Arrays.copyOf(body, cut), BAD);
    }

    /** Syntax Go's decoder refuses. */
    public static Made syntax(SplittableRandom rnd, Route r, int i) {
        String json = new String(r.body().apply(i).bytes(), StandardCharsets.UTF_8);
        String inner = json.substring(1, json.length() - 1);
        String bad;
        String what;
        switch (rnd.nextInt(22)) {
            case 0 -> { bad = json.substring(0, json.length() - 1) + ",}"; what = "trailing comma"; }
            case 1 -> { bad = json.replaceFirst(":", " "); what = "missing colon"; }
            case 2 -> { bad = "{'x':1," + inner + "}"; what = "single quotes"; }
            case 3 -> { bad = "/*c*/" + json; what = "comment"; }
            case 4 -> { bad = "{x:1," + inner + "}"; what = "unquoted key"; }
            case 5 -> { bad = json + " x"; what = "trailing garbage"; }
            case 6 -> { bad = json + json; what = "two values"; }
            case 7 -> { bad = "{\"x_fuzz\":" + List.of("NaN", "Infinity", "-Infinity", "undefined", "nul", "tru").get(rnd.nextInt(6)) + "," + inner + "}"; what = "bad literal"; }
            case 8 -> { bad = "{\"x_fuzz\":" + List.of("01", "+1", ".5", "1.", "0x10", "1e", "-", "1_000", "1e+", "--1", "\u0661").get(rnd.nextInt(11)) + "," + inner + "}"; what = "bad number"; }
            case 9 -> { bad = "{\"x_fuzz\":\"abc," + inner + "}"; what = "unterminated string"; }
            case 10 -> { bad = "{\"x_fuzz\":\"\\x41\"," + inner + "}"; what = "bad escape"; }
            case 11 -> { bad = "{\"x_fuzz\":\"\\u12\"," + inner + "}"; what = "short \\u escape"; }
            case 12 -> { bad = "{\"x_fuzz\":\"a" + (char) List.of(0, 1, 10, 13, 31).get(rnd.nextInt(5)).intValue() + "b\"," + inner + "}"; what = "raw control char in string"; }
            case 13 -> { bad = "[" + json + "]"; what = "top-level array"; }
            case 14 -> { bad = List.of("\"x\"", "1", "true", "false", "[]", "-0", "\"\"").get(rnd.nextInt(7)); what = "top-level scalar " + bad; }
            case 15 -> { bad = "{,}"; what = "lone comma"; }
            case 16 -> { bad = json.substring(0, json.length() - 1) + "]"; what = "mismatched bracket"; }
            case 17 -> { bad = "{\"x_fuzz\"}"; what = "key without value"; }
            case 18 -> { bad = "{\"x_fuzz\":1 \"y\":2}"; what = "missing comma"; }
            case 19 -> { bad = "{" + inner + "}}"; what = "extra brace"; }
            case 20 -> { bad = "{\"x_fuzz\":[1,]," + inner + "}"; what = "trailing comma in array"; }
            default -> { bad = "\u00a0" + json; what = "non-JSON whitespace"; }
        }
        return r.made(i, what, bad.getBytes(StandardCharsets.UTF_8), BAD);
    }

    /** A known field with a value of the wrong JSON type. */
    public static Made types(SplittableRandom rnd, Route r, int i) {
        Field f = r.pick(rnd);
        if (f == null) {
            return null;
        }
        List<String> wrong = switch (f.kind()) {
            case STRING -> List.of("1", "true", "[]", "{}", "[\"a\"]", "1.5");
            case INT, LONG, UINT -> List.of("\"1\"", "1.5", "true", "[]", "{}", "\"\"", "1e2");
            case FLOAT -> List.of("\"1\"", "true", "[]", "{}", "\"NaN\"");
            case BOOL -> List.of("\"true\"", "1", "0", "[]", "{}", "\"\"");
            case STRINGS -> List.of("{}", "\"x\"", "1", "[1]", "[true]", "[[\"a\"]]", "[{}]");
            case OBJECTS -> List.of("{}", "\"x\"", "1", "[1]", "[\"a\"]", "[[]]");
            case OBJECT -> List.of("[]", "\"x\"", "1", "true", "[{}]");
        };
        String v = wrong.get(rnd.nextInt(wrong.size()));
        return r.made(i, f.name() + " = " + v, r.body().apply(i).remove(f.name()).raw(f.name(), v).bytes(), BAD);
    }

    /** Numbers at and beyond the limits of their fields; numbers in unknown fields are any JSON number. */
    public static Made numbers(SplittableRandom rnd, Route r, int i) {
        Field f = r.pick(rnd, Kind.INT, Kind.LONG, Kind.UINT, Kind.FLOAT);
        Expect valid = r.valid();
        Expect either = valid.orRejected();
        String v;
        Expect e;
        if (f == null || rnd.nextInt(4) == 0) {
            String[] any = {"1" + "0".repeat(5000), "1e999999", "-0.0e-0", "123456789012345678901234567890.5", "-1e-999999", "0"};
            v = any[rnd.nextInt(any.length)];
            return r.made(i, "unknown field x_num = " + HttpFamilies.shorten(v), r.body().apply(i).raw("x_num", v).bytes(), valid);
        }
        Object[][] table = switch (f.kind()) {
            case FLOAT -> new Object[][] {{"1e309", BAD}, {"-1e309", BAD}, {"1E400", BAD}, {"0.5", valid}, {"-0.0", valid},
                    {"4.9e-324", valid}, {"1e-400", either}, {"2", valid}, {"123456789012345678901234567890", either},
                    {"\u0661", BAD}, {"1\u0660", BAD}};
            case INT -> new Object[][] {{"2147483648", BAD}, {"-2147483649", BAD}, {"1.0", BAD}, {"1e2", BAD}, {"-0", valid},
                    {"0", valid}, {"00", BAD}, {"\u0661", BAD}, {"99999999999999999999999", BAD}};
            case LONG -> new Object[][] {{"9223372036854775808", BAD}, {"9223372036854775807", either}, {"-1", either},
                    {"1.5", BAD}, {"0", valid}, {"1e3", BAD}, {"\u0662\u0663", BAD}};
            case UINT -> new Object[][] {{"-1", BAD}, {"18446744073709551615", either}, {"18446744073709551616", BAD},
                    {"1.0", BAD}, {"0", valid}, {"5", valid}, {"\u0661", BAD}};
            default -> throw new IllegalStateException();
        };
        Object[] row = table[rnd.nextInt(table.length)];
        v = (String) row[0];
        e = (Expect) row[1];
        return r.made(i, f.name() + " = " + v, r.body().apply(i).remove(f.name()).raw(f.name(), v).bytes(), e);
    }

    private static final int[] DEPTHS_OK = {1, 10, 200, 999, 1001, 5000, 9000};
    private static final int[] DEPTHS_BAD = {10_050, 20_000, 100_000, 400_000};

    /** Nesting: Go takes any value up to 10000 levels deep and refuses deeper ones. */
    public static Made nesting(SplittableRandom rnd, Route r, int i) {
        boolean ok = rnd.nextBoolean();
        int depth = ok ? DEPTHS_OK[rnd.nextInt(DEPTHS_OK.length)] : DEPTHS_BAD[rnd.nextInt(DEPTHS_BAD.length)];
        boolean arrays = rnd.nextBoolean() || depth > 150_000; // objects take 6 bytes a level: stay under 1 MiB
        String open = arrays ? "[" : "{\"a\":";
        String close = arrays ? "]" : "}";
        String v = open.repeat(depth - 1) + (arrays ? "[]" : "{}") + close.repeat(depth - 1);
        Field list = r.pick(rnd, Kind.STRINGS, Kind.OBJECTS);
        if (!ok || list == null || rnd.nextBoolean()) {
            return r.made(i, "unknown field nested " + depth + (arrays ? " arrays" : " objects"),
                    r.body().apply(i).raw("x_nest", v).bytes(), ok ? r.valid() : BAD);
        }
        // Inside a known list the nesting is a wrong type at the first level.
        return r.made(i, list.name() + " nested " + depth, r.body().apply(i).remove(list.name()).raw(list.name(), "[" + v + "]").bytes(), BAD);
    }

    /** Long strings (and lists): accepted where Go takes them, 413 over 1 MiB. */
    public static Made huge(SplittableRandom rnd, Route r, int i) {
        int kind = rnd.nextInt(4);
        if (kind == 0) {
            int n = (1 << 20) + rnd.nextInt(1 << 18);
            return r.made(i, "body over 1 MiB", r.body().apply(i).str("x_big", "a".repeat(n)).bytes(), Expect.exactly(413));
        }
        int n = 100_000 + rnd.nextInt(800_000);
        Field f = r.pick(rnd, Kind.STRING);
        if (kind == 1 || f == null) {
            return r.made(i, "unknown field of " + n + " chars", r.body().apply(i).str("x_big", "b".repeat(n)).bytes(), r.valid());
        }
        if (kind == 2) {
            Field l = r.pick(rnd, Kind.STRINGS);
            if (l != null) {
                String many = "[" + String.join(",", java.util.Collections.nCopies(2000, "\"ssh-ed25519 AAAA fuzz\"")) + "]";
                return r.made(i, l.name() + " with 2000 entries", r.body().apply(i).remove(l.name()).raw(l.name(), many).bytes(), r.valid());
            }
        }
        Expect e = f.free() ? r.valid() : f.required() ? r.valid().orRejected() : r.valid().orRejected();
        return r.made(i, f.name() + " of " + n + " chars", r.body().apply(i).remove(f.name()).str(f.name(), "c".repeat(n)).bytes(), e);
    }

    /** Duplicate and case-variant keys: Go keeps the last value and matches keys without case. */
    public static Made duplicates(SplittableRandom rnd, Route r, int i) {
        JsonBody body = r.body().apply(i);
        List<String> keys = body.keys();
        if (keys.isEmpty()) {
            return r.made(i, "duplicate unknown key", "{\"x_dup\":1,\"x_dup\":\"two\"}".getBytes(StandardCharsets.UTF_8), r.valid());
        }
        String key = keys.get(rnd.nextInt(keys.size()));
        String full = new String(body.bytes(), StandardCharsets.UTF_8);
        String entry = entryOf(full, key);
        switch (rnd.nextInt(4)) {
            case 0 -> {
                return r.made(i, "\"" + key + "\" twice, same value", insert(full, entry), r.valid());
            }
            case 1 -> {
                String variant = HttpFamilies.caseVariant(rnd, key);
                return r.made(i, "\"" + variant + "\" beside \"" + key + "\", same value",
                        insert(full, entry.replaceFirst("\"" + java.util.regex.Pattern.quote(key) + "\"", "\"" + variant + "\"")), r.valid());
            }
            case 2 -> {
                // A case variant with a value of another type: Go applies it (400), we ignore it (200).
                String variant = HttpFamilies.caseVariant(rnd, key);
                return r.made(i, "\"" + variant + "\": [[]] beside \"" + key + "\"", insert(full, "\"" + variant + "\":[[]]"), r.valid().orRejected());
            }
            default -> {
                // Only the case variant: Go matches it, we do not (the contract lets us not).
                String variant = HttpFamilies.caseVariant(rnd, key);
                String renamed = full.replace("\"" + key + "\":", "\"" + variant + "\":");
                return r.made(i, "\"" + variant + "\" instead of \"" + key + "\"", renamed.getBytes(StandardCharsets.UTF_8), r.valid().orRejected());
            }
        }
    }

    private static String entryOf(String json, String key) {
        int at = json.indexOf("\"" + key + "\":");
        int depth = 0;
        boolean str = false;
        int k = at + key.length() + 3;
        for (; k < json.length(); k++) {
            char c = json.charAt(k);
            if (str) {
                if (c == '\\') {
                    k++;
                } else if (c == '"') {
                    str = false;
                }
            } else if (c == '"') {
                str = true;
            } else if (c == '[' || c == '{') {
                depth++;
            } else if (c == ']' || c == '}') {
                if (depth == 0) {
                    break;
                }
                depth--;
            } else if (c == ',' && depth == 0) {
                break;
            }
        }
        return json.substring(at, k);
    }

    private static byte[] insert(String json, String entry) {
        return (json.substring(0, json.length() - 1) + "," + entry + "}").getBytes(StandardCharsets.UTF_8);
    }

    private static final byte[][] BAD_UTF8 = {{(byte) 0xff}, {(byte) 0xfe, (byte) 0xff}, {(byte) 0xc0, (byte) 0xaf},
            {(byte) 0xed, (byte) 0xa0, (byte) 0x80}, {(byte) 0xf4, (byte) 0x90, (byte) 0x80, (byte) 0x80}, {(byte) 0xe2, (byte) 0x82},
            {(byte) 0x80}, {(byte) 0xf8, (byte) 0x88, (byte) 0x80, (byte) 0x80, (byte) 0x80}};

    /** Encodings: invalid UTF-8 inside strings is accepted (as U+FFFD); anything but UTF-8 is refused. */
    public static Made encodings(SplittableRandom rnd, Route r, int i) {
        byte[] bad = BAD_UTF8[rnd.nextInt(BAD_UTF8.length)];
        byte[] valid = r.body().apply(i).bytes();
        switch (rnd.nextInt(9)) {
            case 0 -> {
                byte[] v = HttpFamilies.concat("\"a".getBytes(StandardCharsets.UTF_8), bad, "b\"".getBytes(StandardCharsets.UTF_8));
                return r.made(i, "invalid UTF-8 " + hex(bad) + " in an unknown field",
                        r.body().apply(i).rawBytes("\"x_utf\"".getBytes(StandardCharsets.UTF_8), v).bytes(), r.valid());
            }
            case 1 -> {
                Field f = r.fields().stream().filter(Field::free).findFirst().orElse(null);
                if (f == null) {
                    return null;
                }
                byte[] v = HttpFamilies.concat("\"a".getBytes(StandardCharsets.UTF_8), bad, "b\"".getBytes(StandardCharsets.UTF_8));
                return r.made(i, "invalid UTF-8 " + hex(bad) + " in " + f.name(), r.body().apply(i).setBytes(f.name(), v).bytes(), r.valid());
            }
            case 2 -> {
                String esc = List.of("\\ud800", "\\udc00\\ud800", "\\u0000", "\\uffff", "\\ud83d\\ude00").get(rnd.nextInt(5));
                return r.made(i, "escape " + esc + " in an unknown field", r.body().apply(i).raw("x_esc", "\"" + esc + "\"").bytes(), r.valid());
            }
            case 3 -> {
                byte[] b = HttpFamilies.concat("{".getBytes(StandardCharsets.UTF_8), bad, Arrays.copyOfRange(valid, 1, valid.length));
                return r.made(i, "invalid UTF-8 " + hex(bad) + " between tokens", b, BAD);
            }
            case 4 -> {
                return r.made(i, "UTF-8 BOM", HttpFamilies.concat(new byte[] {(byte) 0xef, (byte) 0xbb, (byte) 0xbf}, valid), BAD);
            }
            case 5, 6 -> {
                Charset cs = List.of(StandardCharsets.UTF_16LE, StandardCharsets.UTF_16BE, StandardCharsets.UTF_16,
                        Charset.forName("UTF-32LE"), Charset.forName("UTF-32BE")).get(rnd.nextInt(5));
                ByteBuffer enc = cs.encode(new String(valid, StandardCharsets.UTF_8));
                byte[] b = new byte[enc.remaining()];
                enc.get(b);
                return r.made(i, "body in " + cs.name(), b, BAD);
            }
            case 7 -> {
                byte[] v = "\"a\u0000b\"".getBytes(StandardCharsets.UTF_8);
                return r.made(i, "raw NUL in a string", r.body().apply(i).rawBytes("\"x_nul\"".getBytes(StandardCharsets.UTF_8), v).bytes(), BAD);
            }
            default -> {
                byte[] k = HttpFamilies.concat("\"x_".getBytes(StandardCharsets.UTF_8), bad, "\"".getBytes(StandardCharsets.UTF_8));
                return r.made(i, "invalid UTF-8 " + hex(bad) + " in an unknown key", r.body().apply(i).rawBytes(k, "1".getBytes(StandardCharsets.UTF_8)).bytes(), r.valid());
            }
        }
    }

    private static final List<String> UNKNOWN_VALUES = List.of("1", "\"s\"", "null", "true", "[]", "{}", "[1,\"a\",null,{}]",
            "{\"optional\":true,\"x\":[{}]}", "-0.5e-3");
    private static final List<String> UNKNOWN_KEYS = List.of("optional", "__proto__", "", "x y", "constructor", "id ", " id", "\u00e9",
            "\\u0069d", "k".repeat(1000));

    /** Unknown fields (ignored) and nulls (absent) are accepted; a missing required field is refused. */
    public static Made unknownAndNull(SplittableRandom rnd, Route r, int i) {
        switch (rnd.nextInt(6)) {
            case 0, 1 -> {
                JsonBody b = r.body().apply(i);
                int n = 1 + rnd.nextInt(5);
                StringBuilder what = new StringBuilder("unknown fields");
                for (int k = 0; k < n; k++) {
                    String key = UNKNOWN_KEYS.get(rnd.nextInt(UNKNOWN_KEYS.size()));
                    if (key.equals("\\u0069d")) {
                        continue; // an escaped "id" is the key id itself
                    }
                    String v = UNKNOWN_VALUES.get(rnd.nextInt(UNKNOWN_VALUES.size()));
                    b.raw(key, v);
                    what.append(' ').append(HttpFamilies.shorten(key.length() > 20 ? key.substring(0, 20) + "…" : key));
                }
                return r.made(i, what.toString(), b.bytes(), r.valid());
            }
            case 2 -> {
                Field f = r.pick(rnd);
                if (f == null) {
                    return null;
                }
                return r.made(i, f.name() + " = null", r.body().apply(i).set(f.name(), "null").bytes(),
                        f.required() ? BAD : r.valid());
            }
            case 3 -> {
                Field f = r.pick(rnd);
                if (f == null) {
                    return null;
                }
                return r.made(i, "no " + f.name(), r.body().apply(i).remove(f.name()).bytes(), f.required() ? BAD : r.valid());
            }
            case 4 -> {
                boolean required = r.fields().stream().anyMatch(Field::required);
                String body = List.of("null", "{}", " null ", "\n{}\n").get(rnd.nextInt(4));
                boolean isNull = body.strip().equals("null");
                return r.made(i, "body '" + body.strip() + "'", body.getBytes(StandardCharsets.UTF_8),
                        required || (isNull && !r.nullIsEmpty()) ? BAD : r.valid());
            }
            default -> {
                return r.made(i, "blank body", List.of("", " ", "\r\n", "\t").get(rnd.nextInt(4)).getBytes(StandardCharsets.UTF_8), BAD);
            }
        }
    }

    private static final List<String> TRAVERSALS = List.of("../fuzz-escape", "..", ".", "/fuzz-escape", "a/../../fuzz-escape",
            "fuzz\u0000escape", "..\\fuzz-escape", "%2e%2e%2ffuzz-escape", "../../../../../../tmp/fuzz-escape", "~/fuzz-escape",
            "fuzz-escape/..", " ", "-rf", "$(touch /tmp/fuzz-escape)", "`touch /tmp/fuzz-escape`", "a\nb");

    /** Path-like values in the fields that name files or containers: refused. */
    public static Made traversal(SplittableRandom rnd, Route r, int i,
                                 java.util.Map<String, java.util.function.BiFunction<JsonBody, String, JsonBody>> places) {
        if (places.isEmpty()) {
            return null;
        }
        String v = TRAVERSALS.get(rnd.nextInt(TRAVERSALS.size()));
        List<String> fields = places.keySet().stream().sorted().toList();
        String field = fields.get(rnd.nextInt(fields.size()));
        JsonBody b = places.get(field).apply(r.body().apply(i), v);
        // A path separator, NUL or a dot name must be refused; other odd names Go takes as they are.
        boolean pathLike = v.contains("/") || v.contains("\u0000") || v.equals(".") || v.equals("..");
        Made m = r.made(i, field + " = " + HttpFamilies.shorten(v), b.bytes(), pathLike ? Expect.rejected() : r.valid().orRejected());
        return m != null && field.equals("id") ? m.creating(v) : m;
    }

    static String hex(byte[] b) {
        StringBuilder s = new StringBuilder();
        for (byte x : b) {
            s.append(String.format("%02x", x & 0xff));
        }
        return s.toString();
    }
}
