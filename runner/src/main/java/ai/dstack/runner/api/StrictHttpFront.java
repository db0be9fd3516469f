package ai.dstack.runner.api;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The runner's public HTTP socket: it lets through only requests that Go's {@code net/http} (dstack's
 * Go runner) would take, to the server behind it on loopback (robaho httpserver, whose parser is
 * lenient and offers no hook for its accepted sockets). Each request head is read and checked
 * ({@link RequestHead}), written on in canonical form, and its body forwarded by its framing, with
 * chunked bodies checked as they pass; a head Go refuses is answered as Go does ({@code 400 Bad
 * Request: reason}, {@code Connection: close}; never a 5xx) and the connection closes. Answers are
 * copied back unchanged; after a WebSocket upgrade both directions are copied unchanged. What is
 * refused and why: docs/api-errors.md ("Runner"). Two virtual threads per connection.
 */
final class StrictHttpFront {
    /** Go's {@code http.DefaultMaxHeaderBytes}: request line and header fields together. */
    static final int MAX_HEAD_BYTES = 1 << 20;
    /** Go's limit for a chunk-size line ({@code internal/chunked}). */
    private static final int MAX_CHUNK_LINE = 4096;
    private static final int BUFFER = 64 * 1024;
    /** Buffers for heads; body reads and writes of {@link #BUFFER} bytes go past them, so an idle connection costs little. */
    private static final int HEAD_BUFFER = 8 * 1024;
    /** How long stop() waits for answers in flight; they end as soon as the server behind has closed. */
    private static final long STOP_GRACE_MS = 1000;
    /** Go's rstAvoidanceDelay. */
    private static final long RST_AVOIDANCE_MS = 500;

    private final ServerSocket listener;
    private volatile SocketAddress backend;
    private final Set<Socket> open = ConcurrentHashMap.newKeySet();

