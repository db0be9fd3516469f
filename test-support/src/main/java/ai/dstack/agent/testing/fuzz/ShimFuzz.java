package ai.dstack.agent.testing.fuzz;

import ai.dstack.agent.testing.fuzz.HttpFamilies.Made;
import ai.dstack.agent.testing.fuzz.JsonFamilies.Field;
import ai.dstack.agent.testing.fuzz.JsonFamilies.Kind;
import ai.dstack.agent.testing.fuzz.JsonFamilies.Route;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.BiFunction;

/**
 * Malformed and odd requests for every endpoint of the shim API (docs/shim.md §2), one family per case
 * in turn; case {@code i} depends only on the seed and {@code i}, so any failure replays alone
 * ({@code -Dfuzz.only=i}). Valid requests never do harm: submitted tasks name an image on a registry
 * that refuses connections (the pull fails at once, no container is made), terminate and remove aim at
 * unknown ids, installs at a refused URL, and a valid shutdown is never sent.
 */
public final class ShimFuzz {
    public static final long DEFAULT_SEED = 15;
    /** The families, each given every n-th case. */
    public static final List<String> FAMILIES = List.of("valid", "truncated-body", "chunked-cut", "chunked-bad-size", "method",
            "request-line", "headers", "truncated-request", "content-type", "json-truncated", "json-syntax", "json-types",
            "numbers", "nesting", "huge", "duplicate-keys", "encodings", "unknown-and-null", "traversal", "path-ids");
    static final String IMAGE = "127.0.0.1:1/fuzz/none:latest";

    private final long seed;
    private final List<Endpoint> gets;
    private final Route submit;
    private final Route terminate;
    private final Route install;
    private final Route shutdown;
    private final Endpoint remove;
    private final List<Route> routes;
    private final List<Endpoint> all;

    public ShimFuzz(long seed) {
        this.seed = seed;
        gets = List.of(Endpoint.get("/api/healthcheck", Expect.exactly(200)), Endpoint.get("/api/instance/health", Expect.exactly(200)),
                Endpoint.get("/api/instance/info", Expect.exactly(200)), Endpoint.get("/api/components", Expect.exactly(200)),
                Endpoint.get("/api/tasks", Expect.exactly(200)), Endpoint.get("/api/tasks/fuzz-none", Expect.exactly(404)),
                Endpoint.get("/metrics", Expect.exactly(200)), Endpoint.get("/metrics/tasks/fuzz-none", Expect.exactly(404)));
        submit = route("POST", "/api/tasks", Expect.exactly(200), true, i -> "fuzz-" + i, ShimFuzz::submitBody, List.of(
                new Field("id", Kind.STRING, false, true), new Field("name", Kind.STRING, false, true),
                new Field("image_name", Kind.STRING, false, true), new Field("registry_username", Kind.STRING, true, false),
                new Field("registry_password", Kind.STRING, true, false), new Field("container_user", Kind.STRING, false, false),
                new Field("privileged", Kind.BOOL, false, false), new Field("gpu", Kind.INT, false, false),
                new Field("cpu", Kind.FLOAT, false, false), new Field("memory", Kind.LONG, false, false),
                new Field("shm_size", Kind.LONG, false, false), new Field("network_mode", Kind.STRING, false, false),
                new Field("volumes", Kind.OBJECTS, false, false), new Field("volume_mounts", Kind.OBJECTS, false, false),
                new Field("instance_mounts", Kind.OBJECTS, false, false), new Field("gpu_devices", Kind.OBJECTS, false, false),
                new Field("container_ssh_keys", Kind.STRINGS, false, false)));
        terminate = route("POST", "/api/tasks/fuzz-none/terminate", Expect.exactly(404), true, null, i -> JsonBody.object()
                .str("termination_reason", "terminated_by_user").str("termination_message", "fuzz").raw("timeout", "0"), List.of(
                new Field("termination_reason", Kind.STRING, true, false), new Field("termination_message", Kind.STRING, true, false),
                new Field("timeout", Kind.UINT, false, false)));
        install = route("POST", "/api/components/install", Expect.exactly(200, 409), true, null, i -> JsonBody.object()
                .str("name", "dstack-runner").str("url", "http://127.0.0.1:1/fuzz-none"), List.of(
                new Field("name", Kind.STRING, false, true), new Field("url", Kind.STRING, true, true)));
        shutdown = route("POST", "/api/shutdown", Expect.exactly(200), false, null, i -> JsonBody.object().raw("force", "false"),
                List.of(new Field("force", Kind.BOOL, false, false)));
        remove = new Endpoint("POST", "/api/tasks/fuzz-none/remove", null, null, Expect.exactly(404), false, true, i -> null);
        routes = List.of(submit, terminate, install, shutdown);
        all = new java.util.ArrayList<>(gets);
        routes.forEach(r -> all.add(r.endpoint()));
        all.add(remove);
    }

