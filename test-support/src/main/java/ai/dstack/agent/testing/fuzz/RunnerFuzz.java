package ai.dstack.agent.testing.fuzz;

import ai.dstack.agent.testing.fuzz.HttpFamilies.Made;
import ai.dstack.agent.testing.fuzz.JsonFamilies.Field;
import ai.dstack.agent.testing.fuzz.JsonFamilies.Kind;
import ai.dstack.agent.testing.fuzz.JsonFamilies.Route;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Malformed and odd requests for every endpoint of the runner API (docs/runner.md §2) while the
 * runner waits in {@code wait_run} (after one valid submit): submits (valid ones keep that state),
 * uploads of code and archives, pulls, the log websocket, and only invalid {@code run}/{@code stop}.
 * Case {@code i} depends only on the seed and {@code i} ({@code -Dfuzz.only=i} replays it).
 */
public final class RunnerFuzz {
    public static final long DEFAULT_SEED = 15;
    public static final List<String> FAMILIES = List.of("valid", "truncated-body", "chunked-cut", "chunked-bad-size", "method",
            "request-line", "headers", "truncated-request", "content-type", "json-truncated", "json-syntax", "json-types",
            "numbers", "nesting", "huge", "duplicate-keys", "encodings", "unknown-and-null", "submit-values", "pull-timestamp",
            "multipart", "filenames", "archives", "code-bytes", "websocket");

    private final long seed;
    private final List<Endpoint> all = new ArrayList<>();
    private final List<Endpoint> bodies = new ArrayList<>();
    private final Route submit;
    private final Endpoint code;
    private final Endpoint archive;

    public RunnerFuzz(long seed) {
        this.seed = seed;
        submit = new Route(new Endpoint("POST", "/api/submit", "application/json", i -> submitBody(i).bytes(), Expect.exactly(200),
                true, true, i -> null), RunnerFuzz::submitBody, List.of(
                new Field("run", Kind.OBJECT, false, false), new Field("job_submission", Kind.OBJECT, false, false),
                new Field("job_spec", Kind.OBJECT, false, false), new Field("cluster_info", Kind.OBJECT, false, false),
                new Field("secrets", Kind.OBJECT, false, false), new Field("log_quota_hour", Kind.LONG, false, false)),
                false); // docs/runner.md §2.3: a null body is a 400
        code = new Endpoint("POST", "/api/upload_code", "application/octet-stream", i -> ("code " + i).getBytes(StandardCharsets.UTF_8),
                Expect.exactly(200), true, true, i -> null);
        archive = new Endpoint("POST", "/api/upload_archive", "multipart/form-data; boundary=fuzzboundary",
                i -> multipart("fuzzboundary", "archive", "fuzz-" + i + ".tar", Tars.create().file("f", 0644, "x").bytes()),
                Expect.exactly(200), true, true, i -> null);
        Endpoint run = new Endpoint("POST", "/api/run", null, null, Expect.exactly(200), false, false, i -> null);
        Endpoint stop = new Endpoint("POST", "/api/stop", null, null, Expect.exactly(200), false, false, i -> null);
        all.addAll(List.of(Endpoint.get("/api/healthcheck", Expect.exactly(200)), Endpoint.get("/api/metrics", Expect.exactly(200, 404)),
                Endpoint.get("/api/pull?timestamp=0", Expect.exactly(200)), Endpoint.get("/logs_ws", Expect.exactly(400)),
                submit.endpoint(), code, archive, run, stop));
        bodies.addAll(List.of(submit.endpoint(), code, archive));
    }

