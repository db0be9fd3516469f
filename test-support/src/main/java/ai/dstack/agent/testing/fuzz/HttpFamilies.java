package ai.dstack.agent.testing.fuzz;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Damage below the API's own rules, the same for every HTTP server: framing of the body, the method,
 * the request line, headers and the path. Each method makes one request for one endpoint.
 */
public final class HttpFamilies {
    private HttpFamilies() {
    }

    /** A generated request and its allowed answers; {@code creates} overrides the id the endpoint would create. */
    public record Made(String what, byte[] request, Expect expect, String creates) {
        public Made(String what, byte[] request, Expect expect) {
            this(what, request, expect, null);
        }

        public Made creating(String id) {
            return new Made(what, request, expect, id);
        }
    }

    /** A valid request of case {@code i}: the baseline the oracle must accept. */
    public static Made valid(Endpoint e, int i) {
        return new Made("valid", base(e, i).bytes(), e.valid());
    }

    static Requests base(Endpoint e, int i) {
        Requests r = Requests.of(e.method(), e.path());
        if (e.hasBody()) {
            if (e.contentType() != null) {
                r.header("Content-Type", e.contentType());
            }
            r.body(e.validBody().apply(i));
        }
        return r;
    }

    /** A body shorter than its Content-Length, then EOF. */
    public static Made truncatedBody(SplittableRandom rnd, Endpoint e, int i) {
        byte[] body = e.validBody().apply(i);
        int declared = body.length + (rnd.nextInt(4) == 0 ? rnd.nextInt(1, 1 << 20) : 0);
        int sent = declared == body.length ? rnd.nextInt(body.length) : rnd.nextInt(body.length + 1);
        Requests r = Requests.of(e.method(), e.path()).noContentLength()
                .header("Content-Type", e.contentType()).header("Content-Length", String.valueOf(declared))
                .body(Arrays.copyOf(body, sent));
        return new Made("Content-Length " + declared + ", " + sent + " bytes sent", r.bytes(), Expect.rejectedOrClosed());
    }

    /** A chunked body cut short: inside a chunk, inside a size line, or without the last chunk. */
    public static Made chunkedCut(SplittableRandom rnd, Endpoint e, int i) {
        byte[] body = e.validBody().apply(i);
        byte[] chunked = Requests.chunked(body, 1 + rnd.nextInt(Math.max(1, body.length)), 1 + rnd.nextInt(64));
        // Anything short of the complete "0\r\n\r\n" ending leaves the body unfinished.
        int cut = rnd.nextInt(chunked.length - 4);
        Requests r = Requests.of(e.method(), e.path()).noContentLength()
                .header("Content-Type", e.contentType()).header("Transfer-Encoding", "chunked")
                .body(Arrays.copyOf(chunked, cut));
        return new Made("chunked cut at " + cut + " of " + chunked.length, r.bytes(), Expect.rejectedOrClosed());
    }

    private static final List<String> BAD_CHUNK_SIZES = List.of("zz", "-1", "0x5", "1 1", "ffffffffffffffffffff",
            "", " ", "5;\u0000", "\u0661", "+5", "7fffffffffffffff", "g", "1\u0000");