    private static Route route(String method, String path, Expect valid, boolean mayBeValid, java.util.function.IntFunction<String> creates,
                               java.util.function.IntFunction<JsonBody> body, List<Field> fields) {
        Endpoint e = new Endpoint(method, path, "application/json", i -> body.apply(i).bytes(), valid, true, mayBeValid,
                creates == null ? i -> null : creates);
        return new Route(e, body, fields);
    }

    static JsonBody submitBody(int i) {
        SplittableRandom rnd = new SplittableRandom(i);
        JsonBody b = JsonBody.object().str("id", "fuzz-" + i).str("name", "fuzz-" + i).str("image_name", IMAGE);
        if (rnd.nextBoolean()) {
            b.str("container_user", "root").raw("privileged", "false").raw("gpu", "0").raw("cpu", "0.5")
                    .raw("memory", "0").raw("shm_size", "0").str("network_mode", rnd.nextBoolean() ? "host" : "bridge")
                    .raw("volumes", "[]").raw("volume_mounts", "[]")
                    .raw("instance_mounts", "[{\"instance_path\":\"/nonexistent-fuzz\",\"path\":\"/x\",\"optional\":true}]")
                    .raw("gpu_devices", "[]").str("registry_username", "").str("registry_password", "")
                    .raw("container_ssh_keys", "[\"ssh-ed25519 AAAA fuzz\"]");
        } else {
            b.raw("gpu", "-1").raw("volumes", "[]").raw("volume_mounts", "[]");
        }
        return b;
    }

