package ai.dstack.agent.task;

import static ai.dstack.agent.task.TaskCalls.awaitStatus;
import static ai.dstack.agent.task.TaskCalls.busybox;
import static ai.dstack.agent.task.TaskCalls.submit;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ai.dstack.agent.testing.ApiClient;
import ai.dstack.agent.testing.Docker;
import ai.dstack.agent.testing.EngineProxy;
import ai.dstack.agent.testing.ShimProcess;
import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Steps that last milliseconds, caught in the act: the shim talks to the engine through a proxy
 * that holds {@code /images/…} or {@code /containers/create} until the test releases it.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class StepRacesIT {
    @TempDir
    static Path tmp;
    EngineProxy proxy;
    ShimProcess shim;
    ApiClient api;

    @BeforeAll
    void start() {
        proxy = EngineProxy.start(tmp.resolve("engine.sock"), EngineProxy.mainEngineSocket());
        shim = ShimProcess.builder(tmp).env("DOCKER_HOST", proxy.dockerHost()).start();
        api = shim.api();
    }

    @AfterEach
    void releaseAll() {
        proxy.release(true);
    }

    @AfterAll
    void stop() {
        shim.close();
        proxy.close();
    }

    @Test
    void everyStatusIsObservedThroughTheApi() throws Exception {
        List<String> seen = new ArrayList<>();
        proxy.hold("/images/.*");
        Map<String, Object> body = busybox("bridge");
        seen.add(api.post("/api/tasks", body).json().path("status").asText());
        String id = (String) body.get("id");
        assertThat(proxy.awaitHeld(Duration.ofSeconds(30))).isTrue();
        seen.add(TaskCalls.get(api, id).path("status").asText());
        proxy.release(true);
        proxy.hold("/containers/create");
        assertThat(proxy.awaitHeld(Duration.ofSeconds(30))).isTrue();
        seen.add(TaskCalls.get(api, id).path("status").asText());
        proxy.release(true);
        seen.add(awaitStatus(api, id, "running").path("status").asText());
        TaskCalls.terminateAndRemove(api, id);
        assertThat(seen).containsExactly("pending", "pulling", "creating", "running");
    }

    @Test
    void terminatedWhileCreatingNeverStartsItsContainerAndNothingWaitsForTheCreate() throws Exception {
        proxy.hold("/containers/create");
        String id = submit(api, busybox("bridge"));
        assertThat(proxy.awaitHeld(Duration.ofSeconds(30))).isTrue();
        assertThat(TaskCalls.get(api, id).path("status").asText()).isEqualTo("creating");
        ApiClient.Reply t = api.post("/api/tasks/" + id + "/terminate",
                Map.of("termination_reason", "terminated_by_user", "termination_message", "", "timeout", 0));
        assertThat(t.json().path("status").asText()).isEqualTo("terminated");
        // Remove answers while the engine still holds the create: nothing waits for it.
        assertThat(api.post("/api/tasks/" + id + "/remove", "").status()).isEqualTo(200);
        // The create goes on (it fails now that the runner dir is gone, or makes a container that the
        // shim removes); a start would be held here.
        proxy.releaseAndHold("/containers/[^/]+/start");
        await().atMost(Duration.ofSeconds(30)).until(() -> shim.output().contains("the create still running at terminate"));
        assertThat(shim.containers()).noneMatch(c -> id.equals(c.getLabels().get("ai.dstack.shim.task-id")));
        assertThat(proxy.awaitHeld(Duration.ZERO)).isFalse();
    }

    @Test
    void aPullPastItsDeadlineIsInterrupted() throws Exception {
        try (ShimProcess quick = ShimProcess.builder(tmp.resolve("deadline"))
                .env("DOCKER_HOST", proxy.dockerHost()).env("DSTACK_SHIM_PULL_DEADLINE_MS", "300").start()) {
            proxy.hold("/images/create");
            Map<String, Object> body = busybox("bridge");
            body.put("image_name", "127.0.0.1:9/never/there:latest");
            String id = submit(quick.api(), body);
            JsonNode t = awaitStatus(quick.api(), id, "terminated");
            assertThat(t.path("termination_reason").asText()).isEqualTo("creating_container_error");
            assertThat(t.path("termination_message").asText())
                    .startsWith("pullImage error: image pull interrupted: downloaded 0 bytes out of 0")
                    .endsWith("context deadline exceeded");
            proxy.release(false);
            assertThat(quick.api().post("/api/tasks/" + id + "/remove", "").status()).isEqualTo(200);
        }
    }

    @Test
    void terminatedWhilePullingCancelsThePullAndCreatesNothing() throws Exception {
        proxy.hold("/images/.*");
        Map<String, Object> body = busybox("bridge");
        body.put("image_name", "127.0.0.1:9/never/there"); // floating: always pulled
        String id = submit(api, body);
        assertThat(proxy.awaitHeld(Duration.ofSeconds(30))).isTrue();
        ApiClient.Reply t = api.post("/api/tasks/" + id + "/terminate",
                Map.of("termination_reason", "terminated_by_user", "termination_message", "stop", "timeout", 0));
        assertThat(t.json().path("status").asText()).isEqualTo("terminated");
        ApiClient.Reply removed = api.post("/api/tasks/" + id + "/remove", "");
        assertThat(removed.status()).as(removed.body()).isEqualTo(200);
        assertThat(shim.containers()).isEmpty();
    }
}
