package ai.dstack.runner.it;

import static org.assertj.core.api.Assertions.assertThat;

import ai.dstack.agent.testing.LocalImages;
import ai.dstack.agent.testing.RunnerContainer;
import ai.dstack.agent.testing.fuzz.RawHttp;
import ai.dstack.agent.testing.fuzz.Requests;
import ai.dstack.agent.testing.fuzz.RunnerFuzz;
import ai.dstack.agent.testing.fuzz.Tars;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * One check per kind of malformed request the fuzz test (RunnerFuzzIT) found answered wrongly by a
 * real runner (docs/api-errors.md): each is a 4xx, and none of them starts, stops or half-stores
 * anything — the runner still takes a submit, code and a run afterwards.
 */
class MalformedRunnerRequestsIT {
    private static RawHttp.Reply send(int port, byte[] request) {
        RawHttp.Outcome o = RawHttp.exchange(port, request, Duration.ofSeconds(30));
        assertThat(o).isInstanceOf(RawHttp.Reply.class);
        return (RawHttp.Reply) o;
    }

    private static RawHttp.Reply send(int port, String request) {
        return send(port, request.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void malformedRequestsAre400AndChangeNothing() {
        try (RunnerContainer c = RunnerContainer.start(LocalImages.BUSYBOX, Map.of())) {
            int port = c.hostPort(RunnerContainer.HTTP_PORT);
            new RunnerClient(c.baseUrl()).awaitHealthy();
            byte[] submit = Requests.of("POST", "/api/submit").header("Content-Type", "application/json")
                    .body(RunnerFuzz.submitBody(1).bytes()).bytes();
            assertThat(send(port, submit).status()).isEqualTo(200);

            // the server took these as HTTP/1.1 and ran or stopped the job
            assertThat(send(port, "POST /api/run HTTP/1.1 extra\r\nHost: x\r\nContent-Length: 0\r\n\r\n").status()).isEqualTo(400);
            assertThat(send(port, "POST /api/stop HTTP/1.1\r\nContent-Length: 0\r\n\r\n").status()).isEqualTo(400);
            assertThat(send(port, "post /api/run HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n").status()).isEqualTo(405);

            // bodies that break off: 400, not 500
            RawHttp.Reply cut = send(port, "POST /api/upload_code HTTP/1.1\r\nHost: x\r\nContent-Length: 50\r\n\r\nabc");
            assertThat(cut.status()).isEqualTo(400);
            assertThat(cut.text()).isEqualTo("Request body could not be read to its end\n");

            // a chunked upload cut short is not kept as a whole archive
            byte[] form = RunnerFuzz.multipart("b", "archive", "cut.tar", Tars.create().file("f", 0644, "x").bytes());
            byte[] chunked = Requests.chunked(form, 100);
            RawHttp.Outcome o = RawHttp.exchange(port, Requests.of("POST", "/api/upload_archive").noContentLength()
                    .header("Content-Type", "multipart/form-data; boundary=b").header("Transfer-Encoding", "chunked")
                    .body(Arrays.copyOf(chunked, chunked.length - 30)).bytes(), Duration.ofSeconds(30));
            assertThat(o instanceof RawHttp.Closed || (o instanceof RawHttp.Reply r && r.status() == 400)).as(o.toString()).isTrue();
            assertThat(c.exec("ls /tmp/runner/file_archives 2>/dev/null; true").strip()).isEmpty();

            // Go's strconv takes ASCII digits only
            assertThat(send(port, "GET /api/pull?timestamp=%D9%A1%D9%A2%D9%A3 HTTP/1.1\r\nHost: x\r\n\r\n").status()).isEqualTo(400);

            // a repo id that names no file is refused at submit, naming the field
            byte[] odd = Requests.of("POST", "/api/submit").header("Content-Type", "application/json").body(RunnerFuzz.submitBody(2)
                    .remove("run").raw("run", "{\"run_spec\":{\"repo_id\":\"..\"}}").bytes()).bytes();
            RawHttp.Reply refused = send(port, odd);
            assertThat(refused.status()).isEqualTo(400);
            assertThat(refused.text()).contains("run.run_spec.repo_id");

            // and the runner still takes code and runs
            assertThat(send(port, "POST /api/upload_code HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n").status()).isEqualTo(200);
            assertThat(send(port, "POST /api/run HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n").status()).isEqualTo(200);
        }
    }
}
