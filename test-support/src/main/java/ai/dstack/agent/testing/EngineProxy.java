package ai.dstack.agent.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A unix-socket proxy in front of the Docker engine (give {@code dockerHost()} to a shim as
 * {@code DOCKER_HOST}) that can hold requests whose path matches a pattern — so a test can catch
 * a shim inside a step that normally lasts milliseconds (pulling, creating) and kill it there.
 * Held requests are either forwarded or dropped (connection closed, as if never sent) on release.
 */
public final class EngineProxy implements AutoCloseable {
    private static final Pattern REQUEST_LINE = Pattern.compile("^(GET|POST|PUT|DELETE|HEAD) (\\S+) HTTP/1\\.[01]\r\n");
    private final ServerSocketChannel server;
    private final Path socket;
    private final Path engine;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private Pattern hold;
    private int held;
    private long generation;
    private boolean forward;

    private EngineProxy(ServerSocketChannel server, Path socket, Path engine) {
        this.server = server;
        this.socket = socket;
        this.engine = engine;
    }

    /** Listens on {@code socket}, forwarding to the engine socket {@code engine}. */
    public static EngineProxy start(Path socket, Path engine) {
        try {
            Files.deleteIfExists(socket);
            ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
            server.bind(UnixDomainSocketAddress.of(socket));
            EngineProxy proxy = new EngineProxy(server, socket, engine);
            Thread.ofVirtual().start(proxy::acceptLoop);
            return proxy;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The main engine's socket path (from {@code DOCKER_HOST} or the default). */
    public static Path mainEngineSocket() {
        return Path.of(Docker.host().replaceFirst("^unix://", ""));
    }

    public String dockerHost() {
        return "unix://" + socket;
    }

    /** From now on, requests whose path (without version prefix and query) matches {@code pathRegex} wait. */
    public void hold(String pathRegex) {
        lock.lock();
        try {
            hold = Pattern.compile(pathRegex);
        } finally {
            lock.unlock();
        }
    }

    /** Waits until at least one request is held since the last release; false after {@code limit}. */
    public boolean awaitHeld(Duration limit) throws InterruptedException {
        lock.lock();
        try {
            long nanos = limit.toNanos();
            while (held == 0) {
                if (nanos <= 0) {
                    return false;
                }
                nanos = changed.awaitNanos(nanos);
            }
            return true;
        } finally {
            lock.unlock();
        }
    }

    /** Stops holding; requests held so far are forwarded ({@code forwardHeld}) or dropped. */
    public void release(boolean forwardHeld) {
        releaseThenHold(forwardHeld, null);
    }

    /**
     * Forwards the requests held so far and, in the same step, holds those matching {@code pathRegex}
     * from now on (nothing can slip between the two).
     */
    public void releaseAndHold(String pathRegex) {
        releaseThenHold(true, Pattern.compile(pathRegex));
    }

    private void releaseThenHold(boolean forwardHeld, Pattern next) {
        lock.lock();
        try {
            hold = next;
            forward = forwardHeld;
            held = 0;
            generation++;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    private void acceptLoop() {
        while (server.isOpen()) {
            try {
                SocketChannel client = server.accept();
                SocketChannel upstream = SocketChannel.open(UnixDomainSocketAddress.of(engine));
                Thread.ofVirtual().start(() -> pump(client, upstream, true));
                Thread.ofVirtual().start(() -> pump(upstream, client, false));
            } catch (IOException e) {
                return;
            }
        }
    }

    private void pump(SocketChannel from, SocketChannel to, boolean requests) {
        ByteBuffer buf = ByteBuffer.allocate(64 * 1024);
        try (from; to) {
            while (from.read(buf) >= 0) {
                buf.flip();
                if (requests && !mayPass(buf)) {
                    return; // dropped: both connections close
                }
                while (buf.hasRemaining()) {
                    to.write(buf);
                }
                buf.clear();
            }
        } catch (IOException e) {
            // a side closed: close the other too
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Blocks a chunk that starts a held request until release; false when it is to be dropped. */
    private boolean mayPass(ByteBuffer chunk) throws InterruptedException {
        String head = StandardCharsets.ISO_8859_1.decode(chunk.duplicate().limit(Math.min(chunk.limit(), 2048))).toString();
        Matcher m = REQUEST_LINE.matcher(head);
        if (!m.find()) {
            return true;
        }
        lock.lock();
        try {
            String path = m.group(2).replaceFirst("^/v[0-9.]+", "").replaceFirst("\\?.*$", "");
            if (hold == null || !hold.matcher(path).matches()) {
                return true;
            }
            long mine = generation;
            held++;
            changed.signalAll();
            while (generation == mine) {
                changed.await(1, TimeUnit.SECONDS);
            }
            return forward;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void close() {
        release(false);
        try {
            server.close();
            Files.deleteIfExists(socket);
        } catch (IOException e) {
            // best effort
        }
    }
}
