package ai.dstack.runner.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Drives a runner's HTTP API the way the dstack server does (docs/runner.md §10). */
final class RunnerClient {
    static final ObjectMapper JSON = new ObjectMapper();
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final String base;

    RunnerClient(String base) {
        this.base = base;
    }

    /** Status and body of one call. */
    record Reply(int status, String contentType, String body) {
        JsonNode json() {
            try {
                return JSON.readTree(body);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    Reply send(String method, String path, String contentType, byte[] body) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(30))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofByteArray(body));
        if (contentType != null) {
            b.header("Content-Type", contentType);
        }
        try {
            HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
            return new Reply(r.statusCode(), r.headers().firstValue("Content-Type").orElse(""), r.body());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    Reply get(String path) {
        return send("GET", path, null, null);
    }

    Reply post(String path) {
        return send("POST", path, null, null);
    }

    /** Polls healthcheck until it answers 200 (the container may still be starting). */
    Reply awaitHealthy() {
        long deadline = System.currentTimeMillis() + 60_000;
        while (true) {
            try {
                Reply r = get("/api/healthcheck");
                if (r.status() == 200) {
                    return r;
                }
            } catch (UncheckedIOException e) {
                if (System.currentTimeMillis() > deadline) {
                    throw e;
                }
            }
            sleep(50);
        }
    }

    Reply submit(Map<String, Object> body) {
        try {
            return send("POST", "/api/submit", "application/json", JSON.writeValueAsBytes(body));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    Reply uploadCode(byte[] tar) {
        return send("POST", "/api/upload_code", "application/octet-stream", tar);
    }

    Reply uploadArchive(String id, byte[] tar) {
        String boundary = "b0undary42";
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(("--" + boundary + "\r\nContent-Disposition: form-data; name=\"archive\"; filename=\"" + id
                + "\"\r\nContent-Type: application/octet-stream\r\n\r\n").getBytes(StandardCharsets.UTF_8));
        out.writeBytes(tar);
        out.writeBytes(("\r\n--" + boundary + "--\r\n").getBytes(StandardCharsets.UTF_8));
        return send("POST", "/api/upload_archive", "multipart/form-data; boundary=" + boundary, out.toByteArray());
    }

    /** Everything pulled until {@code has_more} was false. */
    record Pulled(List<JsonNode> states, String jobLogs, String runnerLogs, int pulls) {
        JsonNode last() {
            return states.getLast();
        }
    }

    /** Pulls like the server (timestamp = previous last_updated) until has_more is false. */
    Pulled pullToEnd() {
        return pullToEnd(new StringBuilderSink());
    }

    /** Where decoded job logs go (tests with huge logs hash them instead of keeping them). */
    interface Sink {
        void accept(byte[] bytes);

        String text();
    }

    static final class StringBuilderSink implements Sink {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();

        @Override
        public void accept(byte[] bytes) {
            out.writeBytes(bytes);
        }

        @Override
        public String text() {
            return out.toString(StandardCharsets.UTF_8);
        }
    }

    Pulled pullToEnd(Sink jobLogs) {
        List<JsonNode> states = new ArrayList<>();
        StringBuilder runner = new StringBuilder();
        long ts = 0;
        int pulls = 0;
        long deadline = System.currentTimeMillis() + 240_000;
        while (true) {
            Reply r = get("/api/pull?timestamp=" + ts);
            pulls++;
            if (r.status() != 200) {
                throw new AssertionError("pull answered " + r.status() + ": " + r.body());
            }
            JsonNode page = r.json();
            page.get("job_states").forEach(states::add);
            page.get("job_logs").forEach(e -> jobLogs.accept(Base64.getDecoder().decode(e.get("message").asText())));
            page.get("runner_logs").forEach(e -> runner.append(
                    new String(Base64.getDecoder().decode(e.get("message").asText()), StandardCharsets.UTF_8)));
            long next = page.get("last_updated").asLong();
            if (next < ts) {
                throw new AssertionError("last_updated went back from " + ts + " to " + next);
            }
            ts = next;
            if (!page.get("has_more").asBoolean()) {
                return new Pulled(states, jobLogs.text(), runner.toString(), pulls);
            }
            if (System.currentTimeMillis() > deadline) {
                throw new AssertionError("the job did not finish; states so far: " + states);
            }
            if (page.get("job_logs").isEmpty() && page.get("job_states").isEmpty()) {
                sleep(100);
            }
        }
    }

    /** Pulls until a state event named {@code state} arrives; returns everything seen. */
    List<JsonNode> awaitState(String state) {
        List<JsonNode> states = new ArrayList<>();
        long ts = 0;
        long deadline = System.currentTimeMillis() + 60_000;
        while (System.currentTimeMillis() < deadline) {
            JsonNode page = get("/api/pull?timestamp=" + ts).json();
            page.get("job_states").forEach(states::add);
            ts = page.get("last_updated").asLong();
            if (states.stream().anyMatch(s -> s.get("state").asText().equals(state))) {
                return states;
            }
            sleep(100);
        }
        throw new AssertionError("no " + state + " state; saw " + states);
    }

    static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** The server's order for one job: healthcheck, submit, the code if any, run, pull to the end. */
    Pulled runToEnd(Map<String, Object> body, byte[] code) {
        awaitHealthy();
        org.assertj.core.api.Assertions.assertThat(submit(body).status()).isEqualTo(200);
        if (code != null) {
            org.assertj.core.api.Assertions.assertThat(uploadCode(code).status()).isEqualTo(200);
        }
        org.assertj.core.api.Assertions.assertThat(post("/api/run").status()).isEqualTo(200);
        return pullToEnd();
    }

    /** A minimal submit body for a job running {@code commands}, as the server builds it. */
    static Map<String, Object> job(List<String> commands) {
        Map<String, Object> repoData = Map.of("repo_type", "virtual");
        Map<String, Object> jobSpec = new LinkedHashMap<>();
        jobSpec.put("job_num", 0);
        jobSpec.put("jobs_per_replica", 1);
        jobSpec.put("user", null);
        jobSpec.put("commands", commands);
        jobSpec.put("env", Map.of("GREETING", "hi there"));
        jobSpec.put("max_duration", null);
        jobSpec.put("working_dir", null);
        jobSpec.put("repo_dir", "/workflow");
        jobSpec.put("repo_data", repoData);
        jobSpec.put("repo_exists_action", null);
        jobSpec.put("file_archives", List.of());
        jobSpec.put("replica_num", 0); // extra fields the runner must ignore
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("run", Map.of("id", "0b9f3c52-6d0e-4c1e-9a57-3f1f2b7d9e01",
                "run_spec", Map.of("run_name", "quiet-fox-1", "repo_id", "none", "repo_data", repoData,
                        "configuration", Map.of("type", "task", "image", "x"))));
        body.put("job_spec", jobSpec);
        body.put("job_submission", Map.of("id", "6a2d8e14-0c55-4b7a-8f0e-2d41c9b5a7f3"));
        body.put("cluster_info", Map.of("job_ips", List.of("10.0.0.5"), "master_job_ip", "10.0.0.5",
                "gpus_per_job", 0, "gpus_per_node", List.of(0)));
        body.put("secrets", Map.of("SECRET_TOKEN", "s3cret"));
        body.put("repo_credentials", null);
        body.put("log_quota_hour", 52428800);
        return body;
    }

    /** {@code ["/bin/sh", "-c", script]} */
    static Map<String, Object> shellJob(String script) {
        return job(List.of("/bin/sh", "-c", script));
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> spec(Map<String, Object> body) {
        return (Map<String, Object>) body.get("job_spec");
    }
}
