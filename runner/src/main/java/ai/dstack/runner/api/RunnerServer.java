package ai.dstack.runner.api;

import ai.dstack.runner.hooks.MetricsSource;
import ai.dstack.runner.job.Executor;
import ai.dstack.runner.logs.LogBook;
import io.helidon.http.HttpException;
import io.helidon.webserver.WebServer;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import io.helidon.webserver.websocket.WsRouting;

/** The runner's web server: the HTTP API plus {@code /logs_ws}. */
public final class RunnerServer {
    private final WebServer server;
    private final WsClients wsClients = new WsClients();

    /**
     * @param address bind address, "" for all interfaces (honoured exactly, never widened)
     */
    public RunnerServer(String address, int port, String version, Executor executor, LogBook book,
                        MetricsSource metrics, long submitMaxBytes, long pullMaxBytes) {
        RunnerApi api = new RunnerApi(version, executor, book, metrics, submitMaxBytes, pullMaxBytes);
        server = WebServer.builder()
                .host(address.isEmpty() ? "0.0.0.0" : address)
                .port(port)
                .shutdownHook(false)
                // no service discovery: the API writes its own bytes and needs no encodings
                .mediaContext(m -> m.mediaSupportsDiscoverServices(false))
                .contentEncoding(e -> e.contentEncodingsDiscoverServices(false))
                .routing(r -> r.register(api)
                        .error(Exception.class, RunnerServer::unexpected))
                .addRouting(WsRouting.builder().endpoint("/logs_ws", () -> new LogsWebSocket(book, wsClients)))
                .build();
    }

    /** Routing misses keep their status (404, 405…); anything else is a 500 with an empty body. */
    private static void unexpected(ServerRequest req, ServerResponse res, Exception e) {
        if (e instanceof HttpException http) {
            RunnerApi.text(res, http.status().code(), http.status().reasonPhrase());
        } else {
            RunnerApi.text(res, 500, "");
        }
    }

    /** Starts listening; throws when the address cannot be bound. */
    public void start() {
        server.start();
        if (!server.isRunning()) {
            throw new IllegalStateException("the HTTP server did not start");
        }
    }

    public int port() {
        return server.port();
    }

    public WsClients wsClients() {
        return wsClients;
    }

    public void stop() {
        server.stop();
    }
}
