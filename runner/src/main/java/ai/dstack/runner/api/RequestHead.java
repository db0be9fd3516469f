package ai.dstack.runner.api;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;

/**
 * One HTTP/1.x request head, read and checked by the rules of Go's {@code net/http} and
 * {@code net/textproto} (what dstack's Go runner serves with), then written back in canonical form
 * for the server behind {@link StrictHttpFront}. The rules and the answers are listed in
 * docs/api-errors.md ("Runner").
 *
 * @param method    the method (a token, case kept)
 * @param target    the request target, what java.net.URI refuses percent-encoded
 * @param version   {@code HTTP/1.0} or {@code HTTP/1.1}
 * @param headers   the other header fields in order ({@code name}, {@code value} without OWS); framing
 *                  fields and a {@code Upgrade} that is not passed on are not among them
 * @param length    the body's length, or -1 for a chunked body
 * @param websocket whether this is a valid WebSocket upgrade of {@code /logs_ws}: the connection
 *                  carries WebSocket frames after it
 */
record RequestHead(String method, String target, String version, List<String[]> headers, long length, boolean websocket) {
    /** A head Go refuses: answered with {@code status} and the reason, then the connection closes. */
    static final class Rejected extends Exception {
        final int status;

        Rejected(int status, String reason) {
            super(reason, null, false, false);
            this.status = status;
        }

        Rejected(String reason) {
            this(400, reason);
        }
    }

    /** The path that takes WebSocket upgrades (docs/runner.md §6.7). */
    private static final String WEBSOCKET_PATH = "/logs_ws";

    /**
     * Reads one head. Null at EOF before its first byte (the client is done); {@link EOFException} at
     * EOF inside it (nothing is answered, as Go does); {@link Rejected} for anything Go refuses, and
     * 431 past {@code maxBytes} (Go's {@code DefaultMaxHeaderBytes} is 1 MB).
     */
    static RequestHead read(InputStream in, int maxBytes) throws IOException, Rejected {
        Lines lines = new Lines(in, maxBytes, true);
        String requestLine = lines.next();
        if (requestLine == null) {
            return null;
        }
        int sp1 = requestLine.indexOf(' ');
        int sp2 = sp1 < 0 ? -1 : requestLine.indexOf(' ', sp1 + 1);
        if (sp1 < 0 || sp2 < 0) {
            throw new Rejected("malformed request line");
        }
        String method = requestLine.substring(0, sp1);
        String target = requestLine.substring(sp1 + 1, sp2);
        String version = requestLine.substring(sp2 + 1);
        if (!isToken(method)) {
            throw new Rejected("invalid method");
        }
        if (!version.equals("HTTP/1.1") && !version.equals("HTTP/1.0")) {
            // Go answers 505 for HTTP/2.0 and serves HTTP/1.2; we take 1.0 and 1.1 only, never a 5xx
            throw new Rejected("unsupported HTTP version");
        }
        String path = checkTarget(target);

        List<String[]> headers = new ArrayList<>();
        List<String> hosts = new ArrayList<>();
        String contentLength = null;
        String transferEncoding = null;
        String upgrade = null;
        String wsKey = null;
        String wsVersion = null;
        String connection = "";
        for (String line = lines.next(); !line.isEmpty(); line = lines.next()) {
            String[] field = field(line);
            String name = field[0].toLowerCase(Locale.ROOT);
            String value = field[1];
            switch (name) {
                case "host" -> hosts.add(value);
                case "content-length" -> {
                    if (!value.matches("[0-9]{1,19}") || value.length() == 19 && value.compareTo("9223372036854775807") > 0) {
                        throw new Rejected("invalid Content-Length"); // Go: strconv.ParseUint(v, 10, 63)
                    }
                    if (contentLength != null && !contentLength.equals(value)) {
                        throw new Rejected("multiple Content-Length headers");
                    }
                    contentLength = value;
                    continue;
                }
                case "transfer-encoding" -> {
                    // Go: exactly one field, "chunked" (its 501 for others is a 400 here: never a 5xx)
                    if (transferEncoding != null || !value.equalsIgnoreCase("chunked")) {
                        throw new Rejected("unsupported Transfer-Encoding");
                    }
                    transferEncoding = value;
                    continue;
                }
                case "upgrade" -> {
                    upgrade = upgrade == null ? value : upgrade + "," + value;
                    continue;
                }
                case "connection" -> connection += "," + value;
                case "sec-websocket-key" -> wsKey = wsKey == null ? value : "";
                case "sec-websocket-version" -> wsVersion = wsVersion == null ? value : "";
                default -> {
                }
            }
            headers.add(field);
        }
        if (hosts.size() > 1) {
            throw new Rejected("too many Host headers");
        }
        if (hosts.isEmpty() && version.equals("HTTP/1.1")) {
            throw new Rejected("missing required Host header");
        }
        if (!hosts.isEmpty() && !hosts.getFirst().chars().allMatch(RequestHead::hostChar)) {
            throw new Rejected("malformed Host header");
        }
        if (contentLength != null && transferEncoding != null) {
            // Go drops Content-Length; RFC 9112 section 6.3 allows refusing, and both at once is how requests are smuggled
            throw new Rejected("both Content-Length and Transfer-Encoding");
        }
        boolean websocket = false;
        if (upgrade != null && hasToken(upgrade, "websocket") && WEBSOCKET_PATH.equals(path) && method.equals("GET")
                && hasToken(connection, "upgrade")) {
            // gorilla/websocket's checks (Go's runner), before the server behind us sees the handshake
            if (!"13".equals(wsVersion)) {
                throw new Rejected("websocket: unsupported version: 13 not found in 'Sec-Websocket-Version' header");
            }
            if (!validKey(wsKey)) {
                throw new Rejected("websocket: 'Sec-WebSocket-Key' header must be Base64 encoded value of 16-byte in length");
            }
            // robaho's handshake wants exactly these two (Go takes token lists)
            headers.removeIf(h -> h[0].equalsIgnoreCase("Connection"));
            headers.add(new String[] {"Connection", "Upgrade"});
            headers.add(new String[] {"Upgrade", "websocket"});
            websocket = true;
        }
        // Any other Upgrade is dropped: only the one above switches the connection to raw bytes.
        long length = transferEncoding != null ? -1 : contentLength != null ? Long.parseLong(contentLength) : 0;
        return new RequestHead(method, target.equals("*") ? target : canonicalTarget(target), version, headers, length, websocket);
    }

