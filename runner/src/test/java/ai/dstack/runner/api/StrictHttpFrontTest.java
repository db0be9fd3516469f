package ai.dstack.runner.api;

import static org.assertj.core.api.Assertions.assertThat;

import ai.dstack.agent.testing.fuzz.RawHttp;
import com.sun.net.httpserver.HttpServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Random;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import robaho.net.httpserver.DefaultHttpServerProvider;

/**
 * The strict front before a real robaho server whose one route answers with the method, the length
 * and SHA-256 of the body it read, and the {@code Upgrade} it saw: heads Go refuses get Go's 400 and
 * a closed connection and never reach the server; bodies arrive intact by their framing; keep-alive
 * and pipelining work through it (docs/api-errors.md, "Runner").
 */
class StrictHttpFrontTest {
    private static final Duration DEADLINE = Duration.ofSeconds(30);

    private HttpServer server;
    private StrictHttpFront front;
    private volatile int served;

    @BeforeEach
    void start() throws IOException {
        server = new DefaultHttpServerProvider().createHttpServer(StrictHttpFront.loopback(), 0);
        server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
        server.createContext("/", exchange -> {
            served++;
            String answer;
            int status = 200;
            try {
                InputStream in = exchange.getRequestBody(); // not closed: after an upgrade that closes the connection
                MessageDigest sha = MessageDigest.getInstance("SHA-256");
                byte[] buf = new byte[65536];
                long length = 0;
                int n;
                while ((n = in.read(buf)) >= 0) {
                    sha.update(buf, 0, n);
                    length += n;
                }
                answer = exchange.getRequestMethod() + " " + length + " " + HexFormat.of().formatHex(sha.digest())
                        + " upgrade=" + exchange.getRequestHeaders().getFirst("Upgrade");
            } catch (IOException e) {
                status = 400;
                answer = "broken body";
            } catch (java.security.NoSuchAlgorithmException e) {
                throw new IllegalStateException(e);
            }
            byte[] body = answer.getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(status, body.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        });
        server.createContext("/peek", exchange -> {
            // answers from the body's first 3 bytes without reading on, as a multipart form answers at its end
            byte[] body;
            int status = 200;
            try {
                body = exchange.getRequestBody().readNBytes(3);
                status = body.length == 3 ? 200 : 400;
            } catch (IOException e) {
                body = "broken body".getBytes(StandardCharsets.UTF_8);
                status = 400;
            }
            exchange.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        server.start();
        front = new StrictHttpFront(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        front.start(server.getAddress());
    }

    @AfterEach
    void stop() {
        front.stop();
        server.stop(0);
    }

    private RawHttp.Outcome send(String request) {
        return send(request.getBytes(StandardCharsets.ISO_8859_1));
    }

    private RawHttp.Outcome send(byte[] request) {
        return RawHttp.exchange(front.port(), request, DEADLINE);
    }

    private static String sha(byte[] data) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "GET /x HTTP/1.1\r\nHost: x\r\nBadHeader\r\n\r\n",
        "GET /x HTTP/1.1\r\nHost: x\r\nX-A : space before colon\r\n\r\n",
        "GET /x HTTP/1.1\r\nHost: x\r\nX-A: a\r\n folded\r\n\r\n",
        "GET /x HTTP/1.1\r\nHost: x\r\nX-A: bare\rCR\r\n\r\n",
        "GET /x HTTP/1.1\r\nHost: x\r\nX-A: nul\u0000\r\n\r\n",
        "GET /x HTTP/1.1\r\nHost: x\r\nX\u00e9: non-ASCII name\r\n\r\n",
        "GET /x HTTP/1.1\r\nHost: x\r\n: no name\r\n\r\n",
        " GET /x HTTP/1.1\r\nHost: x\r\n\r\n",
        "GET  /x HTTP/1.1\r\nHost: x\r\n\r\n",
        "GET /x HTTP/1.1 extra\r\nHost: x\r\n\r\n",
        "GET /x\r\nHost: x\r\n\r\n",
        "GET /x HTTP/1.2\r\nHost: x\r\n\r\n",
        "GET /x HTTP/2.0\r\nHost: x\r\n\r\n",
        "GET /x http/1.1\r\nHost: x\r\n\r\n",
        "G(T /x HTTP/1.1\r\nHost: x\r\n\r\n",
        "P\u0000ST /x HTTP/1.1\r\nHost: x\r\n\r\n",
        "GET /\u0001x HTTP/1.1\r\nHost: x\r\n\r\n",
        "GET /x%zz HTTP/1.1\r\nHost: x\r\n\r\n",
        "GET x HTTP/1.1\r\nHost: x\r\n\r\n",
        "GET /x HTTP/1.1\r\n\r\n",
        "GET /x HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n",
        "GET /x HTTP/1.1\r\nHost: a b\r\n\r\n",
        "POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
        "POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: +1\r\n\r\na",
        "POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: \u0661\r\n\r\na",
        "POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999\r\n\r\na",
        "POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\n\r\n",
        "POST /x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n",
        "POST /x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, identity\r\n\r\n",
        "GET /logs_ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: short\r\nSec-WebSocket-Version: 13\r\n\r\n",
        "GET /logs_ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n",
    })
    void headsGoRefusesGetGosPlainTextBadRequestAndNeverReachTheServer(String request) {
        RawHttp.Outcome o = send(request);
        assertThat(o).isInstanceOf(RawHttp.Reply.class);
        RawHttp.Reply r = (RawHttp.Reply) o;
        assertThat(r.status()).isEqualTo(400);
        assertThat(r.header("Content-Type")).isEqualTo("text/plain; charset=utf-8");
        assertThat(r.header("Connection")).isEqualTo("close");
        assertThat(r.text()).startsWith("400 Bad Request: ").doesNotContain("\n").doesNotContain("<");
        assertThat(served).isZero();
    }

    @Test
    void aHeadOverOneMegabyteIs431() {
        RawHttp.Outcome o = send("GET /x HTTP/1.1\r\nHost: x\r\nX-Big: " + "v".repeat(StrictHttpFront.MAX_HEAD_BYTES) + "\r\n\r\n");
        assertThat(o).isInstanceOf(RawHttp.Reply.class);
        assertThat(((RawHttp.Reply) o).status()).isEqualTo(431);
        assertThat(served).isZero();
    }

    @Test
    void aHeadCutShortIsClosedWithoutAnswerAndNeverPassedOn() {
        assertThat(send("POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n")).isInstanceOf(RawHttp.Closed.class);
        assertThat(send("GET /x HTTP/1.1\r\nHost")).isInstanceOf(RawHttp.Closed.class);
        assertThat(served).isZero();
    }

    @Test
    void whatGoTakesIsServed() throws Exception {
        // bare LF line ends, OWS around values, a Host of any allowed bytes, HTTP/1.0 without Host, raw high bytes,
        // characters java.net.URI refuses and a bad escape in the query
        assertThat(reply(send("GET /x HTTP/1.1\nHost: [::1]:80\nX-A: \t v \t\n\n"))).startsWith("200 GET 0 ");
        assertThat(reply(send("GET /x HTTP/1.0\r\n\r\n"))).startsWith("200 GET 0 ");
        assertThat(reply(send("GET /\u00ff|{}^`\"<>\\#[]?a=%zz|# HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"))).startsWith("200 GET 0 ");
        assertThat(reply(send("POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc")))
                .isEqualTo("200 POST 3 " + sha("abc".getBytes(StandardCharsets.US_ASCII)) + " upgrade=null");
    }

    @Test
    void aPostWithoutContentLengthHasAnEmptyBody() throws Exception {
        assertThat(reply(send("POST /x HTTP/1.1\r\nHost: x\r\n\r\n"))).isEqualTo("200 POST 0 " + sha(new byte[0]) + " upgrade=null");
    }

    @Test
    void keepAliveAndPipelinedRequestsShareOneConnection() throws Exception {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), front.port())) {
            s.setSoTimeout((int) DEADLINE.toMillis());
            OutputStream out = s.getOutputStream();
            InputStream in = s.getInputStream();
            out.write("POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\na".getBytes(StandardCharsets.US_ASCII));
            assertThat(readReply(in)).startsWith("200 POST 1 ");
            out.write("POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nab".getBytes(StandardCharsets.US_ASCII));
            assertThat(readReply(in)).startsWith("200 POST 2 ");
            // pipelined: three at once, the last one refused after the first two are answered
            out.write(("GET /x HTTP/1.1\r\nHost: x\r\n\r\nPOST /x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                    + "3\r\nabc\r\n0\r\n\r\nGET /x HTTP/1.1\r\nHost: x\r\nBad\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            assertThat(readReply(in)).startsWith("200 GET 0 ");
            assertThat(readReply(in)).isEqualTo("200 POST 3 " + sha("abc".getBytes(StandardCharsets.US_ASCII)) + " upgrade=null");
            assertThat(readReply(in)).isEqualTo("400 400 Bad Request: malformed header line");
            assertThat(in.read()).isEqualTo(-1);
        }
        assertThat(served).isEqualTo(4);
    }

    @Test
    void chunkedBodiesArriveIntactWithoutExtensionsAndTrailers() throws Exception {
        String body = "0123456789abcdefghij";
        String chunked = "5;name=value\r\n01234\r\nF \r\n56789abcdefghij\r\n0\r\nX-Trailer: t\r\n\r\n";
        assertThat(reply(send("POST /x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: Chunked\r\n\r\n" + chunked)))
                .isEqualTo("200 POST 20 " + sha(body.getBytes(StandardCharsets.US_ASCII)) + " upgrade=null");
    }

    @Test
    void chunkSizeLinesAreLimitedEachNotTogether() throws Exception {
        String chunked = "1\r\nx\r\n".repeat(600_000) + "0\r\n\r\n"; // 1.2 MB of size lines
        assertThat(reply(send("POST /x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked)))
                .isEqualTo("200 POST 600000 " + sha("x".repeat(600_000).getBytes(StandardCharsets.US_ASCII)) + " upgrade=null");
    }

    @ParameterizedTest
    @ValueSource(strings = {"zz\r\nabc\r\n0\r\n\r\n", "-1\r\nabc\r\n0\r\n\r\n", " 3\r\nabc\r\n0\r\n\r\n", "3 3\r\nabc\r\n0\r\n\r\n",
        "ffffffffffffffffffff\r\nabc\r\n0\r\n\r\n", "3\r\nabcd\r\n0\r\n\r\n", "3\r\nabc\r\n0\r\nbad trailer\r\n\r\n",
        "3\r\nabc\r\n", "7fffffffffffffff\r\nabc", "", "3\r\nab", "3\r\nabc\r\n0\r\n", "3\r\nabc\r\n0\r\nX: y\r\n"})
    void aBrokenOrCutChunkedBodyNeverArrivesWhole(String chunked) {
        RawHttp.Outcome o = send("POST /x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked);
        assertThat(o instanceof RawHttp.Closed || o instanceof RawHttp.Reply r && r.status() == 400).as(o.toString()).isTrue();
    }

    @Test
    void aChunkCutShortIsNotPassedOnInPart() {
        RawHttp.Outcome o = send("POST /peek HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nffff\r\nabc");
        assertThat(o instanceof RawHttp.Closed || o instanceof RawHttp.Reply r && r.status() == 400).as(o.toString()).isTrue();
    }

    @Test
    void aBodyCutShortArrivesCutShort() {
        RawHttp.Outcome o = send("POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 50\r\n\r\nabc");
        assertThat(o instanceof RawHttp.Closed || o instanceof RawHttp.Reply r && r.status() == 400).as(o.toString()).isTrue();
    }

    @Test
    void aFiftyMegabyteBodyArrivesIntact() throws Exception {
        byte[] body = new byte[50 << 20];
        new Random(15).nextBytes(body);
        byte[] head = ("POST /api/upload_code HTTP/1.1\r\nHost: x\r\nContent-Length: " + body.length + "\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII);
        byte[] request = new byte[head.length + body.length];
        System.arraycopy(head, 0, request, 0, head.length);
        System.arraycopy(body, 0, request, head.length, body.length);
        assertThat(reply(send(request))).isEqualTo("200 POST " + body.length + " " + sha(body) + " upgrade=null");
    }

    @Test
    void onlyAValidWebSocketUpgradeOfLogsWsKeepsItsUpgradeHeader() {
        String key = "dGhlIHNhbXBsZSBub25jZQ==";
        assertThat(reply(send("GET /logs_ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Key: " + key + "\r\nSec-WebSocket-Version: 13\r\n\r\n"))).endsWith("upgrade=websocket");
        assertThat(reply(send("GET /logs_ws HTTP/1.1\r\nHost: x\r\nUpgrade: WebSocket, foo\r\nConnection: keep-alive, Upgrade\r\n"
                + "Sec-WebSocket-Key: " + key + "\r\nSec-WebSocket-Version: 13\r\n\r\n"))).endsWith("upgrade=websocket");
        assertThat(reply(send("GET /other HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Key: short\r\nSec-WebSocket-Version: 13\r\n\r\n"))).endsWith("upgrade=null");
        assertThat(reply(send("GET /logs_ws HTTP/1.1\r\nHost: x\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n\r\n"))).endsWith("upgrade=null");
    }

    @Test
    void stopClosesThePublicSocket() {
        int port = front.port();
        front.stop();
        Executable connect = () -> new Socket(InetAddress.getLoopbackAddress(), port).close();
        org.junit.jupiter.api.Assertions.assertThrows(ConnectException.class, connect);
    }

    private static String reply(RawHttp.Outcome o) {
        assertThat(o).isInstanceOf(RawHttp.Reply.class);
        RawHttp.Reply r = (RawHttp.Reply) o;
        return r.status() + " " + r.text();
    }

    /** One reply with a Content-Length body: "status body". */
    private static String readReply(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        while (!head.toString(StandardCharsets.ISO_8859_1).endsWith("\r\n\r\n")) {
            int b = in.read();
            if (b < 0) {
                return "eof after " + head.toString(StandardCharsets.ISO_8859_1);
            }
            head.write(b);
        }
        String[] lines = head.toString(StandardCharsets.ISO_8859_1).split("\r\n");
        int length = 0;
        for (String line : lines) {
            if (line.regionMatches(true, 0, "Content-Length:", 0, 15)) {
                length = Integer.parseInt(line.substring(15).strip());
            }
        }
        return lines[0].split(" ")[1] + " " + new String(in.readNBytes(length), StandardCharsets.UTF_8);
    }
}
