package ai.dstack.runner.it;

import static org.assertj.core.api.Assertions.assertThat;

import ai.dstack.agent.testing.ApiClient;
import ai.dstack.agent.testing.LocalImages;
import ai.dstack.agent.testing.RunnerContainer;
import ai.dstack.agent.testing.fuzz.FuzzRun;
import ai.dstack.agent.testing.fuzz.JsonBody;
import ai.dstack.agent.testing.fuzz.RawHttp;
import ai.dstack.agent.testing.fuzz.Requests;
import ai.dstack.agent.testing.fuzz.RunnerFuzz;
import ai.dstack.agent.testing.fuzz.Tars;
import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Hostile and broken input against a real runner in a task container (docs/api-errors.md): a few
 * thousand deterministic raw-socket requests while the runner waits for its run, each judged by its
 * family's oracle; then the runner must still answer, still take code after whatever odd submission it
 * accepted last, and run a job whose file archives and code are hostile tars without anything landing
 * outside their destinations, no setuid/setgid file and no device node. {@code -Dfuzz.only=1234}
 * replays single cases, {@code -Dfuzz.count} and {@code -Dfuzz.seed} change the run.
 */
class RunnerFuzzIT {
    private static final Duration DEADLINE = Duration.ofSeconds(30);

    @Test
    void malformedRequestsGetA4xxAndTheRunnerStillTakesCodeAndRuns() throws Exception {
        long seed = Long.getLong("fuzz.seed", RunnerFuzz.DEFAULT_SEED);
        List<Integer> indices = FuzzRun.selected(2500);
        try (RunnerContainer c = RunnerContainer.start(LocalImages.BASE, Map.of())) {
            int port = c.hostPort(RunnerContainer.HTTP_PORT);
            ApiClient api = new ApiClient(port);
            new RunnerClient(c.baseUrl()).awaitHealthy();
            assertThat(submit(port, RunnerFuzz.submitBody(-1))).as("first submit").isEqualTo(200);
            long rssBefore = rss(c);
            FuzzRun.Result result = FuzzRun.run(port, new RunnerFuzz(seed)::at, indices, DEADLINE);
            long rssAfter = rss(c);

            System.out.println(result.report("runner", seed, rssBefore, rssAfter));

            assertThat(c.running()).as("the runner survived the run").isTrue();
            assertThat(api.get("/api/healthcheck").status()).isEqualTo(200);
            // Whatever odd submission was accepted last, code is still taken (empty code too).
            assertThat(api.send("POST", "/api/upload_code", Map.of(), new byte[0]).status()).as("upload_code after the run").isEqualTo(200);

            // A job whose archives and code are hostile: it runs, and nothing escapes.
            List<String> archives = new ArrayList<>();
            for (int k = 0; k < 12; k++) {
                byte[] form = RunnerFuzz.multipart("edge", "archive", "final-" + k, Tars.hostile(k));
                RawHttp.Outcome o = RawHttp.exchange(port, Requests.of("POST", "/api/upload_archive")
                        .header("Content-Type", "multipart/form-data; boundary=edge").body(form).bytes(), DEADLINE);
                assertThat(o).as("upload of hostile archive " + k).isInstanceOf(RawHttp.Reply.class);
                assertThat(((RawHttp.Reply) o).status()).as("upload of hostile archive " + k).isEqualTo(200);
                archives.add("{\"id\":\"final-" + k + "\",\"path\":\"/tmp/fuzz-dest/d" + k + "\"}");
            }
            JsonBody job = RunnerFuzz.submitBody(-2).remove("job_spec").raw("job_spec",
                    "{\"commands\":[\"/bin/sh\",\"-c\",\"echo fuzz-done\"],\"repo_dir\":\"/tmp/fuzz-repo\","
                            + "\"repo_data\":{\"repo_type\":\"virtual\"},\"file_archives\":[" + String.join(",", archives) + "]}");
            assertThat(submit(port, job)).as("final submit").isEqualTo(200);
            assertThat(api.send("POST", "/api/upload_code", Map.of(), Tars.hostile(2)).status()).isEqualTo(200);
            assertThat(api.send("POST", "/api/run", Map.of(), new byte[0]).status()).as("run").isEqualTo(200);
            String state = finalState(api);
            assertThat(state).as("the job's end (runner log: " + c.logs() + ")").isEqualTo("done");
            // Hostile entries may leave harmless files inside their destination (a skipped symlink's path as a
            // plain directory); anything named fuzz-escape elsewhere got out.
            String escaped = c.exec("find / -xdev -name 'fuzz-escape*' -not -path '/tmp/fuzz-dest/*' -not -path '/tmp/fuzz-repo/*'"
                    + " 2>/dev/null; grep -l fuzz-escape /etc/passwd 2>/dev/null; true");
            assertThat(escaped.strip()).as("files written outside their destination").isEmpty();
            String dangerous = c.exec("find /tmp/fuzz-dest /tmp/fuzz-repo \\( -perm /6000 -o -type b -o -type c -o -type p \\) 2>/dev/null; true");
            assertThat(dangerous.strip()).as("setuid/setgid files and device nodes from tars").isEmpty();
            assertThat(result.failures()).as(result.summary()).isEmpty();
        }
    }

    private static int submit(int port, JsonBody body) {
        RawHttp.Outcome o = RawHttp.exchange(port, Requests.of("POST", "/api/submit").header("Content-Type", "application/json")
                .body(body.bytes()).bytes(), DEADLINE);
        return o instanceof RawHttp.Reply r ? r.status() : -1;
    }

    private static String finalState(ApiClient api) throws InterruptedException {
        long until = System.nanoTime() + Duration.ofSeconds(90).toNanos();
        while (System.nanoTime() < until) {
            JsonNode pull = api.get("/api/pull?timestamp=0").json();
            for (JsonNode s : pull.path("job_states")) {
                String state = s.path("state").asText();
                if (List.of("done", "failed", "terminated").contains(state)) {
                    return state + (state.equals("done") ? "" : " " + s.path("termination_reason").asText() + " "
                            + s.path("termination_message").asText());
                }
            }
            Thread.sleep(200);
        }
        return "no final state within 90 s";
    }

    /** The runner JVM's resident memory inside the container, in MiB. */
    private static long rss(RunnerContainer c) {
        if (!c.running()) {
            return -1;
        }
        String out = c.exec("for p in /proc/[0-9]*; do if tr '\\0' ' ' < $p/cmdline 2>/dev/null | grep -q 'dstack-runner.*java\\|java.*ai.dstack.runner'; then "
                + "sed -n 's/^VmRSS:[[:space:]]*\\([0-9]*\\).*/\\1/p' $p/status; fi; done");
        long max = -1;
        for (String line : out.split("\\s+")) {
            if (line.matches("[0-9]+")) {
                max = Math.max(max, Long.parseLong(line) / 1024);
            }
        }
        return max;
    }
}