    /** A valid submission for case {@code i}: a short job in a virtual repo. */
    public static JsonBody submitBody(int i) {
        return JsonBody.object()
                .raw("run", "{\"id\":\"run-" + i + "\",\"run_spec\":{\"run_name\":\"fuzz\",\"repo_id\":\"fuzz-repo\",\"repo_data\":null}}")
                .raw("job_submission", "{\"id\":\"job-" + i + "\"}")
                .raw("job_spec", "{\"job_num\":0,\"jobs_per_replica\":1,\"user\":null,\"commands\":[\"/bin/sh\",\"-c\",\"echo fuzz\"],"
                        + "\"env\":{\"FUZZ\":\"1\"},\"single_branch\":false,\"max_duration\":null,\"working_dir\":null,"
                        + "\"repo_dir\":\"/tmp/fuzz-repo\",\"repo_data\":{\"repo_type\":\"virtual\"},\"repo_exists_action\":null,"
                        + "\"file_archives\":[]}")
                .raw("cluster_info", "{\"job_ips\":[],\"master_job_ip\":\"\",\"gpus_per_job\":0}")
                .raw("secrets", "{}")
                .raw("log_quota_hour", "0");
    }

    /** A multipart/form-data body with one file part. */
    public static byte[] multipart(String boundary, String field, String filename, byte[] content) {
        String head = "--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + field + "\"; filename=\"" + filename
                + "\"\r\nContent-Type: application/octet-stream\r\n\r\n";
        return HttpFamilies.concat(head.getBytes(StandardCharsets.UTF_8), content,
                ("\r\n--" + boundary + "--\r\n").getBytes(StandardCharsets.UTF_8));
    }

