package ai.dstack.runner.api;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * A streaming {@code multipart/form-data} reader: part content is handed over as a stream, so an
 * upload of any size goes to disk without being held in memory.
 */
final class Multipart {
    /**
     * Invalid request: always a client mistake, 400 (docs/api-errors.md: Go's 500s for an unparsable
     * Content-Type or a malformed body are quirks, not contract).
     */
    static final class BadForm extends Exception {
        final int status;

        BadForm(int status, String message) {
            super(message);
            this.status = status;
        }
    }

    /** The body ended inside a part: the part is incomplete and must not be kept. */
    static final class Truncated extends IOException {
        Truncated() {
            super("malformed multipart body: truncated");
        }
    }

    /** A parsed {@code Content-Type} or {@code Content-Disposition} value. */
    record HeaderValue(String value, Map<String, String> params) {
        static HeaderValue parse(String raw) throws BadForm {
            String[] parts = raw.split(";");
            String value = parts[0].trim().toLowerCase(Locale.ROOT);
            Map<String, String> params = new LinkedHashMap<>();
            for (int i = 1; i < parts.length; i++) {
                String p = parts[i].trim();
                if (p.isEmpty()) {
                    continue;
                }
                int eq = p.indexOf('=');
                if (eq <= 0) {
                    throw new BadForm(400, "malformed header parameter: " + p);
                }
                String v = p.substring(eq + 1).trim();
                if (v.length() >= 2 && v.startsWith("\"") && v.endsWith("\"")) {
                    v = v.substring(1, v.length() - 1).replace("\\\"", "\"").replace("\\\\", "\\");
                }
                params.put(p.substring(0, eq).trim().toLowerCase(Locale.ROOT), v);
            }
            return new HeaderValue(value, params);
        }
    }

    /** One part's metadata; {@code content} is valid until the next call to {@link #next()}. */
    record Part(String name, String filename, InputStream content) {
    }

    private final InputStream in;
    private final byte[] delimiter;
    private final byte[] buf = new byte[64 * 1024 + 512];
    private int start;
    private int end;
    private boolean eof;
    private long bodyRead;
    private boolean finished;
    private PartStream current;

    private Multipart(InputStream in, String boundary) {
        this.in = in;
        this.delimiter = ("\r\n--" + boundary).getBytes(StandardCharsets.ISO_8859_1);
        // a virtual CRLF lets the first delimiter match like every later one
        buf[0] = '\r';
        buf[1] = '\n';
        end = 2;
    }

    /** Validates the {@code Content-Type} (docs/runner.md §2.4) and opens the body. */
    static Multipart open(String contentType, InputStream body) throws BadForm {
        if (contentType == null) {
            throw new BadForm(400, "missing content-type header");
        }
        HeaderValue type = HeaderValue.parse(contentType);
        if (type.value().isEmpty() || !type.value().contains("/")) {
            // unparsable
            throw new BadForm(400, "unparsable content-type " + contentType);
        }
        if (!type.value().equals("multipart/form-data")) {
            throw new BadForm(400, "multipart/form-data expected, got " + type.value());
        }
        String boundary = type.params().get("boundary");
        if (boundary == null || boundary.isEmpty()) {
            throw new BadForm(400, "missing boundary");
        }
        return new Multipart(body, boundary);
    }

