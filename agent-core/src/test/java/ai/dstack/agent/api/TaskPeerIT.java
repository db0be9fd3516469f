package ai.dstack.agent.api;

import static ai.dstack.agent.task.TaskCalls.awaitStatus;
import static ai.dstack.agent.task.TaskCalls.busybox;
import static ai.dstack.agent.task.TaskCalls.submit;
import static org.assertj.core.api.Assertions.assertThat;

import ai.dstack.agent.task.TaskCalls;
import ai.dstack.agent.testing.Commands;
import ai.dstack.agent.testing.ShimProcess;
import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A job cannot drive the shim (docs/api-isolation.md): a host-network task shares the host's
 * loopback, so its processes reach the API port; they get 403 while the host's own get 200.
 */
class TaskPeerIT {
    /** What a process inside the container gets from the API: busybox wget's output, error lines included. */
    private static String fromInside(String containerId, int port) {
        return Commands.run("docker", "exec", containerId, "sh", "-c",
                "wget -q -O - http://127.0.0.1:" + port + "/api/tasks 2>&1; echo exit=$?");
    }

    @Test
    void aHostNetworkJobGets403WhileTheHostIsServed(@TempDir Path dir) {
        try (ShimProcess shim = ShimProcess.builder(dir).start()) {
            String id = submit(shim.api(), busybox("host"));
            JsonNode task = awaitStatus(shim.api(), id, "running");
            String inside = fromInside(task.path("container_id").asText(), shim.port());
            assertThat(inside).contains("403").contains("exit=1").doesNotContain("\"tasks\"");
            assertThat(shim.api().get("/api/tasks").status()).isEqualTo(200);
            assertThat(shim.api().get("/api/tasks").body()).contains(id);
            TaskCalls.terminateAndRemove(shim.api(), id);
        }
    }

    @Test
    void theCheckCanBeTurnedOff(@TempDir Path dir) {
        try (ShimProcess shim = ShimProcess.builder(dir).env("DSTACK_SHIM_API_PEER_CHECK", "false").start()) {
            String id = submit(shim.api(), busybox("host"));
            JsonNode task = awaitStatus(shim.api(), id, "running");
            assertThat(fromInside(task.path("container_id").asText(), shim.port())).contains(id).contains("exit=0");
            TaskCalls.terminateAndRemove(shim.api(), id);
        }
    }
}
