package ai.dstack.agent.api;

import static org.assertj.core.api.Assertions.assertThat;

import ai.dstack.agent.task.TaskCalls;
import ai.dstack.agent.testing.ApiClient;
import ai.dstack.agent.testing.ShimProcess;
import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The HTTP surface of the shim (docs/shim.md §2, §8): routes, status codes, content types, strict input. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ShimApiIT {
    @TempDir
    static Path tmp;
    ShimProcess shim;
    ApiClient api;

    @BeforeAll
    void start() {
        shim = ShimProcess.builder(tmp).env("DSTACK_REPORTED_VERSION", "0.21.7").start();
        api = shim.api();
    }

    @AfterAll
    void stop() {
        shim.close();
    }

    @Test
    void healthcheckNamesTheServiceAndVersion() {
        ApiClient.Reply r = api.get("/api/healthcheck");
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.header("Content-Type")).hasValue("application/json");
        assertThat(r.body()).isEqualTo("{\"service\":\"dstack-shim\",\"version\":\"0.21.7\"}\n");
    }

    @Test
    void getRoutesAnswerHeadWithoutBody() {
        ApiClient.Reply r = api.send("HEAD", "/api/tasks", Map.of(), new byte[0]);
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.body()).isEmpty();
    }

    @Test
    void unknownPathIs404PageNotFound() {
        for (String path : new String[] {"/nope", "/api/tasks/a/b", "/api/submit", "/api/tasks/x/start"}) {
            ApiClient.Reply r = api.get(path);
            assertThat(r.status()).as(path).isEqualTo(404);
            assertThat(r.body()).isEqualTo("404 page not found\n");
            assertThat(r.header("Content-Type")).hasValue("text/plain; charset=utf-8");
        }
    }

    @Test
    void wrongMethodIs405WithAllow() {
        ApiClient.Reply r = api.send("DELETE", "/api/tasks", Map.of(), new byte[0]);
        assertThat(r.status()).isEqualTo(405);
        assertThat(r.header("Allow")).hasValue("GET, HEAD, POST");
        ApiClient.Reply get = api.get("/api/shutdown");
        assertThat(get.status()).isEqualTo(405);
        assertThat(get.header("Allow")).hasValue("POST");
    }

    @Test
    void instanceEndpointsOnAGpuLessHost() {
        assertThat(api.get("/api/instance/health").body()).isEqualTo("{\"dcgm\":null}\n");
        assertThat(api.get("/api/instance/info").body()).isEqualTo("{}\n");
        ApiClient.Reply metrics = api.get("/metrics/tasks/whatever");
        assertThat(metrics.status()).isEqualTo(404);
        assertThat(metrics.body()).contains("DCGM Exporter is not available");
    }

    @Test
    void componentsReportRunnerThenShim() {
        JsonNode c = api.get("/api/components").json().path("components");
        assertThat(c).hasSize(2);
        assertThat(c.get(0).path("name").asText()).isEqualTo("dstack-runner");
        assertThat(c.get(0).path("status").asText()).isEqualTo("installed");
        assertThat(c.get(0).path("version").asText()).isEqualTo("0.0.0-stub");
        assertThat(c.get(1).path("name").asText()).isEqualTo("dstack-shim");
        assertThat(c.get(1).path("status").asText()).isEqualTo("not-installed");
        assertThat(c.get(1).path("version").asText()).isEmpty();
    }

    @Test
    void unknownTaskIs404() {
        assertThat(api.get("/api/tasks/nope").status()).isEqualTo(404);
        ApiClient.Reply t = api.post("/api/tasks/nope/terminate", "{}");
        assertThat(t.status()).isEqualTo(404);
        assertThat(t.body()).isEqualTo("task nope: not found\n");
        ApiClient.Reply r = api.post("/api/tasks/nope/remove", "");
        assertThat(r.status()).isEqualTo(404);
        assertThat(r.body()).isEqualTo("task nope: not found\n");
    }

    static Stream<Arguments> badSubmits() {
        return Stream.of(
                Arguments.of("{\"name\":\"a\",\"image_name\":\"i\"}", "empty id"),
                Arguments.of("{\"id\":\"\",\"name\":\"a\",\"image_name\":\"i\"}", "empty id"),
                Arguments.of("{\"id\":\"x\",\"image_name\":\"i\"}", "empty name"),
                Arguments.of("{\"id\":\"x\",\"name\":\"a\"}", "empty image_name"),
                Arguments.of("{\"id\":\"x\",\"name\":\"a\",\"image_name\":\"i\",\"gpu\":\"2\"}", "invalid value for the \"gpu\" field"),
                Arguments.of("{\"id\":\"x\",\"name\":\"a\",\"image_name\":\"i\",\"gpu\":1.5}", "invalid value for the \"gpu\" field"),
                Arguments.of("{\"id\":\"x\",\"name\":\"a\",\"image_name\":\"i\",\"memory\":\"1\"}", "invalid value for the \"memory\" field"),
                Arguments.of("{\"id\":\"x\",\"name\":\"a\",\"image_name\":\"i\",\"privileged\":1}", "invalid value for the \"privileged\" field"),
                Arguments.of("{\"id\":7,\"name\":\"a\",\"image_name\":\"i\"}", "invalid value for the \"id\" field"),
                Arguments.of("{\"id\":\"x\",\"name\":\"a\",\"image_name\":\"i\",\"host_ssh_keys\":\"k\"}", "invalid value for the \"host_ssh_keys\" field"),
                Arguments.of("{\"id\":\"x\",\"name\":\"a\",\"image_name\":\"i\",\"cpu\":-1}", "invalid cpu"),
                Arguments.of("{\"id\":\"x\",\"name\":\"a\",\"image_name\":\"i\",\"memory\":-1}", "invalid memory"),
                Arguments.of("{\"id\":\"x\",\"name\":\"a\",\"image_name\":\"i\",\"shm_size\":-1}", "invalid shm_size"),
                Arguments.of("{\"id\":\"x\",\"name\":\"a\",\"image_name\":\"i\",\"gpu\":-2}", "count must be either positive or -1, got -2"),
                Arguments.of("{\"id\":\"x\",\"name\":\"a\",\"image_name\":\"i\",\"network_mode\":\"none\"}", "invalid network_mode"),
                Arguments.of("{\"id\":\"a/b\",\"name\":\"a\",\"image_name\":\"i\"}", "invalid id"),
                Arguments.of("{\"id\":\"..\",\"name\":\"a\",\"image_name\":\"i\"}", "invalid id"),
                Arguments.of("{\"id\":\"" + "x".repeat(129) + "\",\"name\":\"a\",\"image_name\":\"i\"}", "invalid id"),
                Arguments.of("{\"id\":\"x\",\"name\":\"-a\",\"image_name\":\"i\"}", "invalid name"),
                Arguments.of("{\"id\":\"x\",\"name\":\"a b\",\"image_name\":\"i\"}", "invalid name"),
                Arguments.of("{\"id\":\"x\",\"name\":\"a\",\"image_name\":\"i\",\"volume_mounts\":[{\"name\":\"../etc\",\"path\":\"/v\"}]}", "invalid volume name"),
                Arguments.of("{\"id\":\"x\",\"name\":\"a\",\"image_name\":\"i\",\"volumes\":[{\"backend\":\"aws\",\"name\":\"a/b\",\"volume_id\":\"v\"}]}", "invalid volume name"),
                Arguments.of("{\"id\":\"x\",\"name\":\"a\",\"image_name\":\"i\"} {}", "must only contain a single JSON object"),
                Arguments.of("{\"id\":\"x\",\"name\":\"a\",\"image_name\":", "badly-formed JSON"),
                Arguments.of("{\"id\" \"x\"}", "badly-formed JSON"),
                Arguments.of("[]", "invalid value"),
                Arguments.of("\"x\"", "invalid value"),
                Arguments.of("", "Request body must not be empty"));
    }

    @ParameterizedTest
    @MethodSource("badSubmits")
    void badSubmitIs400AndCreatesNothing(String body, String message) {
        ApiClient.Reply r = api.post("/api/tasks", body);
        assertThat(r.status()).as(r.body()).isEqualTo(400);
        assertThat(r.header("Content-Type")).hasValue("text/plain; charset=utf-8");
        assertThat(r.body()).contains(message).endsWith("\n");
        assertThat(api.get("/api/tasks").json().path("tasks")).isEmpty();
        assertThat(shim.containers()).isEmpty();
    }

    @Test
    void bodyMustBeJsonAndAtMostOneMebibyte() {
        ApiClient.Reply form = api.send("POST", "/api/tasks", Map.of("Content-Type", "application/x-www-form-urlencoded"),
                "{}".getBytes(StandardCharsets.UTF_8));
        assertThat(form.status()).isEqualTo(415);
        assertThat(form.body()).isEqualTo("Content-Type header is not application/json\n");
        ApiClient.Reply withCharset = api.send("POST", "/api/shutdown", Map.of("Content-Type", "application/json; charset=utf-8"),
                "{\"force\":\"no\"}".getBytes(StandardCharsets.UTF_8));
        assertThat(withCharset.status()).isEqualTo(400);
        String big = "{\"id\":\"x\",\"name\":\"a\",\"image_name\":\"i\",\"pad\":\"" + "x".repeat(1 << 20) + "\"}";
        ApiClient.Reply tooBig = api.post("/api/tasks", big);
        assertThat(tooBig.status()).isEqualTo(413);
        assertThat(tooBig.body()).isEqualTo("Request body must not be larger than 1MB\n");
    }

    @Test
    void terminateValidatesItsBody() {
        assertThat(api.post("/api/tasks/x/terminate", "").status()).isEqualTo(400);
        ApiClient.Reply negative = api.post("/api/tasks/x/terminate", "{\"timeout\":-1}");
        assertThat(negative.status()).isEqualTo(400);
        assertThat(negative.body()).contains("invalid value for the \"timeout\" field");
        assertThat(api.post("/api/tasks/x/terminate", "{\"timeout\":true}").status()).isEqualTo(400);
    }

    @Test
    void componentInstallValidatesInOrder() {
        assertThat(api.post("/api/components/install", "{}").body()).isEqualTo("empty name\n");
        assertThat(api.post("/api/components/install", "{\"name\":\"x\"}").body()).isEqualTo("unknown component\n");
        ApiClient.Reply noUrl = api.post("/api/components/install", "{\"name\":\"dstack-runner\"}");
        assertThat(noUrl.status()).isEqualTo(400);
        assertThat(noUrl.body()).isEqualTo("empty url\n");
    }

    @Test
    void volumesWithoutAStoragePluginEndTheTaskWithExecutorError() {
        var body = TaskCalls.busybox("bridge");
        body.put("volumes", java.util.List.of(Map.of("backend", "aws", "name", "data", "volume_id", "vol-1", "init_fs", true)));
        String id = TaskCalls.submit(api, body);
        JsonNode t = TaskCalls.awaitStatus(api, id, "terminated");
        assertThat(t.path("termination_reason").asText()).isEqualTo("executor_error");
        assertThat(t.path("termination_message").asText()).startsWith("prepareVolumes error: ");
        assertThat(api.post("/api/tasks/" + id + "/remove", "").status()).isEqualTo(200);
    }

    @Test
    void moreGpusThanTheHostHasEndsTheTaskWithNoCapacity() {
        var body = TaskCalls.busybox("bridge");
        body.put("gpu", 2);
        String id = TaskCalls.submit(api, body);
        JsonNode t = TaskCalls.awaitStatus(api, id, "terminated");
        assertThat(t.path("termination_reason").asText()).isEqualTo("executor_error");
        assertThat(t.path("termination_message").asText()).isEqualTo("no capacity: 2 GPUs requested, 0 available");
        assertThat(shim.containers()).isEmpty();
        ApiClient.Reply again = api.post("/api/tasks", body);
        assertThat(again.status()).isEqualTo(409);
        assertThat(again.body()).isEqualTo("request error: task " + id + " is already submitted\n");
        assertThat(api.post("/api/tasks/" + id + "/remove", "").status()).isEqualTo(200);
        assertThat(api.get("/api/tasks/" + id).status()).isEqualTo(404);
    }
}
