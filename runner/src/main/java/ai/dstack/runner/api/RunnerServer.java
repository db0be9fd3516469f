package ai.dstack.runner.api;

import ai.dstack.runner.hooks.MetricsSource;
import ai.dstack.runner.job.Executor;
import ai.dstack.runner.logs.LogBook;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import robaho.net.httpserver.DefaultHttpServerProvider;

/**
 * The runner's web server: the HTTP API plus {@code /logs_ws}, on robaho's implementation of the
 * JDK's {@code com.sun.net.httpserver} API (a maintained library with WebSocket support; it starts
 * in a fraction of Helidon's time and memory, which matters in every user container: see
 * bench/runner-server-spike.md). One virtual thread per connection. robaho listens on loopback only:
 * the public socket is {@link StrictHttpFront}'s, which lets through only what Go's net/http takes
 * (docs/api-errors.md, "Runner").
 */
public final class RunnerServer {
    private final HttpServer server;
    private final StrictHttpFront front;
    private final ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor();
    private final WsClients wsClients = new WsClients();

    /**
     * Binds the port at once (so a taken port fails here).
     *
     * @param address bind address, "" for all interfaces (honoured exactly, never widened)
     */
    public RunnerServer(String address, int port, String version, Executor executor, LogBook book,
                        MetricsSource metrics, long submitMaxBytes, long pullMaxBytes) {
        Routes routes = new Routes();
        LogsWebSocket logsWs = new LogsWebSocket(book, wsClients);
        new RunnerApi(version, executor, book, metrics, submitMaxBytes, pullMaxBytes).routing(routes, logsWs::handle);
        front = new StrictHttpFront(new InetSocketAddress(address.isEmpty() ? "0.0.0.0" : address, port));
        try {
            server = new DefaultHttpServerProvider().createHttpServer(StrictHttpFront.loopback(), 0);
        } catch (IOException e) {
            front.stop();
            throw new UncheckedIOException(e);
        }
        server.setExecutor(threads);
        server.createContext("/", routes);
    }

    /** Starts serving. */
    public void start() {
        server.start();
        front.start(server.getAddress());
    }

    public int port() {
        return front.port();
    }

    public WsClients wsClients() {
        return wsClients;
    }

    public void stop() {
        server.stop(0); // first: its last answers still pass the front
        front.stop();
        threads.shutdownNow();
    }
}
