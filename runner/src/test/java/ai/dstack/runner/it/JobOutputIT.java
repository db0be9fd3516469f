package ai.dstack.runner.it;

import static org.assertj.core.api.Assertions.assertThat;

import ai.dstack.agent.testing.LocalImages;
import ai.dstack.agent.testing.RunnerContainer;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Job output at full speed: every line the job prints reaches the server once and in order, and
 * the runner keeps it on disk about once (docs/runner-logs.md).
 */
class JobOutputIT {
    private static final Map<String, String> ENV = Map.of(
            "DSTACK_RUNNER_LOGS_TIMEOUT_MS", "20000",
            "DSTACK_RUNNER_START_TIMEOUT_MS", "120000");
    private static final Set<String> TERMINAL = Set.of("done", "failed", "terminated");
    private static final String PAD = "x".repeat(100);

    /**
     * Numbered lines printed by awk as fast as the pty takes them;
     * every 1000th is coloured and every 1000th + 500 is a collapsing progress bar, so plain runs
     * and the renderer take turns mid-stream.
     */
    private static String job(int lines) {
        return "awk 'BEGIN { for (i = 1; i <= " + lines + "; i++) {"
                + " if (i % 1000 == 0) printf \"\\033[1m%09d bold\\033[0m\\n\", i;"
                + " else if (i % 1000 == 500) printf \"%09d 10%%\\r%09d 100%%\\n\", i, i;"
                + " else printf \"%09d " + PAD + "\\n\", i } }'";
    }

    private static String expected(int lines) {
        StringBuilder out = new StringBuilder();
        for (int i = 1; i <= lines; i++) {
            if (i % 1000 == 0) {
                out.append(String.format("%09d bold%n", i));
            } else if (i % 1000 == 500) {
                out.append(String.format("%09d 100%%%n", i));
            } else {
                out.append(String.format("%09d %s%n", i, PAD));
            }
        }
        return out.toString();
    }

    /** Submits and runs a shell job without a log quota. */
    private static RunnerClient run(RunnerContainer c, String script) {
        RunnerClient api = new RunnerClient(c.baseUrl());
        api.awaitHealthy();
        Map<String, Object> body = RunnerClient.shellJob(script);
        body.put("log_quota_hour", null);
        api.submit(body);
        api.post("/api/run");
        return api;
    }

    /** The server's loop: timestamp = previous last_updated, until a page ends in a terminal state. */
    private static String pullUntilTerminal(RunnerClient api, List<String> states) {
        ByteArrayOutputStream logs = new ByteArrayOutputStream();
        long ts = 0;
        long deadline = System.currentTimeMillis() + 240_000;
        while (System.currentTimeMillis() < deadline) {
            JsonNode page = api.get("/api/pull?timestamp=" + ts).json();
            page.get("job_logs").forEach(e -> logs.writeBytes(Base64.getDecoder().decode(e.get("message").asText())));
            page.get("job_states").forEach(s -> states.add(s.get("state").asText()));
            assertThat(page.get("last_updated").asLong()).isGreaterThanOrEqualTo(ts);
            ts = page.get("last_updated").asLong();
            JsonNode pageStates = page.get("job_states");
            if (!pageStates.isEmpty() && TERMINAL.contains(pageStates.get(pageStates.size() - 1).get("state").asText())) {
                return logs.toString(StandardCharsets.UTF_8);
            }
            if (page.get("job_logs").isEmpty()) {
                RunnerClient.sleep(100);
            }
        }
        throw new AssertionError("no terminal state; states so far: " + states);
    }

    @Test
    void numberedLinesWrittenAtFullSpeedArriveOnceAndInOrderByTheTerminalState() {
        int lines = 60_000;
        try (RunnerContainer c = RunnerContainer.start(LocalImages.BASE, ENV)) {
            RunnerClient api = run(c, job(lines));
            List<String> states = new ArrayList<>();
            String logs = pullUntilTerminal(api, states);
            assertThat(states).containsExactly("running", "done");
            assertThat(logs.length()).isEqualTo(expected(lines).length());
            assertThat(logs.equals(expected(lines))).as("job_logs are the rendered lines, none lost or repeated").isTrue();
        }
    }

    @Test
    void theJobsOutputIsKeptOnDiskAboutOnce() throws IOException {
        int lines = 20_000;
        try (RunnerContainer c = RunnerContainer.start(LocalImages.BASE, ENV)) {
            RunnerClient api = run(c, "awk 'BEGIN { for (i = 1; i <= " + lines
                    + "; i++) printf \"%09d " + PAD + "\\n\", i }'");
            pullUntilTerminal(api, new ArrayList<>());
            long output = lines * (9 + 1 + PAD.length() + 2L); // the pty turns LF into CR LF
            // read on the host: the runner may already have exited after the final pull
            Path runnerDir;
            try (Stream<Path> files = Files.walk(c.runnersDir())) {
                runnerDir = files.filter(p -> p.getFileName().toString().equals("job.log")).findFirst().orElseThrow().getParent();
            }
            long jobLog = Files.size(runnerDir.resolve("job.log"));
            long history;
            try (Stream<Path> files = Files.list(runnerDir.resolve("history"))) {
                history = files.mapToLong(p -> p.toFile().length()).sum();
            }
            assertThat(jobLog).as("job.log holds the raw output").isEqualTo(output);
            assertThat(history).as("history beside job.log: indexes and runner logs, no second copy")
                    .isLessThan(output / 20);
        }
    }
}
