package ai.dstack.agent.docker;

import static ai.dstack.agent.task.TaskCalls.awaitStatus;
import static ai.dstack.agent.task.TaskCalls.busybox;
import static ai.dstack.agent.task.TaskCalls.submit;
import static org.assertj.core.api.Assertions.assertThat;

import ai.dstack.agent.task.TaskCalls;
import ai.dstack.agent.testing.ApiClient;
import ai.dstack.agent.testing.Docker;
import ai.dstack.agent.testing.LocalImages;
import ai.dstack.agent.testing.LocalRegistry;
import ai.dstack.agent.testing.ShimProcess;
import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/** Pulls from a real registry with basic auth (docs/shim.md §4.1): auth header, progress, pull.log, skip rule. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RegistryPullIT {
    @TempDir
    static Path tmp;
    LocalRegistry registry;
    ShimProcess shim;
    ApiClient api;

    @BeforeAll
    void start() {
        registry = LocalRegistry.start(tmp.resolve("registry"), "dstack", "s3cret-pass");
        shim = ShimProcess.builder(tmp).start();
        api = shim.api();
    }

    @AfterAll
    void stop() {
        shim.close();
        registry.close();
    }

    private static Map<String, Object> pulling(String image, String password) {
        Map<String, Object> body = busybox("bridge");
        body.put("image_name", image);
        body.put("registry_username", "dstack");
        body.put("registry_password", password);
        return body;
    }

    @Test
    void goodPasswordPullsAnAbsentImageWithProgressAndRuns() throws Exception {
        String image = registry.pushUniqueImage(LocalImages.BUSYBOX, 3_000_000);
        String id = submit(api, pulling(image, "s3cret-pass"));
        JsonNode task = awaitStatus(api, id, "running");
        JsonNode progress = task.path("image_pull_progress");
        Path pullLog = shim.home().resolve("runners").resolve(task.path("container_name").asText()).resolve("pull.log");
        assertThat(progress.isObject()).as(task + "\n" + Files.readString(pullLog)).isTrue();
        assertThat(progress.path("downloaded_bytes").asLong()).isGreaterThan(1_000_000);
        assertThat(progress.path("total_bytes").asLong()).isGreaterThanOrEqualTo(progress.path("downloaded_bytes").asLong());
        assertThat(progress.path("is_total_bytes_final").asBoolean()).isTrue();
        assertThat(Files.readString(pullLog)).contains("\"status\":\"Status: Downloaded newer image");
        TaskCalls.terminateAndRemove(api, id);
        Docker.client().removeImageCmd(image).withForce(true).exec();
    }

    @Test
    void badPasswordEndsInCreatingContainerErrorSayingWhy() {
        String image = registry.pushUniqueImage(LocalImages.BUSYBOX, 100_000);
        String id = submit(api, pulling(image, "wrong"));
        JsonNode task = awaitStatus(api, id, "terminated");
        assertThat(task.path("termination_reason").asText()).isEqualTo("creating_container_error");
        assertThat(task.path("termination_message").asText()).startsWith("pullImage error: ").containsIgnoringCase("unauthorized");
        assertThat(shim.containers()).isEmpty();
        TaskCalls.terminateAndRemove(api, id);
    }

    @Test
    void aPinnedImagePresentLocallyIsNotPulled() {
        String id = submit(api, busybox("bridge"));
        JsonNode task = awaitStatus(api, id, "running");
        assertThat(task.path("image_pull_progress").isNull()).isTrue();
        Path pullLog = shim.home().resolve("runners").resolve(task.path("container_name").asText()).resolve("pull.log");
        assertThat(pullLog).doesNotExist();
        TaskCalls.terminateAndRemove(api, id);
    }

    @Test
    void aLatestReferenceIsAlwaysPulled() {
        String pinned = registry.pushUniqueImage(LocalImages.BUSYBOX, 100_000);
        String latest = pinned.replace(":v1", ":latest");
        Docker.client().tagImageCmd(LocalImages.BUSYBOX, latest.substring(0, latest.lastIndexOf(':')), "latest").exec();
        try {
            // No tag: :latest is added.
            String id = submit(api, pulling(latest.substring(0, latest.lastIndexOf(':')), "s3cret-pass"));
            JsonNode task = awaitStatus(api, id, "terminated");
            // Present locally, but :latest floats: the shim asked the registry, which has no such tag.
            assertThat(task.path("termination_message").asText()).startsWith("pullImage error: ").contains("not found");
            TaskCalls.terminateAndRemove(api, id);
        } finally {
            Docker.client().removeImageCmd(latest).withForce(true).exec();
        }
    }
}
