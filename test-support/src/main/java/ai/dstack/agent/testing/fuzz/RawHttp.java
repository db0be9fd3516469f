package ai.dstack.agent.testing.fuzz;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * One HTTP/1.1 exchange over a raw socket, so that any bytes at all can be sent: the request is
 * written by its own thread (a server that stops reading cannot block the test), the write side is
 * then half-closed (EOF: "nothing more comes"), and the reply is read with a generous deadline.
 */
public final class RawHttp {
    private RawHttp() {
    }

    /** What came back. */
    public sealed interface Outcome {
    }

    /** A complete reply. */
    public record Reply(int status, Map<String, String> headers, byte[] body) implements Outcome {
        public String text() {
            return new String(body, StandardCharsets.UTF_8);
        }

        public String header(String name) {
            return headers.get(name.toLowerCase(Locale.ROOT));
        }

        @Override
        public String toString() {
            String t = text();
            return status + " " + (t.length() > 200 ? t.substring(0, 200) + "…" : t).replace("\n", "\\n");
        }
    }

    /** The connection ended (EOF or reset) before a reply started. */
    public record Closed(String how) implements Outcome {
    }

    /** Bytes that are not an HTTP reply, or a reply cut short. */
    public record Garbage(String what) implements Outcome {
    }

    /** Nothing (or not all) came back within the deadline. */
    public record Hung(String sofar) implements Outcome {
    }

    /** Sends {@code request} to 127.0.0.1:{@code port}, half-closes, reads one reply. */
    public static Outcome exchange(int port, byte[] request, Duration deadline) {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
            s.setSoTimeout((int) deadline.toMillis());
            Thread writer = Thread.ofVirtual().start(() -> {
                try {
                    OutputStream out = s.getOutputStream();
                    out.write(request);
                    out.flush();
                    s.shutdownOutput();
                } catch (IOException e) {
                    // the server closed or reset early: the reply (or its absence) tells the rest
                }
            });
            try {
                return read(s.getInputStream(), System.nanoTime() + deadline.toNanos());
            } finally {
                writer.interrupt();
            }
        } catch (IOException e) {
            return new Closed("connect: " + e.getMessage());
        }
    }

    private static Outcome read(InputStream raw, long until) {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        try {
            // status line and headers
            int state = 0;
            while (state < 4) {
                if (System.nanoTime() > until) {
                    return new Hung(head.toString(StandardCharsets.ISO_8859_1));
                }
                int b = raw.read();
                if (b < 0) {
                    return head.size() == 0 ? new Closed("eof") : new Garbage("eof in head: " + head.toString(StandardCharsets.ISO_8859_1));
                }
                head.write(b);
                state = switch (state) {
                    case 0, 2 -> b == '\r' ? state + 1 : 0;
                    case 1, 3 -> b == '\n' ? state + 1 : b == '\r' ? 1 : 0;
                    default -> 0;
                };
                if (head.size() > 65536) {
                    return new Garbage("reply head over 64 KiB");
                }
            }
            String[] lines = head.toString(StandardCharsets.ISO_8859_1).split("\r\n");
            String[] status = lines[0].split(" ", 3);
            if (status.length < 2 || !status[0].startsWith("HTTP/1.") || !status[1].matches("[0-9]{3}")) {
                return new Garbage("status line: " + lines[0]);
            }
            Map<String, String> headers = new LinkedHashMap<>();
            for (int i = 1; i < lines.length; i++) {
                int colon = lines[i].indexOf(':');
                if (colon > 0) {
                    headers.put(lines[i].substring(0, colon).strip().toLowerCase(Locale.ROOT), lines[i].substring(colon + 1).strip());
                }
            }
            int code = Integer.parseInt(status[1]);
            byte[] body;
            if (code == 204 || code == 304 || code / 100 == 1) {
                body = new byte[0];
            } else if ("chunked".equalsIgnoreCase(headers.get("transfer-encoding"))) {
                body = chunked(raw);
            } else if (headers.containsKey("content-length")) {
                int n = Integer.parseInt(headers.get("content-length"));
                body = raw.readNBytes(n);
                if (body.length < n) {
                    return new Garbage("reply body cut at " + body.length + " of " + n);
                }
            } else {
                body = raw.readAllBytes();
            }
            return new Reply(code, headers, body);
        } catch (SocketTimeoutException e) {
            return new Hung(head.toString(StandardCharsets.ISO_8859_1));
        } catch (IOException e) {
            return head.size() == 0 ? new Closed(e.getMessage()) : new Garbage("read: " + e.getMessage());
        } catch (RuntimeException e) {
            return new Garbage(e.toString());
        }
    }

    private static byte[] chunked(InputStream in) throws IOException {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        while (true) {
            String size = line(in).split(";", 2)[0].strip();
            int n = Integer.parseInt(size, 16);
            if (n == 0) {
                while (!line(in).isEmpty()) {
                    // trailers
                }
                return body.toByteArray();
            }
            byte[] chunk = in.readNBytes(n);
            if (chunk.length < n) {
                throw new IOException("reply chunk cut short");
            }
            body.write(chunk);
            line(in);
        }
    }

    private static String line(InputStream in) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        int c;
        while ((c = in.read()) >= 0 && c != '\n') {
            if (c != '\r') {
                b.write(c);
            }
        }
        if (c < 0) {
            throw new IOException("eof in chunked reply");
        }
        return b.toString(StandardCharsets.ISO_8859_1);
    }
}
