package ai.dstack.runner.api;

import ai.dstack.runner.hooks.MetricsSource;
import ai.dstack.runner.job.Executor;
import ai.dstack.runner.job.Submission;
import ai.dstack.runner.logs.EventLog;
import ai.dstack.runner.logs.JobStateEvent;
import ai.dstack.runner.logs.LogBook;
import com.fasterxml.jackson.core.JsonGenerator;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The runner's HTTP API (docs/runner.md §2). Handlers only translate between HTTP and the executor
 * or the log book.
 * <pre>
 * curl localhost:10999/api/healthcheck
 * curl -X POST -H 'Content-Type: application/json' -d @submit.json localhost:10999/api/submit
 * curl -X POST --data-binary @code.tar localhost:10999/api/upload_code
 * curl -X POST -F archive=@files.tar localhost:10999/api/upload_archive
 * curl -X POST localhost:10999/api/run
 * curl 'localhost:10999/api/pull?timestamp=0'
 * curl -X POST localhost:10999/api/stop
 * curl localhost:10999/api/metrics
 * websocat 'ws://localhost:10999/logs_ws?start_time=2026-01-01T00:00:00Z'   (LogsWebSocket)
 * </pre>
 */
final class RunnerApi {
    private static final String JSON = "application/json";

    private final Executor executor;
    private final LogBook book;
    private final MetricsSource metrics;
    private final long submitMaxBytes;
    private final long pullMaxBytes;
    private final byte[] healthcheck;

    RunnerApi(String version, Executor executor, LogBook book, MetricsSource metrics, long submitMaxBytes,
              long pullMaxBytes) {
        this.executor = executor;
        this.book = book;
        this.metrics = metrics;
        this.submitMaxBytes = submitMaxBytes;
        this.pullMaxBytes = pullMaxBytes;
        // built by hand: the first healthcheck answers before Jackson is even loaded
        this.healthcheck = ("{\"service\":\"dstack-runner\",\"version\":\""
                + version.replace("\\", "\\\\").replace("\"", "\\\"") + "\"}\n").getBytes(StandardCharsets.UTF_8);
    }

    /** The API's routes; {@code /logs_ws} is the websocket's own. */
    void routing(Routes routes, Routes.Handler logsWebSocket) {
        routes.get("/api/healthcheck", this::healthcheck)
                .get("/api/metrics", this::metrics)
                .post("/api/submit", this::submit)
                .post("/api/upload_archive", this::uploadArchive)
                .post("/api/upload_code", this::uploadCode)
                .post("/api/run", this::run)
                .get("/api/pull", this::pull)
                .post("/api/stop", this::stop)
                .get("/logs_ws", logsWebSocket);
    }

    private static void ok(Call call) throws IOException {
        call.text(200, "");
    }

    private static void json(Call call, Object body) throws IOException {
        byte[] bytes = Json.MAPPER.writeValueAsBytes(body);
        byte[] withNewline = Arrays.copyOf(bytes, bytes.length + 1);
        withNewline[bytes.length] = '\n';
        call.bytes(200, JSON, withNewline);
    }

    private void healthcheck(Call call) throws IOException {
        call.bytes(200, JSON, healthcheck);
    }

    private void metrics(Call call) throws IOException {
        Optional<Object> sample;
        try {
            sample = metrics.sample();
        } catch (Exception e) {
            call.text(500, e.getMessage() == null ? e.toString() : e.getMessage());
            return;
        }
        if (sample.isEmpty()) {
            call.text(404, "Metrics collector is not available");
            return;
        }
        json(call, sample.get());
    }

    private void submit(Call call) throws IOException {
        try {
            executor.require(Executor.State.WAIT_SUBMIT, Executor.State.WAIT_RUN);
        } catch (Executor.Conflict e) {
            call.text(409, "Conflict");
            return;
        }
        String contentType = call.header("Content-Type");
        if (contentType != null && !mediaType(contentType).equals("application/json")) {
            call.text(415, "Content-Type header is not application/json");
            return;
        }
        byte[] body;
        try {
            body = call.bodyAtMost(submitMaxBytes);
        } catch (Call.TooLarge e) {
            call.text(413, "Request body must not be larger than 1MB");
            return;
        }
        if (body.length == 0) {
            call.text(400, "Request body must not be empty");
            return;
        }
        Submission submission;
        try {
            submission = Json.MAPPER.readValue(body, Submission.class);
        } catch (IOException e) {
            call.text(400, "Request body contains badly-formed JSON: " + firstLine(e.getMessage()));
            return;
        }
        if (submission == null) {
            call.text(400, "Request body must be a JSON object");
            return;
        }
        try {
            executor.submit(submission);
        } catch (Executor.Conflict e) {
            call.text(409, "Conflict");
            return;
        }
        ok(call);
    }

