package ai.dstack.runner.api;

import ai.dstack.runner.logs.EventLog;
import ai.dstack.runner.logs.LogBook;
import io.helidon.common.buffers.BufferData;
import io.helidon.http.Headers;
import io.helidon.http.HttpPrologue;
import io.helidon.websocket.WsListener;
import io.helidon.websocket.WsSession;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.Optional;

/**
 * {@code GET /logs_ws?start_time=<ISO-8601>}: the job's raw terminal output, one binary frame per
 * chunk, from {@code start_time} (whole seconds) on; closed with 1000 once the runner shuts down
 * and the client has everything (docs/runner.md §6.7). One instance per connection; frames are sent
 * from a thread of its own, never under the executor's lock.
 */
final class LogsWebSocket implements WsListener {
    private static final long POLL_MS = 100;

    private final LogBook book;
    private final WsClients clients;
    private volatile boolean closed;
    private Long startMillis;
    private boolean badStartTime;

    LogsWebSocket(LogBook book, WsClients clients) {
        this.book = book;
        this.clients = clients;
    }

    @Override
    public Optional<Headers> onHttpUpgrade(HttpPrologue prologue, Headers headers) {
        if (prologue.query().contains("start_time")) {
            String value = prologue.query().get("start_time");
            startMillis = parse(value);
            if (startMillis == null) {
                startMillis = parse(value.replace(' ', '+')); // an unencoded '+' arrives as a space
            }
            badStartTime = startMillis == null;
        }
        return Optional.empty();
    }

    private static Long parse(String value) {
        try {
            return OffsetDateTime.parse(value).toEpochSecond() * 1000;
        } catch (DateTimeParseException e) {
            return null;
        }
    }

    @Override
    public void onOpen(WsSession session) {
        if (badStartTime) {
            session.close(1003, "failed to parse start_time value");
            return;
        }
        clients.opened();
        Thread.ofVirtual().name("logs-ws").start(() -> stream(session));
    }

    private void stream(WsSession session) {
        boolean drained = false;
        try {
            EventLog terminal = book.terminal();
            int next = startMillis == null ? 0 : terminal.firstAfter(startMillis - 1, terminal.size());
            while (!closed) {
                int size = terminal.size();
                while (next < size && !closed) {
                    byte[] message = terminal.read(next++).message();
                    synchronized (this) {
                        session.send(BufferData.create(message), true);
                    }
                }
                if (book.shuttingDown() && next >= terminal.size()) {
                    synchronized (this) {
                        session.close(1000, "");
                    }
                    drained = true;
                    return;
                }
                terminal.awaitMore(next, POLL_MS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            // a write error ends the stream silently (and does not count as drained)
        } finally {
            clients.closed(drained);
        }
    }

    @Override
    public void onPing(WsSession session, BufferData buffer) {
        synchronized (this) {
            session.pong(buffer);
        }
    }

    @Override
    public void onClose(WsSession session, int status, String reason) {
        closed = true;
    }

    @Override
    public void onError(WsSession session, Throwable t) {
        closed = true;
    }
}