    public FuzzCase at(int i) {
        String family = FAMILIES.get(i % FAMILIES.size());
        SplittableRandom rnd = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + i);
        for (int attempt = 0; attempt < 20; attempt++) {
            Endpoint target = null;
            Made m;
            switch (family) {
                case "valid" -> {
                    target = all.get(rnd.nextInt(all.size()));
                    m = target.mayBeValid() ? HttpFamilies.valid(target, i) : null;
                }
                case "truncated-body", "chunked-cut", "chunked-bad-size" -> {
                    target = bodies.get(rnd.nextInt(bodies.size()));
                    m = switch (family) {
                        case "truncated-body" -> HttpFamilies.truncatedBody(rnd, target, i);
                        case "chunked-cut" -> HttpFamilies.chunkedCut(rnd, target, i);
                        default -> HttpFamilies.chunkedBadSize(rnd, target, i);
                    };
                }
                case "method", "request-line", "headers", "truncated-request" -> {
                    target = all.get(rnd.nextInt(all.size()));
                    m = switch (family) {
                        case "method" -> HttpFamilies.method(rnd, target, i);
                        case "request-line" -> HttpFamilies.requestLine(rnd, target, i);
                        case "headers" -> HttpFamilies.headers(rnd, target, i);
                        default -> HttpFamilies.truncatedRequest(rnd, target, i);
                    };
                }
                case "content-type" -> {
                    target = submit.endpoint();
                    m = rnd.nextBoolean() ? new Made("Content-Type 'text/plain'", Requests.of("POST", "/api/submit")
                            .header("Content-Type", "text/plain").body(submitBody(i).bytes()).bytes(), Expect.exactly(415))
                            : new Made("Content-Type 'Application/JSON; charset=utf-8'", Requests.of("POST", "/api/submit")
                            .header("Content-Type", "Application/JSON; charset=utf-8").body(submitBody(i).bytes()).bytes(), Expect.exactly(200));
                }
                case "submit-values" -> {
                    target = submit.endpoint();
                    m = submitValues(rnd, i);
                }
                case "pull-timestamp" -> {
                    target = all.get(2);
                    m = pullTimestamp(rnd);
                }
                case "multipart" -> {
                    target = archive;
                    m = multipartDamage(rnd, i);
                }
                case "filenames" -> {
                    target = archive;
                    m = filenames(rnd, i);
                }
                case "archives" -> {
                    target = archive;
                    int k = rnd.nextInt(12);
                    m = new Made("hostile tar " + k, Requests.of("POST", "/api/upload_archive")
                            .header("Content-Type", "multipart/form-data; boundary=b0undary")
                            .body(multipart("b0undary", "archive", "hostile-" + k, Tars.hostile(k))).bytes(), Expect.exactly(200));
                }
                case "code-bytes" -> {
                    target = code;
                    m = codeBytes(rnd, i);
                }
                case "websocket" -> {
                    target = all.get(3);
                    m = websocket(rnd);
                }
                default -> {
                    target = submit.endpoint();
                    m = JsonFamilies.of(family, rnd, submit, i);
                }
            }
            if (m != null) {
                return new FuzzCase(i, family, target.toString(), m.what(), m.request(), m.expect(), null);
            }
        }
        throw new IllegalStateException("no case for family " + family + " at " + i);
    }

    /**
     * Values Go takes at submit but a later step cannot use: we may refuse them with a 400 naming the
     * field, or take them, but then code uploads and the run must still work.
     */
    private static Made submitValues(SplittableRandom rnd, int i) {
        String[][] table = {
                {"run", "{\"id\":\"r\",\"run_spec\":{\"run_name\":\"fuzz\",\"repo_id\":\"../../fuzz-escape\"}}"},
                {"run", "{\"id\":\"r\",\"run_spec\":{\"run_name\":\"fuzz\",\"repo_id\":\"a/b\"}}"},
                {"run", "{\"id\":\"r\",\"run_spec\":{\"run_name\":\"fuzz\",\"repo_id\":\"..\"}}"},
                {"run", "{\"id\":\"r\",\"run_spec\":{\"run_name\":\"fuzz\",\"repo_id\":\"" + "r".repeat(300) + "\"}}"},
                {"run", "{\"id\":\"r\",\"run_spec\":{\"run_name\":\"fuzz\",\"repo_id\":\"a\\u0000b\"}}"},
                {"run", "{\"id\":\"r\",\"run_spec\":{\"run_name\":\"fuzz\",\"repo_id\":\"\"}}"},
                {"run", "{\"id\":\"r\",\"run_spec\":{\"run_name\":\"fuzz\",\"repo_id\":\".\"}}"},
                {"run", "null"},
                {"job_spec", "{\"commands\":[],\"repo_dir\":\"/tmp/r\"}"},
                {"job_spec", "{\"commands\":[\"true\"],\"working_dir\":\"relative/dir\",\"repo_dir\":\"/tmp/r\"}"},
                {"job_spec", "{\"commands\":[\"true\"],\"repo_dir\":null}"},
                {"job_spec", "{\"commands\":[\"true\"],\"repo_dir\":\"/tmp/r\",\"max_duration\":-1}"},
                {"job_spec", "{\"commands\":[\"true\"],\"repo_dir\":\"/tmp/r\",\"user\":{\"uid\":-1}}"},
                {"job_spec", "{\"commands\":[\"true\"],\"repo_dir\":\"/tmp/r\",\"file_archives\":[{\"id\":\"../x\",\"path\":\"/tmp/y\"}]}"},
                {"job_spec", "{\"commands\":[\"true\"],\"repo_dir\":\"/tmp/r\",\"env\":{\"A\\u0000\":\"b\",\"=\":\"x\"}}"},
                {"job_spec", "{\"commands\":[\"true\"],\"repo_dir\":\"/tmp/r\",\"repo_data\":{\"repo_type\":\"bogus\"}}"},
                {"job_spec", "null"},
                {"log_quota_hour", "-5"},
        };
        String[] row = table[rnd.nextInt(table.length)];
        JsonBody b = submitBody(i).remove(row[0]).raw(row[0], row[1]);
        return new Made("odd " + row[0] + " " + HttpFamilies.shorten(row[1]), Requests.of("POST", "/api/submit")
                .header("Content-Type", "application/json").body(b.bytes()).bytes(), Expect.exactly(200).orRejected());
    }

    /** {@code timestamp} as Go's strconv.ParseInt sees it: ASCII digits with an optional sign, within int64. */
    private static Made pullTimestamp(SplittableRandom rnd) {
        String[][] table = {{"%D9%A1%D9%A2%D9%A3", "400"}, {"abc", "400"}, {"-1", "200"}, {"%2B5", "200"}, {"", "400"},
                {"9223372036854775808", "400"}, {"9223372036854775807", "200"}, {"1e3", "400"}, {"0x10", "400"},
                {"%EF%BC%91%EF%BC%92", "400"}, {"%205", "400"}, {"5%20", "400"}, {"1.5", "400"}, {"%00", "400"},
                {"12", "200"}, {"%", "400"}, {"1&timestamp=x", "200"}, {"--1", "400"}, {"%E0%A5%A7", "400"}};
        String[] row = table[rnd.nextInt(table.length)];
        Expect e = row[1].equals("200") ? Expect.exactly(200) : Expect.exactly(400);
        return new Made("timestamp=" + row[0], Requests.of("GET", "/api/pull?timestamp=" + row[0]).bytes(), e);
    }

    /** Broken multipart framing: never accepted, never a 5xx. */
    private static Made multipartDamage(SplittableRandom rnd, int i) {
        byte[] tar = Tars.create().file("f", 0644, "x").bytes();
        byte[] good = multipart("bnd", "archive", "m-" + i + ".tar", tar);
        String ct = "multipart/form-data; boundary=bnd";
        byte[] body;
        String what;
        Expect e = Expect.rejected();
        switch (rnd.nextInt(12)) {
            case 0 -> { body = multipart("other", "archive", "m.tar", tar); what = "boundary that does not match"; }
            case 1 -> { body = java.util.Arrays.copyOf(good, good.length - 10); what = "no closing delimiter"; }
            case 2 -> { body = ("--bnd\r\nContent-Disposition: form-data; name=\"archive\"; filename=\"m.tar\"\r\n").getBytes(StandardCharsets.UTF_8); what = "unterminated part headers"; }
            case 3 -> { body = good; ct = "multipart/form-data; boundary=\"bnd"; what = "unparsable Content-Type"; }
            case 4 -> { body = good; ct = "multipart/form-data; boundary"; what = "boundary without value"; }
            case 5 -> { body = good; ct = "multipart/form-data"; what = "no boundary"; }
            case 6 -> { body = good; ct = "text/plain"; what = "not multipart"; }
            case 7 -> { body = good; ct = null; what = "no Content-Type"; }
            case 8 -> { body = new byte[0]; what = "empty body"; }
            case 9 -> { body = ("--bnd\r\nContent-Disposition: form-data; name=\"other\"; filename=\"m.tar\"\r\n\r\nx\r\n--bnd--\r\n").getBytes(StandardCharsets.UTF_8); what = "other field"; }
            case 10 -> { body = ("--bnd\r\nContent-Disposition: form-data; name=\"archive\"\r\n\r\nx\r\n--bnd--\r\n").getBytes(StandardCharsets.UTF_8); what = "no file name"; }
            default -> {
                // a chunked multipart body cut short: must not be taken as a complete archive
                byte[] chunked = Requests.chunked(good, 7, 50);
                Requests r = Requests.of("POST", "/api/upload_archive").noContentLength().header("Content-Type", ct)
                        .header("Transfer-Encoding", "chunked").body(java.util.Arrays.copyOf(chunked, chunked.length - 5 - rnd.nextInt(20)));
                return new Made("chunked multipart cut short", r.bytes(), Expect.rejectedOrClosed());
            }
        }
        Requests r = Requests.of("POST", "/api/upload_archive").body(body);
        if (ct != null) {
            r.header("Content-Type", ct);
        }
        return new Made(what, r.bytes(), e);
    }

    /** File names: plain UTF-8 is a name like any; a NUL or a 64 KiB one cannot be; others may be refused. */
    private static Made filenames(SplittableRandom rnd, int i) {
        byte[] tar = Tars.create().file("f", 0644, "x").bytes();
        byte[] name;
        Expect e;
        String what;
        switch (rnd.nextInt(7)) {
            case 0 -> { name = "\u6587\u4ef6-\u00e9.tar".getBytes(StandardCharsets.UTF_8); e = Expect.exactly(200); what = "UTF-8 file name"; }
            case 1 -> { name = "n".repeat(300).getBytes(StandardCharsets.UTF_8); e = Expect.exactly(200).orRejected(); what = "300-character file name"; }
            case 2 -> { name = "n".repeat(65536).getBytes(StandardCharsets.UTF_8); e = Expect.rejectedOrClosed(); what = "64 KiB file name"; }
            case 3 -> { name = new byte[] {'a', (byte) 0xff, (byte) 0xfe, 'b'}; e = Expect.exactly(200).orRejected(); what = "invalid UTF-8 file name"; }
            case 4 -> { name = new byte[] {'a', 0, 'b'}; e = Expect.rejected(); what = "raw NUL in file name"; }
            case 5 -> { name = "../../fuzz-escape".getBytes(StandardCharsets.UTF_8); e = Expect.exactly(200).orRejected(); what = "traversal file name"; }
            default -> { name = "..".getBytes(StandardCharsets.UTF_8); e = Expect.rejected(); what = "file name .."; }
        }
        byte[] head = HttpFamilies.concat("--bnd\r\nContent-Disposition: form-data; name=\"archive\"; filename=\"".getBytes(StandardCharsets.UTF_8),
                name, "\"\r\n\r\n".getBytes(StandardCharsets.UTF_8));
        byte[] body = HttpFamilies.concat(head, tar, "\r\n--bnd--\r\n".getBytes(StandardCharsets.UTF_8));
        return new Made(what, Requests.of("POST", "/api/upload_archive").header("Content-Type", "multipart/form-data; boundary=bnd")
                .body(body).bytes(), e);
    }

    /** Any bytes are a valid code blob, none too. */
    private static Made codeBytes(SplittableRandom rnd, int i) {
        byte[] body;
        String what;
        switch (rnd.nextInt(5)) {
            case 0 -> { body = new byte[0]; what = "empty"; }
            case 1 -> { body = new byte[rnd.nextInt(1, 300_000)]; rnd.nextBytes(body); what = body.length + " random bytes"; }
            case 2 -> { body = Tars.hostile(rnd.nextInt(12)); what = "hostile tar"; }
            case 3 -> { body = "diff --git a/x b/x\n\u0000\u00ff".getBytes(StandardCharsets.ISO_8859_1); what = "broken diff"; }
            default -> { body = new byte[] {(byte) 0x1f, (byte) 0x8b, 8, 0}; what = "gzip header only"; }
        }
        Requests r = Requests.of("POST", "/api/upload_code").body(body);
        if (rnd.nextBoolean()) {
            r.header("Content-Type", List.of("application/octet-stream", "text/plain", ";;", "application/json").get(rnd.nextInt(4)));
        }
        return new Made("code: " + what, r.bytes(), Expect.exactly(200));
    }

    /** The log websocket: a proper upgrade is 101 (a bad start_time then closes); a broken one is refused. */
    private static Made websocket(SplittableRandom rnd) {
        String key = "dGhlIHNhbXBsZSBub25jZQ==";
        Requests r;
        Expect e;
        String what;
        switch (rnd.nextInt(6)) {
            case 0 -> { r = Requests.line("GET /logs_ws HTTP/1.1").header("Host", "x"); e = Expect.exactly(400); what = "plain GET"; }
            case 1 -> { r = upgrade("/logs_ws?start_time=2026-01-01T00:00:00Z", key); e = Expect.exactly(101); what = "upgrade"; }
            case 2 -> { r = upgrade("/logs_ws?start_time=%D9%A1", key); e = Expect.exactly(101).orRejected(); what = "upgrade, bad start_time"; }
            case 3 -> { r = upgrade("/logs_ws", "short"); e = Expect.rejectedOrClosed().or(101); what = "bad Sec-WebSocket-Key"; }
            case 4 -> { r = upgrade("/logs_ws", key).without("Sec-WebSocket-Version").header("Sec-WebSocket-Version", "99"); e = Expect.rejectedOrClosed(); what = "version 99"; }
            default -> { r = upgrade("/logs_ws", key).without("Upgrade").header("Upgrade", "h2c"); e = Expect.rejectedOrClosed(); what = "Upgrade: h2c"; }
        }
        return new Made(what, r.bytes(), e);
    }

    private static Requests upgrade(String target, String key) {
        return Requests.line("GET " + target + " HTTP/1.1").header("Host", "x").header("Upgrade", "websocket")
                .header("Connection", "Upgrade").header("Sec-WebSocket-Key", key).header("Sec-WebSocket-Version", "13");
    }
}