    private static String mediaType(String contentType) {
        int semi = contentType.indexOf(';');
        return (semi < 0 ? contentType : contentType.substring(0, semi)).trim().toLowerCase(java.util.Locale.ROOT);
    }

    private static String firstLine(String message) {
        if (message == null) {
            return "";
        }
        int nl = message.indexOf('\n');
        return nl < 0 ? message : message.substring(0, nl);
    }

    private void uploadArchive(Call call) throws IOException {
        try {
            executor.require(Executor.State.WAIT_RUN);
            Multipart form = Multipart.open(call.header("Content-Type"), call.body());
            Multipart.Part part = form.next();
            if (part == null) {
                throw new Multipart.BadForm(400, "empty form");
            }
            if (part.name().isEmpty()) {
                throw new Multipart.BadForm(400, "missing field name");
            }
            if (!part.name().equals("archive")) {
                throw new Multipart.BadForm(400, "unexpected field " + part.name());
            }
            String id = baseName(part.filename());
            if (id.isEmpty()) {
                throw new Multipart.BadForm(400, "missing file name");
            }
            executor.receiveArchive(id, part.content());
            if (form.next() != null) {
                throw new Multipart.BadForm(400, "extra form field(s)");
            }
            ok(call);
        } catch (Executor.Conflict e) {
            call.text(409, "Conflict");
        } catch (Multipart.BadForm e) {
            call.text(e.status, e.status == 500 ? "" : e.getMessage());
        }
    }

    private static String baseName(String filename) {
        String name = filename.replace('\\', '/');
        name = name.substring(name.lastIndexOf('/') + 1);
        return name.equals(".") || name.equals("..") ? "" : name;
    }

    private void uploadCode(Call call) throws IOException {
        try {
            executor.require(Executor.State.WAIT_RUN);
            executor.receiveCode(call.body());
            ok(call);
        } catch (Executor.Conflict e) {
            call.text(409, "Conflict");
        }
    }

    private void run(Call call) throws IOException {
        Optional<Executor.RunInfo> info;
        try {
            info = executor.run();
        } catch (Executor.Conflict e) {
            call.text(409, "Conflict");
            return;
        }
        if (info.isEmpty()) {
            ok(call);
            return;
        }
        Map<String, String> body = new LinkedHashMap<>();
        body.put("working_dir", info.get().workingDir());
        body.put("username", info.get().username());
        json(call, body);
    }

    private void pull(Call call) throws IOException, Call.BadRequest {
        long after = 0;
        String timestamp = call.query("timestamp");
        if (timestamp != null) {
            try {
                after = Long.parseLong(timestamp);
            } catch (NumberFormatException e) {
                call.text(400, "Bad Request");
                return;
            }
        }
        LogBook.Page page = book.pull(after, pullMaxBytes);
        // streamed: a page of logs is never held twice in memory
        try (OutputStream out = call.stream(JSON); JsonGenerator g = Json.MAPPER.getFactory().createGenerator(out)) {
            g.writeStartObject();
            g.writeArrayFieldStart("job_states");
            for (JobStateEvent s : page.jobStates()) {
                g.writeStartObject();
                g.writeStringField("state", s.state());
                g.writeNumberField("timestamp", s.timestamp());
                g.writeStringField("termination_reason", s.terminationReason());
                g.writeStringField("termination_message", s.terminationMessage());
                g.writeFieldName("exit_status");
                if (s.exitStatus() == null) {
                    g.writeNull();
                } else {
                    g.writeNumber(s.exitStatus());
                }
                g.writeEndObject();
            }
            g.writeEndArray();
            writeEvents(g, "job_logs", page.jobLogs());
            writeEvents(g, "runner_logs", page.runnerLogs());
            g.writeNumberField("last_updated", page.lastUpdated());
            g.writeNumberField("no_connections_secs", page.noConnectionsSecs());
            g.writeBooleanField("has_more", page.hasMore());
            g.writeEndObject();
            g.writeRaw('\n');
        }
    }

    private static void writeEvents(JsonGenerator g, String field, java.util.List<EventLog.Event> events)
            throws IOException {
        g.writeArrayFieldStart(field);
        for (EventLog.Event e : events) {
            g.writeStartObject();
            g.writeFieldName("message");
            g.writeBinary(e.message());
            g.writeNumberField("timestamp", e.timestamp());
            g.writeEndObject();
        }
        g.writeEndArray();
    }

    private void stop(Call call) throws IOException {
        ok(call); // answered first: a stop after the job lets the runner exit at once
        executor.stop();
    }
}