    /** Binds the public socket at once (so a taken port fails here). */
    StrictHttpFront(InetSocketAddress address) {
        try {
            listener = new ServerSocket();
            listener.bind(address);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Loopback on an ephemeral port: where the server behind the front listens. */
    static InetSocketAddress loopback() {
        return new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
    }

    int port() {
        return listener.getLocalPort();
    }

    /** Starts accepting; requests go to {@code backend}, where the lenient server listens (loopback). */
    void start(SocketAddress backend) {
        this.backend = backend;
        Thread.ofVirtual().name("http-front").start(this::accept);
    }

    /**
     * Closes the public socket, gives the connections up to {@link #STOP_GRACE_MS} to pass on what the
     * server behind (stopped first) still answered, e.g. to {@code /api/stop}, then closes the rest.
     */
    void stop() {
        try {
            listener.close();
        } catch (IOException ignored) {
            // closing anyway
        }
        long until = System.nanoTime() + STOP_GRACE_MS * 1_000_000;
        try {
            while (!open.isEmpty() && System.nanoTime() < until) {
                Thread.sleep(5);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        open.forEach(StrictHttpFront::closeQuietly);
    }

    private void accept() {
        while (!listener.isClosed()) {
            try {
                Socket client = listener.accept();
                open.add(client);
                Thread.ofVirtual().name("http-front-conn").start(() -> new Connection(client).serve());
            } catch (IOException e) {
                // closed by stop(), or one failed accept: the next one may work
            }
        }
    }

    /** One client connection and its connection to the server behind. */
    private final class Connection {
        private final Socket client;
        private Socket server;
        private OutputStream toServer;
        private Thread answers;
        private volatile boolean draining;

        Connection(Socket client) {
            this.client = client;
        }

        void serve() {
            RequestHead.Rejected rejected = null;
            try {
                client.setTcpNoDelay(true);
                InputStream in = new BufferedInputStream(client.getInputStream(), HEAD_BUFFER);
                while (true) {
                    RequestHead head = RequestHead.read(in, MAX_HEAD_BYTES);
                    if (head == null) {
                        break;
                    }
                    OutputStream out = server();
                    out.write(head.canonical());
                    boolean whole = head.length() < 0 ? forwardChunked(in, out) : forward(in, out, head.length());
                    out.flush();
                    if (!whole) {
                        // cut short or badly chunked: the server behind sees the body end early and answers (400)
                        break;
                    }
                    if (head.websocket()) {
                        copy(in, out); // WebSocket frames from here on
                        break;
                    }
                }
            } catch (RequestHead.Rejected e) {
                rejected = e;
            } catch (IOException | RuntimeException e) {
                // a head cut short (Go answers nothing), or either side went away; a bug must not hang the client
            }
            finish(rejected);
        }

        /** Opens the connection behind on the first valid request, with its copier of answers. */
        private OutputStream server() throws IOException {
            if (server == null) {
                Socket s = new Socket();
                try {
                    s.setTcpNoDelay(true);
                    s.connect(backend);
                } catch (IOException e) {
                    closeQuietly(s);
                    throw e;
                }
                server = s;
                open.add(server);
                toServer = new BufferedOutputStream(server.getOutputStream(), HEAD_BUFFER);
                InputStream answersIn = server.getInputStream();
                OutputStream answersOut = client.getOutputStream();
                answers = Thread.ofVirtual().name("http-front-answers").start(() -> {
                    try {
                        copy(answersIn, answersOut);
                    } catch (IOException ignored) {
                        // either side went away
                    }
                    if (!draining) {
                        closeQuietly(client); // the server closed: so does the client's connection (and its reader)
                    }
                });
            }
            return toServer;
        }

        /** No more requests: let the server answer what it has, then the rejection if any, then close. */
        private void finish(RequestHead.Rejected rejected) {
            draining = true;
            try {
                if (server != null) {
                    server.shutdownOutput(); // EOF after the last request: the server answers it, then closes
                    answers.join();
                }
                if (rejected != null) {
                    client.getOutputStream().write(refusal(rejected));
                }
                client.shutdownOutput();
                awaitEof(client); // a SocketTimeoutException ends it too
            } catch (IOException ignored) {
                // the client is gone
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                closeQuietly(client);
                if (server != null) {
                    closeQuietly(server);
                }
                open.remove(client);
                if (server != null) {
                    open.remove(server);
                }
            }
        }
    }

    /**
     * Reads (and drops) what the client still sends, until its EOF or {@link #RST_AVOIDANCE_MS}: closing
     * with unread input resets the connection, and a reset can destroy the answer before it was read
     * (Go's closeWriteAndWait does the same).
     */
    private static void awaitEof(Socket s) throws IOException {
        long until = System.nanoTime() + RST_AVOIDANCE_MS * 1_000_000;
        byte[] drop = new byte[8192];
        long left;
        while ((left = (until - System.nanoTime()) / 1_000_000) > 0) {
            s.setSoTimeout((int) left);
            if (s.getInputStream().read(drop) < 0) {
                return;
            }
        }
    }

    /** Go's answer to a request it cannot read ({@code net/http} server.go), with a Content-Length. */
    static byte[] refusal(RequestHead.Rejected r) {
        String status = r.status == 431 ? "431 Request Header Fields Too Large" : "400 Bad Request";
        String body = r.status == 431 ? status : status + ": " + r.getMessage();
        return ("HTTP/1.1 " + status + "\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\nContent-Length: "
                + body.length() + "\r\n\r\n" + body).getBytes(StandardCharsets.UTF_8);
    }

    /** Exactly {@code length} bytes; false when the client's side ends first. */
    private static boolean forward(InputStream in, OutputStream out, long length) throws IOException {
        byte[] buf = new byte[(int) Math.min(BUFFER, Math.max(length, 1))];
        long left = length;
        while (left > 0) {
            int n = in.read(buf, 0, (int) Math.min(buf.length, left));
            if (n < 0) {
                return false;
            }
            out.write(buf, 0, n);
            left -= n;
        }
        return true;
    }

    /**
     * A chunked body as Go's {@code internal/chunked} reads it (hex size of at most 16 digits, an
     * extension after {@code ;}, CRLF after each chunk's data, trailer fields), passed on re-chunked
     * without extensions and trailers, in whole pieces of at most 64 KiB. False at the first fault or
     * EOF: the whole pieces before it are passed on, the rest never.
     */
    private static boolean forwardChunked(InputStream in, OutputStream out) throws IOException {
        byte[] buf = new byte[BUFFER];
        try {
            for (String line = sizeLine(in); line != null; line = sizeLine(in)) {
                long size = chunkSize(line);
                if (size == 0) {
                    RequestHead.Lines trailers = new RequestHead.Lines(in, MAX_HEAD_BYTES, false);
                    for (String t = trailers.next(); !t.isEmpty(); t = trailers.next()) {
                        if (t.indexOf(':') < 1 || !RequestHead.isToken(t.substring(0, t.indexOf(':')))) {
                            return false;
                        }
                    }
                    out.write("0\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
                    return true;
                }
                while (size > 0) {
                    int piece = (int) Math.min(size, BUFFER);
                    if (in.readNBytes(buf, 0, piece) < piece) {
                        // cut short: what arrived of this piece stays here, lest a multipart's end in it complete
                        // a form whose framing is broken
                        return false;
                    }
                    out.write((Integer.toHexString(piece) + "\r\n").getBytes(StandardCharsets.ISO_8859_1));
                    out.write(buf, 0, piece);
                    out.write('\r');
                    out.write('\n');
                    size -= piece;
                }
                if (in.read() != '\r' || in.read() != '\n') {
                    return false;
                }
            }
            return false; // EOF where a size line belongs
        } catch (RequestHead.Rejected | EOFException e) {
            return false;
        }
    }

    /** One chunk-size line, null at EOF before it; Go limits it to 4096 bytes. */
    private static String sizeLine(InputStream in) throws IOException, RequestHead.Rejected {
        return new RequestHead.Lines(in, MAX_CHUNK_LINE, true).next();
    }

    /** The size of a chunk-size line (trailing blanks allowed, none inside), refused as Go refuses it. */
    private static long chunkSize(String line) throws RequestHead.Rejected {
        int semi = line.indexOf(';');
        String ext = semi < 0 ? "" : line.substring(semi + 1);
        String hex = semi < 0 ? line.replaceFirst("[ \t]+$", "") : line.substring(0, semi);
        if (hex.isEmpty() || hex.length() > 16 || !hex.chars().allMatch(c -> Character.digit(c, 16) >= 0 && c < 0x80)
                || ext.chars().anyMatch(c -> (c < 0x20 && c != '\t') || c == 0x7f)) {
            throw new RequestHead.Rejected("malformed chunked encoding");
        }
        long size = Long.parseUnsignedLong(hex, 16);
        if (size < 0) {
            throw new RequestHead.Rejected("chunk length too large");
        }
        return size;
    }

    private static void copy(InputStream in, OutputStream out) throws IOException {
        byte[] buf = new byte[BUFFER];
        int n;
        while ((n = in.read(buf)) >= 0) {
            out.write(buf, 0, n);
            out.flush();
        }
    }

    private static void closeQuietly(Socket s) {
        try {
            s.close();
        } catch (IOException ignored) {
            // closing anyway
        }
    }
}
