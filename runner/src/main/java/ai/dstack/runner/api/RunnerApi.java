package ai.dstack.runner.api;

import ai.dstack.runner.hooks.MetricsSource;
import ai.dstack.runner.job.Executor;
import ai.dstack.runner.job.Submission;
import ai.dstack.runner.logs.EventLog;
import ai.dstack.runner.logs.JobStateEvent;
import ai.dstack.runner.logs.LogBook;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonProcessingException;
import io.helidon.http.HeaderNames;
import io.helidon.http.Method;
import io.helidon.http.PathMatchers;
import io.helidon.webserver.http.Handler;
import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.HttpService;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;

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
 * </pre>
 */
public final class RunnerApi implements HttpService {
    private static final String TEXT = "text/plain; charset=utf-8";
    private static final String JSON = "application/json";

    private final Executor executor;
    private final LogBook book;
    private final MetricsSource metrics;
    private final long submitMaxBytes;
    private final long pullMaxBytes;
    private final byte[] healthcheck;

    public RunnerApi(String version, Executor executor, LogBook book, MetricsSource metrics, long submitMaxBytes,
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

    @Override
    public void routing(HttpRules rules) {
        get(rules, "/api/healthcheck", this::healthcheck);
        get(rules, "/api/metrics", this::metrics);
        post(rules, "/api/submit", this::submit);
        post(rules, "/api/upload_archive", this::uploadArchive);
        post(rules, "/api/upload_code", this::uploadCode);
        post(rules, "/api/run", this::run);
        get(rules, "/api/pull", this::pull);
        post(rules, "/api/stop", this::stop);
        get(rules, "/logs_ws", (req, res) -> text(res, 400, "Bad Request"));
    }

    private static void get(HttpRules rules, String path, Handler handler) {
        rules.route(Method.predicate(Method.GET, Method.HEAD), PathMatchers.exact(path), handler);
        rules.any(path, (req, res) -> notAllowed(res, "GET, HEAD"));
    }

    private static void post(HttpRules rules, String path, Handler handler) {
        rules.route(Method.POST, path, handler);
        rules.any(path, (req, res) -> notAllowed(res, "POST"));
    }

    private static void notAllowed(ServerResponse res, String allow) {
        res.header(HeaderNames.ALLOW, allow);
        text(res, 405, "Method Not Allowed");
    }

    static void text(ServerResponse res, int status, String message) {
        res.status(status);
        res.header(HeaderNames.CONTENT_TYPE, TEXT);
        res.send((message + "\n").getBytes(StandardCharsets.UTF_8));
    }

    private static void ok(ServerResponse res) {
        text(res, 200, "");
    }

    private static void json(ServerResponse res, Object body) throws JsonProcessingException {
        res.status(200);
        res.header(HeaderNames.CONTENT_TYPE, JSON);
        byte[] bytes = Json.MAPPER.writeValueAsBytes(body);
        byte[] withNewline = java.util.Arrays.copyOf(bytes, bytes.length + 1);
        withNewline[bytes.length] = '\n';
        res.send(withNewline);
    }

    private void healthcheck(ServerRequest req, ServerResponse res) {
        res.status(200);
        res.header(HeaderNames.CONTENT_TYPE, JSON);
        res.send(healthcheck);
    }

    private void metrics(ServerRequest req, ServerResponse res) throws JsonProcessingException {
        Optional<Object> sample;
        try {
            sample = metrics.sample();
        } catch (Exception e) {
            text(res, 500, e.getMessage() == null ? e.toString() : e.getMessage());
            return;
        }
        if (sample.isEmpty()) {
            text(res, 404, "Metrics collector is not available");
            return;
        }
        json(res, sample.get());
    }

    private void submit(ServerRequest req, ServerResponse res) throws IOException {
        try {
            executor.require(Executor.State.WAIT_SUBMIT, Executor.State.WAIT_RUN);
        } catch (Executor.Conflict e) {
            text(res, 409, "Conflict");
            return;
        }
        Optional<String> contentType = req.headers().first(HeaderNames.CONTENT_TYPE);
        if (contentType.isPresent() && !mediaType(contentType.get()).equals("application/json")) {
            text(res, 415, "Content-Type header is not application/json");
            return;
        }
        byte[] body;
        try (InputStream in = req.content().inputStream()) {
            body = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, submitMaxBytes + 1));
        }
        if (body.length > submitMaxBytes) {
            text(res, 413, "Request body must not be larger than 1MB");
            return;
        }
        if (body.length == 0) {
            text(res, 400, "Request body must not be empty");
            return;
        }
        Submission submission;
        try {
            submission = Json.MAPPER.readValue(body, Submission.class);
        } catch (IOException e) {
            text(res, 400, "Request body contains badly-formed JSON: " + firstLine(e.getMessage()));
            return;
        }
        if (submission == null) {
            text(res, 400, "Request body must be a JSON object");
            return;
        }
        try {
            executor.submit(submission);
        } catch (Executor.Conflict e) {
            text(res, 409, "Conflict");
            return;
        }
        ok(res);
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

    private void uploadArchive(ServerRequest req, ServerResponse res) throws IOException {
        try {
            executor.require(Executor.State.WAIT_RUN);
            Multipart form = Multipart.open(req.headers().first(HeaderNames.CONTENT_TYPE).orElse(null),
                    req.content().inputStream());
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
            ok(res);
        } catch (Executor.Conflict e) {
            text(res, 409, "Conflict");
        } catch (Multipart.BadForm e) {
            text(res, e.status, e.status == 500 ? "" : e.getMessage());
        }
    }

    private static String baseName(String filename) {
        String name = filename.replace('\\', '/');
        name = name.substring(name.lastIndexOf('/') + 1);
        return name.equals(".") || name.equals("..") ? "" : name;
    }

    private void uploadCode(ServerRequest req, ServerResponse res) throws IOException {
        try {
            executor.require(Executor.State.WAIT_RUN);
            executor.receiveCode(req.content().inputStream());
            ok(res);
        } catch (Executor.Conflict e) {
            text(res, 409, "Conflict");
        }
    }

    private void run(ServerRequest req, ServerResponse res) throws JsonProcessingException {
        Optional<Executor.RunInfo> info;
        try {
            info = executor.run();
        } catch (Executor.Conflict e) {
            text(res, 409, "Conflict");
            return;
        }
        if (info.isEmpty()) {
            ok(res);
            return;
        }
        Map<String, String> body = new LinkedHashMap<>();
        body.put("working_dir", info.get().workingDir());
        body.put("username", info.get().username());
        json(res, body);
    }

    private void pull(ServerRequest req, ServerResponse res) throws IOException {
        long after = 0;
        if (req.query().contains("timestamp")) {
            try {
                after = Long.parseLong(req.query().get("timestamp"));
            } catch (NumberFormatException e) {
                text(res, 400, "Bad Request");
                return;
            }
        }
        LogBook.Page page = book.pull(after, pullMaxBytes);
        res.status(200);
        res.header(HeaderNames.CONTENT_TYPE, JSON);
        // streamed: a page of logs is never held twice in memory
        try (OutputStream out = res.outputStream(); JsonGenerator g = Json.MAPPER.getFactory().createGenerator(out)) {
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

    private void stop(ServerRequest req, ServerResponse res) {
        executor.stop();
        ok(res);
    }
}