    /** The next part, or null after the closing delimiter. */
    Part next() throws IOException, BadForm {
        if (current != null) {
            current.transferTo(OutputStream.nullOutputStream());
            current = null;
        } else if (!skipToDelimiter()) {
            throw bodyRead == 0 ? new BadForm(400, "empty form") : new BadForm(400, "malformed multipart body: no boundary");
        }
        if (finished) {
            return null;
        }
        // after a delimiter: "--" closes the body, otherwise the rest of the line is padding
        if (!fill(2)) {
            throw new BadForm(400, "malformed multipart body: truncated");
        }
        if (buf[start] == '-' && buf[start + 1] == '-') {
            finished = true;
            return null;
        }
        readLine();
        String disposition = null;
        String line;
        while (!(line = readLine()).isEmpty()) {
            int colon = line.indexOf(':');
            if (colon > 0 && line.substring(0, colon).trim().equalsIgnoreCase("content-disposition")) {
                disposition = line.substring(colon + 1).trim();
            }
        }
        String name = null;
        String filename = null;
        if (disposition != null) {
            HeaderValue d = HeaderValue.parse(disposition);
            name = d.params().get("name");
            filename = d.params().get("filename");
        }
        current = new PartStream();
        return new Part(name == null ? "" : name, filename == null ? "" : filename, current);
    }

    /** Skips a preamble up to and including the first delimiter; false if there is none. */
    private boolean skipToDelimiter() throws IOException {
        PartStream preamble = new PartStream();
        preamble.preamble = true;
        preamble.transferTo(OutputStream.nullOutputStream());
        return preamble.sawDelimiter;
    }

    private boolean fill(int needed) throws IOException {
        while (end - start < needed && !eof) {
            if (start > 0) {
                System.arraycopy(buf, start, buf, 0, end - start);
                end -= start;
                start = 0;
            }
            int n = in.read(buf, end, buf.length - end);
            if (n < 0) {
                eof = true;
            } else {
                end += n;
                bodyRead += n;
            }
        }
        return end - start >= needed;
    }

    private String readLine() throws IOException, BadForm {
        // UTF-8: a file name is bytes in Go, and a UTF-8 one must stay the id the submission names
        java.io.ByteArrayOutputStream line = new java.io.ByteArrayOutputStream();
        while (true) {
            if (!fill(1)) {
                throw new BadForm(400, "malformed multipart body: truncated headers");
            }
            byte b = buf[start++];
            if (b == '\n') {
                byte[] bytes = line.toByteArray();
                int len = bytes.length > 0 && bytes[bytes.length - 1] == '\r' ? bytes.length - 1 : bytes.length;
                return new String(bytes, 0, len, StandardCharsets.UTF_8);
            }
            if (line.size() > 16 * 1024) {
                throw new BadForm(400, "malformed multipart body: header line too long");
            }
            line.write(b);
        }
    }

    /** Content up to the next delimiter (which it consumes). */
    private final class PartStream extends InputStream {
        boolean done;
        boolean sawDelimiter;
        /** The preamble may end with the body; a part must end with a delimiter. */
        boolean preamble;

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] out, int off, int len) throws IOException {
            if (done) {
                return -1;
            }
            if (len == 0) {
                return 0;
            }
            fill(delimiter.length + 1);
            int avail = end - start;
            int match = indexOf(start, end);
            if (match == start) {
                start += delimiter.length;
                if (!preamble && !fill(2)) {
                    // the delimiter is not followed by "--" or a line: the body was cut right after it
                    throw new Truncated();
                }
                done = true;
                sawDelimiter = true;
                return -1;
            }
            int safe;
            if (match >= 0) {
                safe = match - start;
            } else if (eof) {
                if (!preamble) {
                    // No delimiter after the content: a cut body (e.g. a chunked upload cut short), not a whole file.
                    throw new Truncated();
                }
                if (avail == 0) {
                    done = true;
                    return -1;
                }
                safe = avail;
            } else {
                safe = avail - (delimiter.length - 1);
            }
            int n = Math.min(len, safe);
            System.arraycopy(buf, start, out, off, n);
            start += n;
            return n;
        }

        private int indexOf(int from, int to) {
            outer:
            for (int i = from; i <= to - delimiter.length; i++) {
                for (int j = 0; j < delimiter.length; j++) {
                    if (buf[i + j] != delimiter[j]) {
                        continue outer;
                    }
                }
                return i;
            }
            return -1;
        }
    }

    /** True when the body ended without its closing delimiter after the given part. */
    boolean truncated() {
        return current != null && eof && !current.sawDelimiter;
    }
}