    /** The head as the server behind gets it: one framing header, always ({@code Content-Length: 0} for none). */
    byte[] canonical() {
        StringBuilder b = new StringBuilder(256).append(method).append(' ').append(target).append(' ').append(version).append("\r\n");
        for (String[] h : headers) {
            b.append(h[0]).append(": ").append(h[1]).append("\r\n");
        }
        b.append(length < 0 ? "Transfer-Encoding: chunked" : "Content-Length: " + length).append("\r\n\r\n");
        return b.toString().getBytes(StandardCharsets.ISO_8859_1);
    }

    /** {@code name ":" OWS value OWS}, as textproto reads it (no space before the colon, no fold). */
    private static String[] field(String line) throws Rejected {
        if (line.charAt(0) == ' ' || line.charAt(0) == '\t') {
            throw new Rejected("obsolete line folding"); // Go unfolds; RFC 9112 section 5.2 lets a server refuse
        }
        int colon = line.indexOf(':');
        if (colon < 0) {
            throw new Rejected("malformed header line");
        }
        String name = line.substring(0, colon);
        if (!isToken(name)) {
            throw new Rejected("invalid header name");
        }
        String value = strip(line.substring(colon + 1));
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if ((c < 0x20 && c != '\t') || c == 0x7f) {
                throw new Rejected("invalid header value"); // Go: httpguts.ValidHeaderFieldValue
            }
        }
        return new String[] {name, value};
    }

    /**
     * Go's url.ParseRequestURI: {@code *}, an origin form or an absolute form; no control bytes; valid
     * {@code %} escapes in the path. Returns the decoded path ("" when not an origin form).
     */
    private static String checkTarget(String target) throws Rejected {
        if (target.isEmpty()) {
            throw new Rejected("malformed request line");
        }
        for (int i = 0; i < target.length(); i++) {
            char c = target.charAt(i);
            if (c < 0x20 || c == 0x7f) {
                throw new Rejected("invalid request target");
            }
        }
        if (target.equals("*")) {
            return "";
        }
        if (!target.startsWith("/") && !target.matches("(?s)[A-Za-z][A-Za-z0-9+.-]*:.*")) {
            throw new Rejected("invalid request target");
        }
        int q = target.indexOf('?');
        String path = q < 0 ? target : target.substring(0, q);
        ByteArrayOutputStream decoded = new ByteArrayOutputStream(path.length());
        for (int i = 0; i < path.length(); i++) {
            char c = path.charAt(i);
            if (c == '%') {
                if (i + 2 >= path.length() || !hex(path.charAt(i + 1)) || !hex(path.charAt(i + 2))) {
                    throw new Rejected("invalid URL escape in the request target");
                }
                decoded.write(Character.digit(path.charAt(i + 1), 16) << 4 | Character.digit(path.charAt(i + 2), 16));
                i += 2;
            } else {
                decoded.write(c);
            }
        }
        return target.startsWith("/") ? decoded.toString(StandardCharsets.ISO_8859_1) : "";
    }

    /**
     * The target with every byte that java.net.URI (the server behind) refuses but Go takes raw
     * percent-encoded (high bytes, {@code | { } ^ ` " < > \ [ ] #}, a {@code %} without two hex digits in
     * the query): the same path and query, where robaho would answer an HTML 400.
     */
    private static String canonicalTarget(String target) {
        StringBuilder b = new StringBuilder(target.length() + 16);
        for (int i = 0; i < target.length(); i++) {
            char c = target.charAt(i);
            boolean escape = c == '%' && i + 2 < target.length() && hex(target.charAt(i + 1)) && hex(target.charAt(i + 2));
            if (escape || (c < 0x7f && (Character.isLetterOrDigit(c) || "-._~!$&'()*+,;=:@/?".indexOf(c) >= 0))) {
                b.append(c);
            } else {
                b.append(String.format(Locale.ROOT, "%%%02X", (int) c));
            }
        }
        return b.toString();
    }

    private static boolean hex(char c) {
        return c < 0x80 && Character.digit(c, 16) >= 0;
    }

    private static boolean validKey(String key) {
        try {
            return key != null && Base64.getDecoder().decode(key).length == 16;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    /** Whether a comma-separated list holds {@code token} (any case). */
    private static boolean hasToken(String list, String token) {
        for (String part : list.split(",")) {
            if (strip(part).equalsIgnoreCase(token)) {
                return true;
            }
        }
        return false;
    }

    static String strip(String s) {
        int from = 0;
        int to = s.length();
        while (from < to && (s.charAt(from) == ' ' || s.charAt(from) == '\t')) {
            from++;
        }
        while (to > from && (s.charAt(to - 1) == ' ' || s.charAt(to - 1) == '\t')) {
            to--;
        }
        return s.substring(from, to);
    }

    /** RFC 9110 token: one or more tchars. */
    static boolean isToken(String s) {
        if (s.isEmpty()) {
            return false;
        }
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c <= 0x20 || c >= 0x7f || "\"(),/:;<=>?@[\\]{}".indexOf(c) >= 0) {
                return false;
            }
        }
        return true;
    }

    /** Go's httpguts.ValidHostHeader bytes. */
    private static boolean hostChar(int c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || "!$%&'()*+,-.:;=[]_~".indexOf(c) >= 0;
    }

    /**
     * Lines of a head (or of a chunked body's size lines and trailers), as textproto reads them: ended
     * by LF with an optional CR before it, one byte one char; a CR anywhere else stays in the line.
     */
    static final class Lines {
        private final InputStream in;
        private int budget;
        private boolean first;

        /** {@code eofFirst}: whether EOF before the first line is an end (null) rather than a cut. */
        Lines(InputStream in, int maxBytes, boolean eofFirst) {
            this.in = in;
            this.budget = maxBytes;
            this.first = eofFirst;
        }

        /** The next line; null at EOF before the first one where that is an end, else EOFException. */
        String next() throws IOException, Rejected {
            StringBuilder b = new StringBuilder(64);
            int c;
            while ((c = in.read()) >= 0 && c != '\n') {
                if (--budget < 0) {
                    throw new Rejected(431, "Request Header Fields Too Large");
                }
                b.append((char) c);
            }
            if (c < 0) {
                if (b.isEmpty() && first) {
                    return null;
                }
                throw new EOFException("head cut short");
            }
            first = false;
            int n = b.length();
            return n > 0 && b.charAt(n - 1) == '\r' ? b.substring(0, n - 1) : b.toString();
        }
    }
}