    /** A chunk size that is not a hex number (or absurdly large). */
    public static Made chunkedBadSize(SplittableRandom rnd, Endpoint e, int i) {
        byte[] body = e.validBody().apply(i);
        String size = BAD_CHUNK_SIZES.get(rnd.nextInt(BAD_CHUNK_SIZES.size()));
        byte[] framed = concat((size + "\r\n").getBytes(StandardCharsets.UTF_8), body, "\r\n0\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
        Requests r = Requests.of(e.method(), e.path()).noContentLength()
                .header("Content-Type", e.contentType()).header("Transfer-Encoding", "chunked").body(framed);
        return new Made("chunk size '" + size + "'", r.bytes(), Expect.rejectedOrClosed());
    }

    private static final List<String> NON_TOKEN_METHODS = List.of("P\u0000ST", "PO\tST", "GE(T", "G\u007fET", "{}", "P\"ST",
            "P/ST", "G@T", "\u00c9T", "P\u00d6ST", "[]", "GET\u0000", "P,OST");
    private static final List<String> UNKNOWN_METHODS = List.of("FOO", "PROPFIND", "BREW", "OPTIONS", "TRACE", "PATCH", "DELETE",
            "PUT", "M-SEARCH", "X");

    /** Non-token, case-variant and unknown methods: never routed as the real one. */
    public static Made method(SplittableRandom rnd, Endpoint e, int i) {
        int kind = rnd.nextInt(3);
        String method;
        if (kind == 0) {
            method = NON_TOKEN_METHODS.get(rnd.nextInt(NON_TOKEN_METHODS.size()));
        } else if (kind == 1) {
            method = caseVariant(rnd, e.method());
        } else {
            method = UNKNOWN_METHODS.get(rnd.nextInt(UNKNOWN_METHODS.size()));
        }
        Requests r = Requests.line(method + " " + e.path() + " HTTP/1.1").header("Host", "127.0.0.1").header("Connection", "close");
        if (e.hasBody()) {
            r.header("Content-Type", e.contentType()).body(e.validBody().apply(i));
        }
        Expect expect = kind == 1 ? Expect.exactly(405, 400) : Expect.rejectedOrClosed();
        return new Made("method '" + method + "'", r.bytes(), expect);
    }

    /** The same letters with the case of some flipped (at least one); as is when there are no letters. */
    static String caseVariant(SplittableRandom rnd, String s) {
        if (s.chars().noneMatch(Character::isLetter)) {
            return s;
        }
        while (true) {
            StringBuilder b = new StringBuilder();
            for (char c : s.toCharArray()) {
                boolean flip = rnd.nextBoolean();
                b.append(!flip ? c : Character.isUpperCase(c) ? Character.toLowerCase(c) : Character.toUpperCase(c));
            }
            if (!b.toString().equals(s)) {
                return b.toString();
            }
        }
    }

    /** Broken request lines: version, spacing, control bytes, escapes, length. */
    public static Made requestLine(SplittableRandom rnd, Endpoint e, int i) {
        String m = e.method();
        String p = e.path();
        String line;
        Expect expect = Expect.rejectedOrClosed();
        switch (rnd.nextInt(14)) {
            case 0 -> line = m + " " + p + " HTTP/1.2";
            case 1 -> line = m + " " + p + " HTTP/2.0";
            case 2 -> line = m + " " + p + " http/1.1";
            case 3 -> line = m + " " + p + " HTTP/1.1 extra";
            case 4 -> line = m + " " + p;
            case 5 -> line = m + "  " + p + " HTTP/1.1";
            case 6 -> line = m + " " + p.replaceFirst("/", "/\u0001") + " HTTP/1.1";
            case 7 -> line = m + " " + p + "%zz HTTP/1.1";
            case 8 -> line = m + " " + p + "/" + "a".repeat(4096 + rnd.nextInt(70_000)) + " HTTP/1.1";
            case 9 -> line = m + " " + p.replaceFirst("/", "/a b") + " HTTP/1.1";
            case 10 -> line = m + " " + p + " HTTP/1.1\u0000";
            case 11 -> line = " " + m + " " + p + " HTTP/1.1";
            case 12 -> line = m + " " + p.replaceFirst("/", "/\u00ff") + " HTTP/1.1";
            default -> {
                // HTTP/1.0 is HTTP (Go serves it); Helidon's deliberate 505 is allowed too. Never to a
                // route whose valid request must not be sent (it would be served).
                if (!e.mayBeValid()) {
                    return null;
                }
                line = m + " " + p + " HTTP/1.0";
                expect = new Expect(e.valid().statuses(), true, true).or(505);
            }
        }
        Requests r = Requests.line(line).header("Host", "127.0.0.1").header("Connection", "close");
        if (e.hasBody()) {
            r.header("Content-Type", e.contentType()).body(e.validBody().apply(i));
        }
        return new Made("request line '" + shorten(line) + "'", r.bytes(), expect);
    }

    /** Broken header sections: syntax, sizes, conflicting or bad framing headers, Host. */
    public static Made headers(SplittableRandom rnd, Endpoint e, int i) {
        byte[] body = e.hasBody() ? e.validBody().apply(i) : new byte[0];
        Requests r = Requests.line(e.method() + " " + e.path() + " HTTP/1.1").noContentLength();
        boolean host = true;
        boolean length = true;
        boolean validInGo = false;
        String what;
        switch (rnd.nextInt(16)) {
            case 0 -> what = addRaw(r, "BadHeader");
            case 1 -> what = addRaw(r, "X-Fuzz : space before colon");
            case 2 -> what = addRaw(r, "X-Fuzz: a\r\n folded");
            case 3 -> what = addRaw(r, "X-Fu\u0000zz: nul in name");
            case 4 -> {
                // Go takes up to 1 MB of headers: valid there, and may be refused here.
                if (!e.mayBeValid()) {
                    return null;
                }
                what = addRaw(r, "X-Fuzz: " + "v".repeat(17_000 + rnd.nextInt(60_000)));
                validInGo = true;
            }
            case 5 -> {
                // Go takes up to 1 MB of headers: this is valid there, and may be refused here.
                if (!e.mayBeValid()) {
                    return null;
                }
                for (int k = 0; k < 2000; k++) {
                    r.header("X-Fuzz-" + k, "x".repeat(20));
                }
                what = "2000 headers";
                validInGo = true;
            }
            case 6 -> {
                r.header("Content-Length", String.valueOf(body.length)).header("Content-Length", String.valueOf(body.length + 1));
                length = false;
                what = "two different Content-Length";
            }
            case 7 -> {
                r.header("Content-Length", String.valueOf(body.length)).header("Transfer-Encoding", "chunked");
                length = false;
                what = "Content-Length and Transfer-Encoding";
            }
            case 8 -> {
                r.header("Transfer-Encoding", rnd.nextBoolean() ? "gzip" : "chunked, identity");
                length = false;
                what = "unsupported Transfer-Encoding";
            }
            case 9 -> {
                String v = List.of("-1", "abc", "\u0661\u0662", "99999999999999999999999", "1e3", "0x10", " ", "+5").get(rnd.nextInt(8));
                r.header("Content-Length", v);
                length = false;
                what = "Content-Length '" + v + "'";
            }
            case 10 -> {
                host = false;
                what = "no Host";
            }
            case 11 -> {
                r.header("Host", "127.0.0.1").header("Host", "other");
                what = "two Host headers";
            }
            case 12 -> what = addRaw(r, ": no name");
            case 13 -> what = addRaw(r, "X-Fuzz: ctl \u0001 byte");
            case 14 -> what = addRaw(r, "X\u00e9: non-ASCII name");
            default -> what = addRaw(r, "X-Fuzz: bare\rCR");
        }
        if (host && !what.equals("two Host headers")) {
            r.header("Host", "127.0.0.1");
        }
        r.header("Connection", "close");
        if (e.contentType() != null) {
            r.header("Content-Type", e.contentType());
        }
        if (length) {
            r.header("Content-Length", String.valueOf(body.length));
        }
        r.body(body);
        return new Made(shorten(what), r.bytes(), validInGo ? new Expect(e.valid().statuses(), true, true) : Expect.rejectedOrClosed());
    }

    private static String addRaw(Requests r, String line) {
        r.rawHeader(line);
        return "header '" + line + "'";
    }

    /** The raw request cut at a sampled byte offset, then EOF. */
    public static Made truncatedRequest(SplittableRandom rnd, Endpoint e, int i) {
        byte[] full = base(e, i).bytes();
        int cut = rnd.nextInt(full.length);
        return new Made("request cut at byte " + cut + " of " + full.length, Arrays.copyOf(full, cut),
                cutExpect(e, full, cut));
    }

    private static Expect cutExpect(Endpoint e, byte[] full, int cut) {
        int head = indexOf(full, "\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1)) + 4;
        if (cut >= head && !e.readsBody()) {
            // The head is complete and the route never reads its body: it answers as to a whole request.
            return new Expect(e.valid().statuses(), true, true);
        }
        return Expect.rejectedOrClosed();
    }

    static int indexOf(byte[] data, byte[] what) {
        outer:
        for (int i = 0; i + what.length <= data.length; i++) {
            for (int k = 0; k < what.length; k++) {
                if (data[i + k] != what[k]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    static byte[] concat(byte[]... parts) {
        int n = 0;
        for (byte[] p : parts) {
            n += p.length;
        }
        byte[] out = new byte[n];
        int at = 0;
        for (byte[] p : parts) {
            System.arraycopy(p, 0, out, at, p.length);
            at += p.length;
        }
        return out;
    }

    static String shorten(String s) {
        String t = s.length() > 80 ? s.substring(0, 80) + "…(" + s.length() + ")" : s;
        StringBuilder b = new StringBuilder();
        for (char c : t.toCharArray()) {
            b.append(c < 0x20 || c == 0x7f ? String.format(Locale.ROOT, "\\x%02x", (int) c) : String.valueOf(c));
        }
        return b.toString();
    }
}
