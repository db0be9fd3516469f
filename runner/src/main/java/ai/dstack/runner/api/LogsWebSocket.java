package ai.dstack.runner.api;

import ai.dstack.runner.logs.EventLog;
import ai.dstack.runner.logs.LogBook;
import com.sun.net.httpserver.HttpExchange;
import java.io.IOException;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import robaho.net.httpserver.websockets.CloseCode;
import robaho.net.httpserver.websockets.WebSocket;
import robaho.net.httpserver.websockets.WebSocketFrame;
import robaho.net.httpserver.websockets.WebSocketHandler;

/**
 * {@code GET /logs_ws?start_time=<ISO-8601>}: the job's raw terminal output, one binary frame per
 * chunk, from {@code start_time} (whole seconds) on; closed with 1000 once the runner shuts down
 * and the client has everything, with 1003 when {@code start_time} does not parse
 * (docs/runner.md §6.7). A plain GET without the upgrade is a 400. Frames are sent from a thread
 * of each connection's own, never under the executor's lock.
 */
final class LogsWebSocket extends WebSocketHandler {
    private static final long POLL_MS = 100;

    private final LogBook book;
    private final WsClients clients;

    LogsWebSocket(LogBook book, WsClients clients) {
        this.book = book;
        this.clients = clients;
    }

    /** The route: upgrades (the handshake is the library's) or answers 400. */
    void handle(Call call) throws IOException {
        if (!isWebsocketRequested(call.exchange().getRequestHeaders())) {
            call.text(400, "Bad Request");
            return;
        }
        call.takenOver();
        handle(call.exchange()); // returns when the connection closes
    }

    @Override
    protected WebSocket openWebSocket(HttpExchange exchange) {
        String value;
        try {
            value = new Call(exchange).query("start_time");
        } catch (Call.BadRequest e) {
            return new Stream(exchange, true, null);
        }
        Long startMillis = null;
        if (value != null) {
            startMillis = parse(value);
            if (startMillis == null) {
                startMillis = parse(value.replace(' ', '+')); // an unencoded '+' arrives as a space
            }
        }
        return new Stream(exchange, value != null && startMillis == null, startMillis);
    }

    private static Long parse(String value) {
        try {
            return OffsetDateTime.parse(value).toEpochSecond() * 1000;
        } catch (DateTimeParseException e) {
            return null;
        }
    }

    /** One connection. */
    private final class Stream extends WebSocket {
        private final boolean badStartTime;
        private final Long startMillis;
        private volatile boolean closed;

        Stream(HttpExchange exchange, boolean badStartTime, Long startMillis) {
            super(exchange);
            this.badStartTime = badStartTime;
            this.startMillis = startMillis;
        }

        @Override
        protected void onOpen() {
            if (badStartTime) {
                closeQuietly(CloseCode.UnsupportedData, "failed to parse start_time value");
                return;
            }
            clients.opened();
            Thread.ofVirtual().name("logs-ws").start(this::stream);
        }

        private void stream() {
            boolean drained = false;
            try {
                EventLog terminal = book.terminal();
                int next = startMillis == null ? 0 : terminal.firstAfter(startMillis - 1, terminal.size());
                while (!closed) {
                    int size = terminal.size();
                    while (next < size && !closed) {
                        send(terminal.read(next++).message());
                    }
                    if (book.shuttingDown() && next >= terminal.size()) {
                        close(CloseCode.NormalClosure, "", false);
                        drained = true;
                        return;
                    }
                    terminal.awaitMore(next, POLL_MS);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (IOException | RuntimeException e) {
                // a write error ends the stream silently (and does not count as drained)
            } finally {
                clients.closed(drained);
            }
        }

        private void closeQuietly(CloseCode code, String reason) {
            try {
                close(code, reason, false);
            } catch (IOException ignored) {
                // the client is gone already
            }
        }

        @Override
        protected void onClose(CloseCode code, String reason, boolean initiatedByRemote) {
            closed = true;
        }

        @Override
        protected void onMessage(WebSocketFrame message) {
            // clients only listen
        }

        @Override
        protected void onPong(WebSocketFrame pong) {
            // pings are answered by the library; pongs need nothing
        }
    }
}
