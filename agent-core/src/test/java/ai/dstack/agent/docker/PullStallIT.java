package ai.dstack.agent.docker;

import static ai.dstack.agent.task.TaskCalls.awaitStatus;
import static ai.dstack.agent.task.TaskCalls.busybox;
import static ai.dstack.agent.task.TaskCalls.submit;
import static org.assertj.core.api.Assertions.assertThat;

import ai.dstack.agent.task.TaskCalls;
import ai.dstack.agent.testing.Docker;
import ai.dstack.agent.testing.LocalImages;
import ai.dstack.agent.testing.LocalRegistry;
import ai.dstack.agent.testing.ShimProcess;
import ai.dstack.agent.testing.ThrottlingProxy;
import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Pulls fail on a stall, not on a clock (docs/shim-operations.md): the registry sits behind a
 * throttling reverse proxy on loopback, so a pull is slow but steady, or stops moving mid-layer.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class PullStallIT {
    private static final int LAYER_BYTES = 6_000_000;
    /** 6 MB at 1.5 MB/s: the pull cannot end in under four seconds. */
    private static final long SLOW_BYTES_PER_SECOND = 1_500_000;
    @TempDir
    static Path tmp;
    LocalRegistry registry;
    String image;

    @BeforeAll
    void start() {
        registry = LocalRegistry.start(tmp.resolve("registry"), "dstack", "s3cret-pass");
        image = registry.pushUniqueImage(LocalImages.BUSYBOX, LAYER_BYTES);
    }

    @AfterAll
    void stop() {
        registry.close();
    }

    @AfterEach
    void forgetPulledImages() {
        for (var img : Docker.client().listImagesCmd().exec()) {
            if (img.getRepoTags() != null) {
                for (String tag : img.getRepoTags()) {
                    if (tag.contains(image.substring(image.indexOf('/')))) {
                        Docker.client().removeImageCmd(tag).withForce(true).exec();
                    }
                }
            }
        }
    }

    private Map<String, Object> pullingThrough(ThrottlingProxy proxy) {
        Map<String, Object> body = busybox("bridge");
        body.put("image_name", image.replace(registry.address(), proxy.address()));
        body.put("registry_username", "dstack");
        body.put("registry_password", "s3cret-pass");
        return body;
    }

    @Test
    void aSlowButSteadyPullSucceedsWhereATotalDeadlineWouldHaveFailedIt(@TempDir Path dir) {
        try (ThrottlingProxy proxy = ThrottlingProxy.start(registry.port(), SLOW_BYTES_PER_SECOND, Long.MAX_VALUE);
             ShimProcess shim = ShimProcess.builder(dir).env("DSTACK_SHIM_PULL_STALL_MS", "2500").start()) {
            String id = submit(shim.api(), pullingThrough(proxy));
            JsonNode task = awaitStatus(shim.api(), id, "running");
            assertThat(task.path("image_pull_progress").path("downloaded_bytes").asLong()).isGreaterThan(LAYER_BYTES / 2);
            assertThat(proxy.forwarded()).isGreaterThan(LAYER_BYTES);
            TaskCalls.terminateAndRemove(shim.api(), id);
        }
    }

    @Test
    void theTotalDeadlineIsStillAnOption(@TempDir Path dir) {
        try (ThrottlingProxy proxy = ThrottlingProxy.start(registry.port(), SLOW_BYTES_PER_SECOND, Long.MAX_VALUE);
             ShimProcess shim = ShimProcess.builder(dir).env("DSTACK_SHIM_PULL_DEADLINE_MS", "2000")
                     .env("DSTACK_SHIM_PULL_STALL_MS", "60000").start()) {
            String id = submit(shim.api(), pullingThrough(proxy));
            JsonNode task = awaitStatus(shim.api(), id, "terminated");
            assertThat(task.path("termination_reason").asText()).isEqualTo("creating_container_error");
            assertThat(task.path("termination_message").asText()).startsWith("pullImage error: image pull interrupted")
                    .endsWith("context deadline exceeded");
            assertThat(shim.containers()).isEmpty();
            TaskCalls.terminateAndRemove(shim.api(), id);
        }
    }

    @Test
    void aRegistryThatStopsSendingFailsThePullAfterTheStallWindowNamingTheLayer(@TempDir Path dir) {
        try (ThrottlingProxy proxy = ThrottlingProxy.start(registry.port(), 4 * SLOW_BYTES_PER_SECOND, LAYER_BYTES / 3);
             ShimProcess shim = ShimProcess.builder(dir).env("DSTACK_SHIM_PULL_STALL_MS", "1500").start()) {
            String id = submit(shim.api(), pullingThrough(proxy));
            JsonNode task = awaitStatus(shim.api(), id, "terminated");
            assertThat(task.path("termination_reason").asText()).isEqualTo("creating_container_error");
            assertThat(task.path("termination_message").asText())
                    .startsWith("pullImage error: image pull interrupted: downloaded ")
                    .contains("stalled: no layer made progress for 1500 ms; layer ")
                    .contains("(Downloading)");
            assertThat(shim.containers()).isEmpty();
            TaskCalls.terminateAndRemove(shim.api(), id);
        }
    }
}