    /** Case {@code i}. */
    public FuzzCase at(int i) {
        String family = FAMILIES.get(i % FAMILIES.size());
        SplittableRandom rnd = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + i);
        for (int attempt = 0; attempt < 20; attempt++) {
            Made m = null;
            Endpoint target = null;
            switch (family) {
                case "valid" -> {
                    target = any(rnd, all);
                    m = target.mayBeValid() ? HttpFamilies.valid(target, i) : null;
                }
                case "truncated-body", "chunked-cut", "chunked-bad-size", "content-type" -> {
                    Route r = routes.get(rnd.nextInt(routes.size()));
                    target = r.endpoint();
                    m = switch (family) {
                        case "truncated-body" -> HttpFamilies.truncatedBody(rnd, target, i);
                        case "chunked-cut" -> HttpFamilies.chunkedCut(rnd, target, i);
                        case "chunked-bad-size" -> HttpFamilies.chunkedBadSize(rnd, target, i);
                        default -> contentType(rnd, r, i);
                    };
                }
                case "method", "request-line", "headers", "truncated-request" -> {
                    target = any(rnd, all);
                    m = switch (family) {
                        case "method" -> HttpFamilies.method(rnd, target, i);
                        case "request-line" -> HttpFamilies.requestLine(rnd, target, i);
                        case "headers" -> HttpFamilies.headers(rnd, target, i);
                        default -> HttpFamilies.truncatedRequest(rnd, target, i);
                    };
                }
                case "path-ids" -> {
                    m = pathIds(rnd, i);
                    target = null;
                }
                default -> {
                    Route r = routes.get(rnd.nextInt(routes.size()));
                    target = r.endpoint();
                    m = JsonFamilies.NAMES.contains(family) ? JsonFamilies.of(family, rnd, r, i)
                            : JsonFamilies.traversal(rnd, r, i, places(r));
                }
            }
            if (m != null) {
                String endpoint = target == null ? "(odd id)" : target.toString();
                String creates = m.creates() != null ? m.creates() : target == null ? null : target.creates().apply(i);
                return new FuzzCase(i, family, endpoint, m.what(), m.request(), m.expect(), creates);
            }
        }
        throw new IllegalStateException("no case for family " + family + " at " + i);
    }

    private static Endpoint any(SplittableRandom rnd, List<Endpoint> from) {
        return from.get(rnd.nextInt(from.size()));
    }

    private static final List<String> CONTENT_TYPES_415 = List.of("text/plain", "application/jsonx", "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=x", "json", "application/xml", "*/*", "application/json-patch+json");
    private static final List<String> CONTENT_TYPES_OK = List.of("APPLICATION/JSON", "application/json; charset=utf-8",
            "Application/Json;charset=UTF-8", "application/json ;charset=utf-8");
    private static final List<String> CONTENT_TYPES_ODD = List.of(";;;", "application/json;;", "application/json; charset=\"",
            "", "application/json; =x", "/", "application/", "application/json; charset=latin1");

    private static Made contentType(SplittableRandom rnd, Route r, int i) {
        int kind = rnd.nextInt(3);
        String ct;
        Expect e;
        if (kind == 0) {
            ct = CONTENT_TYPES_415.get(rnd.nextInt(CONTENT_TYPES_415.size()));
            e = Expect.exactly(415);
        } else if (kind == 1) {
            ct = CONTENT_TYPES_OK.get(rnd.nextInt(CONTENT_TYPES_OK.size()));
            e = r.endpoint().valid();
        } else {
            // Go's mime parser refuses some of these and takes others: a 415/400 or the valid answer.
            ct = CONTENT_TYPES_ODD.get(rnd.nextInt(CONTENT_TYPES_ODD.size()));
            e = r.endpoint().valid().orRejected();
        }
        if (!r.endpoint().mayBeValid() && !java.util.Collections.disjoint(e.statuses(), r.endpoint().valid().statuses())) {
            return null;
        }
        byte[] req = Requests.of(r.endpoint().method(), r.endpoint().path()).header("Content-Type", ct)
                .body(r.body().apply(i).bytes()).bytes();
        return new Made("Content-Type '" + ct + "'", req, e);
    }

    private static Map<String, BiFunction<JsonBody, String, JsonBody>> places(Route r) {
        Map<String, BiFunction<JsonBody, String, JsonBody>> p = new LinkedHashMap<>();
        switch (r.endpoint().path()) {
            case "/api/tasks" -> {
                p.put("id", (b, v) -> b.set("id", JsonBody.quote(v)));
                p.put("name", (b, v) -> b.set("name", JsonBody.quote(v)));
                p.put("volume_mounts.name", (b, v) -> b.remove("volume_mounts")
                        .raw("volume_mounts", "[{\"name\":" + JsonBody.quote(v) + ",\"path\":\"/x\"}]"));
                p.put("volumes.name", (b, v) -> b.remove("volumes")
                        .raw("volumes", "[{\"backend\":\"aws\",\"name\":" + JsonBody.quote(v) + ",\"volume_id\":\"x\",\"init_fs\":false}]"));
            }
            case "/api/components/install" -> p.put("name", (b, v) -> b.set("name", JsonBody.quote(v)));
            default -> {
            }
        }
        return p;
    }

    private static final List<String> ENCODED_IDS = List.of("..%2F..%2Ffuzz-escape", "%2e%2e", "%00", "a%00b", "fuzz%2Fescape",
            "%ff", "%", "%zz", "%2e", "~", "*", "fuzz-none%20x", "%C3%A9", "%EF%BB%BF", "a%0Ab", "%0D%0AX-Injected:%201");
    private static final List<String> RAW_IDS = List.of(".", "..", "\u00e9", "x".repeat(3000), "a;b", "a?b", "a#b");

    /** Odd ids in the path of every route that takes one: never found, never a file outside the home. */
    private Made pathIds(SplittableRandom rnd, int i) {
        boolean raw = rnd.nextInt(3) == 0;
        String id = raw ? RAW_IDS.get(rnd.nextInt(RAW_IDS.size())) : ENCODED_IDS.get(rnd.nextInt(ENCODED_IDS.size()));
        int route = rnd.nextInt(4);
        String target = switch (route) {
            case 0 -> "/api/tasks/" + id;
            case 1 -> "/metrics/tasks/" + id;
            case 2 -> "/api/tasks/" + id + "/terminate";
            default -> "/api/tasks/" + id + "/remove";
        };
        String method = route < 2 ? "GET" : "POST";
        Requests r = Requests.line(method + " " + new String(target.getBytes(StandardCharsets.UTF_8), StandardCharsets.ISO_8859_1) + " HTTP/1.1")
                .header("Host", "127.0.0.1").header("Connection", "close");
        if (route == 2) {
            r.header("Content-Type", "application/json").body(terminate.body().apply(i).bytes());
        } else if (route == 3) {
            r.body(new byte[0]);
        }
        Expect e = Expect.rejectedOrClosed();
        if (raw && (id.equals(".") || id.equals("..")) && route < 2) {
            // dot segments are resolved: /api/tasks/. is /api/tasks
            e = e.or(200, 301);
        }
        return new Made(method + " " + HttpFamilies.shorten(target), r.bytes(), e);
    }
}
