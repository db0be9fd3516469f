package ai.dstack.agent.task;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ai.dstack.agent.testing.ApiClient;
import ai.dstack.agent.testing.LocalImages;
import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/** Task calls as the dstack server makes them, for the shim's integration tests. */
public final class TaskCalls {
    private TaskCalls() {
    }

    /** A submit body for a busybox task with a fresh id; callers add or replace fields. */
    public static Map<String, Object> busybox(String network) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("id", UUID.randomUUID().toString());
        body.put("name", "it-" + UUID.randomUUID().toString().substring(0, 6) + "-0-0");
        body.put("image_name", LocalImages.BUSYBOX);
        body.put("container_user", "root");
        body.put("network_mode", network);
        body.put("gpu", -1);
        return body;
    }

    /** Submits and checks the 200; returns the task id. */
    public static String submit(ApiClient api, Map<String, Object> body) {
        ApiClient.Reply reply = api.post("/api/tasks", body);
        assertThat(reply.status()).as(reply.body()).isEqualTo(200);
        return (String) body.get("id");
    }

    public static JsonNode get(ApiClient api, String id) {
        ApiClient.Reply reply = api.get("/api/tasks/" + id);
        assertThat(reply.status()).as(reply.body()).isEqualTo(200);
        return reply.json();
    }

    /** Waits until the task has {@code status} (and, for running, its ports); returns the task. */
    public static JsonNode awaitStatus(ApiClient api, String id, String status) {
        return await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(100))
                .until(() -> get(api, id), t -> {
                    if (!status.equals("terminated") && t.path("status").asText().equals("terminated")) {
                        throw new AssertionError("expected " + status + " but the task ended: " + t);
                    }
                    return t.path("status").asText().equals(status)
                           && (!status.equals("running") || !t.path("ports").isNull());
                });
    }

    /** Terminates (timeout 0) and removes, checking both replies. */
    public static void terminateAndRemove(ApiClient api, String id) {
        ApiClient.Reply t = api.post("/api/tasks/" + id + "/terminate",
                Map.of("termination_reason", "terminated_by_user", "termination_message", "", "timeout", 0));
        assertThat(t.status()).as(t.body()).isEqualTo(200);
        ApiClient.Reply r = api.post("/api/tasks/" + id + "/remove", "");
        assertThat(r.status()).as(r.body()).isEqualTo(200);
    }

    /** Runs every call at once, each on its own thread; returns their results in order. */
    public static <T> List<T> inParallel(List<Callable<T>> calls) throws Exception {
        List<T> results = new ArrayList<>();
        try (ExecutorService pool = Executors.newFixedThreadPool(calls.size())) {
            for (Future<T> f : pool.invokeAll(calls)) {
                results.add(f.get());
            }
        }
        return results;
    }

    /** The host port the runner's HTTP port is published on (bridge mode). */
    public static int runnerHostPort(JsonNode task, int runnerPort) {
        for (JsonNode p : task.path("ports")) {
            if (p.path("container").asInt() == runnerPort) {
                return p.path("host").asInt();
            }
        }
        throw new AssertionError("no published port for " + runnerPort + " in " + task);
    }
}
