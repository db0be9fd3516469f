package ai.dstack.agent.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A TCP reverse proxy on loopback in front of another loopback server (a registry): the answers it
 * forwards are throttled to a rate, and it can stop forwarding once it has passed a number of
 * bytes, holding the connections open (a registry that stalls mid-layer). The engine does not use
 * HTTP proxies for loopback registries, so a reverse proxy is the way to slow its pulls down.
 */
public final class ThrottlingProxy implements AutoCloseable {
    private static final int CHUNK = 16 * 1024;
    private final ServerSocket server;
    private final int targetPort;
    private final long bytesPerSecond;
    private final long stallAfter;
    private final AtomicLong forwarded = new AtomicLong();
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();
    private final Object stalled = new Object();

    private ThrottlingProxy(ServerSocket server, int targetPort, long bytesPerSecond, long stallAfter) {
        this.server = server;
        this.targetPort = targetPort;
        this.bytesPerSecond = bytesPerSecond;
        this.stallAfter = stallAfter;
    }

    /**
     * Proxies {@code 127.0.0.1:targetPort}, answers at most {@code bytesPerSecond}, and stops forwarding
     * answers for good once {@code stallAfter} bytes have passed ({@code Long.MAX_VALUE}: never).
     */
    public static ThrottlingProxy start(int targetPort, long bytesPerSecond, long stallAfter) {
        try {
            ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
            ThrottlingProxy proxy = new ThrottlingProxy(server, targetPort, bytesPerSecond, stallAfter);
            Thread.ofVirtual().name("throttling-proxy").start(proxy::acceptLoop);
            return proxy;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** {@code 127.0.0.1:<port>}: use it in image references instead of the registry's address. */
    public String address() {
        return "127.0.0.1:" + server.getLocalPort();
    }

    /** Answer bytes forwarded so far. */
    public long forwarded() {
        return forwarded.get();
    }

    private void acceptLoop() {
        while (!server.isClosed()) {
            try {
                Socket client = server.accept();
                Socket upstream = new Socket(InetAddress.getLoopbackAddress(), targetPort);
                sockets.add(client);
                sockets.add(upstream);
                InputStream request = client.getInputStream();
                OutputStream toUpstream = upstream.getOutputStream();
                InputStream answer = upstream.getInputStream();
                OutputStream toClient = client.getOutputStream();
                Thread.ofVirtual().start(() -> pump(request, toUpstream, false));
                Thread.ofVirtual().start(() -> pump(answer, toClient, true));
            } catch (IOException e) {
                // closed, or the upstream refused: the client sees its connection drop
            }
        }
    }


    private void pump(InputStream in, OutputStream out, boolean answer) {
        byte[] buf = new byte[CHUNK];
        long started = System.nanoTime();
        long sent = 0;
        try {
            for (int n; (n = in.read(buf)) > 0; ) {
                if (answer) {
                    n = (int) Math.min(n, Math.max(0, stallAfter - forwarded.get()));
                    if (n == 0) {
                        stallForever();
                    }
                    sent += n;
                    long due = started + sent * 1_000_000_000L / bytesPerSecond;
                    long wait = due - System.nanoTime();
                    if (wait > 0) {
                        Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
                    }
                    forwarded.addAndGet(n);
                }
                out.write(buf, 0, n);
                out.flush();
            }
            out.close();
        } catch (IOException | InterruptedException e) {
            // a side closed
        }
    }

    private void stallForever() throws InterruptedException {
        synchronized (stalled) {
            while (!server.isClosed()) {
                stalled.wait(1000);
            }
        }
    }

    @Override
    public void close() {
        try {
            server.close();
        } catch (IOException ignored) {
            // closing anyway
        }
        for (Socket s : sockets) {
            try {
                s.close();
            } catch (IOException ignored) {
                // closing anyway
            }
        }
        synchronized (stalled) {
            stalled.notifyAll();
        }
    }
}
