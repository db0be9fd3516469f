package ai.dstack.runner.repo;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A tiny forwarding HTTP proxy on loopback for tests: it records every request line, forwards
 * absolute-URI requests to one origin on loopback (whatever host they name, so a made-up host name
 * proves the proxy was used) and answers {@code CONNECT} with 502 (no TLS origin here).
 */
final class ForwardProxy implements AutoCloseable {
    private final ServerSocket server;
    private final int originPort;
    private final List<String> seen = new CopyOnWriteArrayList<>();
    private volatile String requiredAuthorization;

    ForwardProxy(int originPort) throws IOException {
        this.originPort = originPort;
        this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread.ofPlatform().daemon().name("test-proxy").start(this::acceptLoop);
    }

    /** From now on, answers 407 unless the request carries these Basic proxy credentials. */
    void requireBasic(String user, String password) {
        requiredAuthorization = "Basic " + java.util.Base64.getEncoder()
                .encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
    }

    int port() {
        return server.getLocalPort();
    }

    /** The request lines received, e.g. {@code GET http://host/x HTTP/1.1} or {@code CONNECT host:443 HTTP/1.1}. */
    List<String> seen() {
        return List.copyOf(seen);
    }

    private void acceptLoop() {
        while (!server.isClosed()) {
            try {
                Socket client = server.accept();
                Thread.ofPlatform().daemon().start(() -> handle(client));
            } catch (IOException closed) {
                return;
            }
        }
    }

    private void handle(Socket client) {
        try (client) {
            InputStream in = client.getInputStream();
            String requestLine = line(in);
            if (requestLine == null || requestLine.isEmpty()) {
                return;
            }
            seen.add(requestLine);
            StringBuilder headers = new StringBuilder();
            String authorization = null;
            long length = 0;
            String h;
            while ((h = line(in)) != null && !h.isEmpty()) {
                String lower = h.toLowerCase();
                if (lower.startsWith("proxy-authorization:")) {
                    authorization = h.substring(20).trim();
                }
                if (lower.startsWith("content-length:")) {
                    length = Long.parseLong(h.substring(15).trim());
                }
                if (!lower.startsWith("proxy-") && !lower.startsWith("connection:")) {
                    headers.append(h).append("\r\n");
                }
            }
            String[] parts = requestLine.split(" ");
            OutputStream out = client.getOutputStream();
            if (requiredAuthorization != null && !requiredAuthorization.equals(authorization)) {
                out.write(("HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"test\"\r\n"
                        + "Content-Length: 0\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                return;
            }
            if (requiredAuthorization != null) {
                seen.add("authorized: " + requestLine);
            }
            if (parts[0].equals("CONNECT")) {
                out.write("HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                return;
            }
            java.net.URI uri = java.net.URI.create(parts[1]);
            String path = uri.getRawPath() + (uri.getRawQuery() == null ? "" : "?" + uri.getRawQuery());
            try (Socket origin = new Socket(InetAddress.getLoopbackAddress(), originPort)) {
                OutputStream o = origin.getOutputStream();
                o.write((parts[0] + " " + path + " HTTP/1.1\r\n" + headers + "Connection: close\r\n\r\n")
                        .getBytes(StandardCharsets.ISO_8859_1));
                o.write(in.readNBytes((int) length));
                o.flush();
                origin.getInputStream().transferTo(out);
            }
        } catch (IOException ignored) {
            // the client went away
        }
    }

    private static String line(InputStream in) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        int c;
        while ((c = in.read()) != -1 && c != '\n') {
            if (c != '\r') {
                b.write(c);
            }
        }
        return c == -1 && b.size() == 0 ? null : b.toString(StandardCharsets.ISO_8859_1);
    }

    @Override
    public void close() throws IOException {
        server.close();
    }
}
