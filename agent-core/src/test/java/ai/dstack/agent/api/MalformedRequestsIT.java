package ai.dstack.agent.api;

import static org.assertj.core.api.Assertions.assertThat;

import ai.dstack.agent.testing.ShimProcess;
import ai.dstack.agent.testing.fuzz.RawHttp;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * One test per kind of malformed HTTP the fuzz test (ShimFuzzIT) found answered wrongly: each gets a
 * 4xx with a one-line message from the real shim, and the shim is not shut down by a request that
 * only looks like a shutdown (docs/api-errors.md).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class MalformedRequestsIT {
    @TempDir
    static Path tmp;
    ShimProcess shim;

    @BeforeAll
    void start() throws Exception {
        shim = ShimProcess.builder(tmp).args("--plugins-dir", Files.createDirectories(tmp.resolve("no-plugins")).toString()).start();
    }

    @AfterAll
    void stop() {
        shim.close();
    }

    private RawHttp.Reply send(String head, byte[] body) {
        byte[] h = head.getBytes(StandardCharsets.ISO_8859_1);
        byte[] all = new byte[h.length + body.length];
        System.arraycopy(h, 0, all, 0, h.length);
        System.arraycopy(body, 0, all, h.length, body.length);
        RawHttp.Outcome o = RawHttp.exchange(shim.port(), all, Duration.ofSeconds(30));
        assertThat(o).as("a reply").isInstanceOf(RawHttp.Reply.class);
        return (RawHttp.Reply) o;
    }

    private RawHttp.Reply send(String head) {
        return send(head, new byte[0]);
    }

    private static void assertOneLine(RawHttp.Reply r, int status, String text) {
        assertThat(r.status()).as(r.toString()).isEqualTo(status);
        assertThat(r.text()).isEqualTo(text + "\n");
        assertThat(r.header("Content-Type")).isEqualTo("text/plain; charset=utf-8");
    }

    @Test
    void aBodyShorterThanItsContentLengthIs400() {
        RawHttp.Reply r = send("POST /api/tasks HTTP/1.1\r\nHost: x\r\nContent-Length: 50\r\n\r\n{\"id\":");
        assertOneLine(r, 400, "Request body could not be read to its end");
    }

    @Test
    void aChunkedBodyCutShortOrWithABadChunkSizeIs400() {
        assertOneLine(send("POST /api/shutdown HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n10\r\n{\"force\":"),
                400, "Request body could not be read to its end");
        assertOneLine(send("POST /api/shutdown HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n"),
                400, "Request body could not be read to its end");
        assertThat(shim.alive()).isTrue();
    }

    @Test
    void methodsAreCaseSensitive() {
        // Helidon alone would route "post" as POST: this one would shut the shim down.
        assertOneLine(send("post /api/shutdown HTTP/1.1\r\nHost: x\r\nContent-Length: 15\r\n\r\n{\"force\":false}"), 405, "Method Not Allowed");
        assertOneLine(send("gEt /api/tasks HTTP/1.1\r\nHost: x\r\n\r\n"), 405, "Method Not Allowed");
        assertThat(shim.alive()).isTrue();
        assertThat(send("GET /api/tasks HTTP/1.1\r\nHost: x\r\n\r\n").status()).isEqualTo(200);
    }

    @Test
    void aMethodThatIsNoTokenIs400NotA500() {
        assertOneLine(send("P\u0000ST /api/tasks HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}"), 400, "malformed HTTP request");
    }

    @Test
    void protocolErrorsHaveAOneLineMessage() {
        assertOneLine(send("GET /api/tasks HTTP/1.1\r\n\r\n"), 400, "malformed HTTP request");
        assertOneLine(send("GET /api/tasks HTTP/1.1\r\nHost: x\r\nX-A: a\r\n b\r\n\r\n"), 400, "malformed HTTP request");
        assertOneLine(send("GET /api/tasks/" + "a".repeat(70_000) + " HTTP/1.1\r\nHost: x\r\n\r\n"), 414, "request line too long");
        assertOneLine(send("GET /api/tasks HTTP/1.0\r\n\r\n"), 505, "HTTP version not supported");
    }

    @Test
    void aHeaderLineWithoutANameIs400() {
        assertOneLine(send("GET /api/components HTTP/1.1\r\nHost: x\r\n: no name\r\n\r\n"), 400, "malformed HTTP request");
    }

    @Test
    void aJsonBodyThatIsNotUtf8IsRefusedEvenWithAValidObjectInside() {
        // UTF-16 and a BOM: Jackson alone would decode them; Go refuses both. Either would shut the shim down here.
        byte[] utf16 = "{\"force\":false}".getBytes(StandardCharsets.UTF_16LE);
        assertThat(send("POST /api/shutdown HTTP/1.1\r\nHost: x\r\nContent-Length: " + utf16.length + "\r\n\r\n", utf16).status()).isEqualTo(400);
        byte[] bom = "\uFEFF{\"force\":false}".getBytes(StandardCharsets.UTF_8);
        assertThat(send("POST /api/shutdown HTTP/1.1\r\nHost: x\r\nContent-Length: " + bom.length + "\r\n\r\n", bom).status()).isEqualTo(400);
        assertThat(shim.alive()).isTrue();
    }

    @Test
    void messagesQuotingInputStayOneLine() {
        String body = "{\"id\":\"x\",\"name\":\"a\",\"image_name\":\"i\",\"network_mode\":\"a\\nb" + "c".repeat(5000) + "\"}";
        RawHttp.Reply r = send("POST /api/tasks HTTP/1.1\r\nHost: x\r\nContent-Length: " + body.length() + "\r\n\r\n",
                body.getBytes(StandardCharsets.UTF_8));
        assertThat(r.status()).isEqualTo(400);
        assertThat(r.text()).startsWith("invalid network_mode: a\\u000ab").endsWith(" characters)\n");
        assertThat(r.text().indexOf('\n')).isEqualTo(r.text().length() - 1);
    }
}
