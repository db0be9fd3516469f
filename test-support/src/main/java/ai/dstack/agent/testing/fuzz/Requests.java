package ai.dstack.agent.testing.fuzz;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** Raw HTTP/1.1 requests, byte for byte: any method, target, header or body framing. */
public final class Requests {
    private final String requestLine;
    private final List<String> headers = new ArrayList<>();
    private byte[] body = new byte[0];
    private boolean contentLength = true;

    private Requests(String requestLine) {
        this.requestLine = requestLine;
    }

    /** {@code METHOD TARGET HTTP/1.1} with {@code Host} and {@code Connection: close}. */
    public static Requests of(String method, String target) {
        return line(method + " " + target + " HTTP/1.1").header("Host", "127.0.0.1").header("Connection", "close");
    }

    /** Any request line (sent as ISO-8859-1 bytes: one char, one byte). */
    public static Requests line(String requestLine) {
        return new Requests(requestLine);
    }

    public Requests header(String name, String value) {
        headers.add(name + ": " + value);
        return this;
    }

    /** A raw header line, as is. */
    public Requests rawHeader(String line) {
        headers.add(line);
        return this;
    }

    /** Removes headers by name (any case). */
    public Requests without(String name) {
        headers.removeIf(h -> h.regionMatches(true, 0, name + ":", 0, name.length() + 1));
        return this;
    }

    /** The body, with a matching Content-Length unless {@link #noContentLength()}. */
    public Requests body(byte[] bytes) {
        body = bytes;
        return this;
    }

    public Requests noContentLength() {
        contentLength = false;
        return this;
    }

    public byte[] bytes() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(requestLine.getBytes(StandardCharsets.ISO_8859_1));
        out.writeBytes(CRLF);
        for (String h : headers) {
            out.writeBytes(h.getBytes(StandardCharsets.ISO_8859_1));
            out.writeBytes(CRLF);
        }
        if (contentLength && (body.length > 0 || requestLine.startsWith("POST"))) {
            out.writeBytes(("Content-Length: " + body.length).getBytes(StandardCharsets.ISO_8859_1));
            out.writeBytes(CRLF);
        }
        out.writeBytes(CRLF);
        out.writeBytes(body);
        return out.toByteArray();
    }

    /** {@code body} in chunks of the given sizes (the rest in one), ended by the last chunk. */
    public static byte[] chunked(byte[] body, int... sizes) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int at = 0;
        for (int size : sizes) {
            int n = Math.min(size, body.length - at);
            if (n <= 0) {
                break;
            }
            chunk(out, body, at, n);
            at += n;
        }
        if (at < body.length) {
            chunk(out, body, at, body.length - at);
        }
        out.writeBytes("0\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
        return out.toByteArray();
    }

    private static void chunk(ByteArrayOutputStream out, byte[] body, int at, int n) {
        out.writeBytes((Integer.toHexString(n) + "\r\n").getBytes(StandardCharsets.ISO_8859_1));
        out.write(body, at, n);
        out.writeBytes(CRLF);
    }

    private static final byte[] CRLF = {'\r', '\n'};
}
