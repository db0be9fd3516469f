package ai.dstack.agent.task;

import static ai.dstack.agent.task.TaskCalls.awaitStatus;
import static ai.dstack.agent.task.TaskCalls.busybox;
import static ai.dstack.agent.task.TaskCalls.submit;
import static org.assertj.core.api.Assertions.assertThat;

import ai.dstack.agent.testing.ApiClient;
import ai.dstack.agent.testing.Docker;
import ai.dstack.agent.testing.EngineProxy;
import ai.dstack.agent.testing.FreePorts;
import ai.dstack.agent.testing.ShimProcess;
import ai.dstack.agent.testing.StubRunner;
import com.fasterxml.jackson.databind.JsonNode;
import com.github.dockerjava.api.model.Container;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Restart safety (issue "restart safety"), modelled on Nomad's client-state tests: the shim is
 * killed with SIGKILL and started again on the same home; tasks, containers and resources must
 * come back exactly as they were, and nothing is duplicated or orphaned.
 */
class RestartIT {
    @TempDir
    Path tmp;

    private ShimProcess.Builder shim() {
        return ShimProcess.builder(tmp).env("DSTACK_RUNNER_HTTP_PORT", String.valueOf(FreePorts.next()))
                .env("DSTACK_RUNNER_SSH_PORT", String.valueOf(FreePorts.next()));
    }

    private static String startedAt(String containerId) {
        return Docker.client().inspectContainerCmd(containerId).exec().getState().getStartedAt();
    }

    @Test
    void tenSigkillsInARowLoseNothingAndRestartNoContainer() {
        try (ShimProcess shim = shim().start()) {
            ApiClient api = shim.api();
            List<String> ids = List.of(submit(api, busybox("bridge")), submit(api, busybox("bridge")), submit(api, busybox("host")));
            Map<String, JsonNode> before = new LinkedHashMap<>();
            Map<String, String> started = new LinkedHashMap<>();
            for (String id : ids) {
                JsonNode t = awaitStatus(api, id, "running");
                before.put(id, t);
                started.put(id, startedAt(t.path("container_id").asText()));
            }
            String list = api.get("/api/tasks").body();
            for (int round = 1; round <= 10; round++) {
                shim.kill();
                shim.restart();
                for (String id : ids) {
                    JsonNode after = TaskCalls.get(api, id);
                    assertThat(after).as("round " + round).isEqualTo(before.get(id));
                    assertThat(startedAt(after.path("container_id").asText())).as("round " + round).isEqualTo(started.get(id));
                }
                assertThat(api.get("/api/tasks").json()).isEqualTo(new com.fasterxml.jackson.databind.ObjectMapper().readTree(list));
                assertThat(shim.containers()).hasSize(3);
            }
            // Still watched: a task ends when its container ends, after all those restarts.
            Docker.client().killContainerCmd(before.get(ids.get(0)).path("container_id").asText()).exec();
            JsonNode ended = awaitStatus(api, ids.get(0), "terminated");
            assertThat(ended.path("termination_reason").asText()).isEqualTo("container_exited_with_error");
            for (String id : ids) {
                TaskCalls.terminateAndRemove(api, id);
            }
            assertThat(shim.containers()).isEmpty();
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void containersStoppedRemovedOrFinishedWhileTheShimWasDownGetTheirReasons() throws Exception {
        try (ShimProcess shim = shim().start()) {
            ApiClient api = shim.api();
            String stopped = submit(api, busybox("bridge"));
            String removed = submit(api, busybox("bridge"));
            Map<String, Object> finishing = busybox("bridge");
            Path stub = StubRunner.override(tmp.resolve("finish"), "while [ ! -f /tmp/runner/finish ]; do sleep 0.1; done; echo finished; exit 0");
            finishing.put("instance_mounts", List.of(Map.of("instance_path", stub.toString(), "path", StubRunner.OVERRIDE_DIR)));
            String finished = submit(api, finishing);
            JsonNode s = awaitStatus(api, stopped, "running");
            JsonNode r = awaitStatus(api, removed, "running");
            JsonNode f = awaitStatus(api, finished, "running");

            shim.kill();
            Docker.client().stopContainerCmd(s.path("container_id").asText()).withTimeout(0).exec();
            Docker.client().removeContainerCmd(r.path("container_id").asText()).withForce(true).exec();
            Files.writeString(shim.home().resolve("runners").resolve(f.path("container_name").asText()).resolve("finish"), "");
            Docker.client().waitContainerCmd(f.path("container_id").asText()).start().awaitStatusCode();
            shim.restart();

            JsonNode s2 = TaskCalls.get(api, stopped);
            assertThat(s2.path("status").asText()).isEqualTo("terminated");
            assertThat(s2.path("termination_reason").asText()).isEqualTo("container_exited_with_error");
            assertThat(s2.path("termination_message").asText()).contains("serving on");
            JsonNode r2 = TaskCalls.get(api, removed);
            assertThat(r2.path("termination_reason").asText()).isEqualTo("container_exited_with_error");
            assertThat(r2.path("termination_message").asText()).isEqualTo("container disappeared");
            JsonNode f2 = TaskCalls.get(api, finished);
            assertThat(f2.path("termination_reason").asText()).isEqualTo("done_by_runner");
            for (String id : List.of(stopped, removed, finished)) {
                TaskCalls.terminateAndRemove(api, id);
            }
            assertThat(shim.containers()).isEmpty();
        }
    }

    @Test
    void killedWhilePullingCreatingOrStartingTheTaskResumesWithExactlyOneContainer() throws Exception {
        try (EngineProxy proxy = EngineProxy.start(tmp.resolve("engine.sock"), EngineProxy.mainEngineSocket());
             ShimProcess shim = shim().env("DOCKER_HOST", proxy.dockerHost()).start()) {
            ApiClient api = shim.api();
            // {held path, forward the held request after the kill?}; at the image check the task file still says
            // pending and at the start it has no container id (both are written later, docs/task-file.md)
            List<Object[]> cases = List.of(new Object[] {"/images/.*", false}, new Object[] {"/containers/create", false},
                    new Object[] {"/containers/create", true}, new Object[] {"/containers/[0-9a-f]+/start", false},
                    new Object[] {"/containers/[0-9a-f]+/start", true});
            for (Object[] c : cases) {
                proxy.hold((String) c[0]);
                String id = submit(api, busybox("bridge"));
                assertThat(proxy.awaitHeld(Duration.ofSeconds(30))).as(c[0].toString()).isTrue();
                shim.kill();
                proxy.release((Boolean) c[1]); // dropped: the engine never saw it; forwarded: it acts while the shim is down
                shim.restart();
                JsonNode t = awaitStatus(api, id, "running");
                List<Container> mine = shim.containers().stream()
                        .filter(k -> id.equals(k.getLabels().get("ai.dstack.shim.task-id"))).toList();
                assertThat(mine).as(c[0] + " forwarded=" + c[1]).hasSize(1);
                assertThat(mine.getFirst().getId()).isEqualTo(t.path("container_id").asText());
                TaskCalls.terminateAndRemove(api, id);
            }
            assertThat(shim.containers()).isEmpty();
        }
    }

    @Test
    void fiftyConcurrentTerminateAndRemoveCallsOnOneTaskNeverFail() throws Exception {
        try (ShimProcess shim = shim().start()) {
            ApiClient api = shim.api();
            String id = submit(api, busybox("bridge"));
            String containerId = awaitStatus(api, id, "running").path("container_id").asText();
            List<Callable<Integer>> calls = new ArrayList<>();
            for (int i = 0; i < 50; i++) {
                boolean terminate = i % 2 == 0;
                calls.add(() -> terminate
                        ? api.post("/api/tasks/" + id + "/terminate", Map.of("termination_reason", "terminated_by_user", "timeout", 0)).status()
                        : api.post("/api/tasks/" + id + "/remove", "").status());
                calls.add(() -> api.get("/api/tasks/" + id).status());
            }
            List<Integer> statuses = TaskCalls.inParallel(calls);
            assertThat(statuses).allMatch(st -> Set.of(200, 404, 409).contains(st)).contains(200);
            int last = api.post("/api/tasks/" + id + "/remove", "").status();
            assertThat(last).isIn(200, 404);
            assertThat(api.get("/api/tasks/" + id).status()).isEqualTo(404);
            assertThat(Docker.client().listContainersCmd().withShowAll(true).withIdFilter(List.of(containerId)).exec()).isEmpty();
            assertThat(shim.alive()).isTrue();
        }
    }

    @Test
    void twentyTasksSubmittedAndTerminatedInParallelLeaveNothingRunning() throws Exception {
        try (ShimProcess shim = shim().start()) {
            ApiClient api = shim.api();
            List<Callable<String>> work = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                work.add(() -> {
                    String id = submit(api, busybox("bridge"));
                    ApiClient.Reply t = api.post("/api/tasks/" + id + "/terminate",
                            Map.of("termination_reason", "terminated_by_server", "timeout", 0));
                    assertThat(t.status()).as(t.body()).isEqualTo(200);
                    return id;
                });
            }
            List<String> ids = TaskCalls.inParallel(work);
            for (String id : ids) {
                JsonNode t = TaskCalls.get(api, id);
                assertThat(t.path("status").asText()).isEqualTo("terminated");
                assertThat(t.path("termination_reason").asText()).isEqualTo("terminated_by_server");
            }
            // Remove waits for each pipeline's end: afterwards no container of these tasks may run.
            List<String> running = new ArrayList<>();
            for (String id : ids) {
                String containerId = TaskCalls.get(api, id).path("container_id").asText();
                ApiClient.Reply r = api.post("/api/tasks/" + id + "/remove", "");
                assertThat(r.status()).as(r.body()).isEqualTo(200);
                if (!containerId.isEmpty()) {
                    running.addAll(Docker.client().listContainersCmd().withIdFilter(List.of(containerId)).exec()
                            .stream().map(Container::getId).toList());
                }
            }
            assertThat(running).isEmpty();
            assertThat(shim.containers()).isEmpty();
        }
    }

    @Test
    void goShimContainersOfThisHomeAreAdoptedAndOthersLeftAlone() throws Exception {
        Path home = Files.createDirectories(tmp.resolve("shim-home"));
        String mine = java.util.UUID.randomUUID().toString();
        String foreign = java.util.UUID.randomUUID().toString();
        List<String> created = new ArrayList<>();
        try {
            created.add(goContainer(mine, home.resolve("runners/go-task-0-aaaa")));
            created.add(goContainer(foreign, tmp.resolve("elsewhere/runners/go-task-1-bbbb")));
            try (ShimProcess shim = shim().start()) {
                ApiClient api = shim.api();
                JsonNode adopted = TaskCalls.get(api, mine);
                assertThat(adopted.path("status").asText()).isEqualTo("running");
                assertThat(adopted.path("container_id").asText()).isEqualTo(created.getFirst());
                assertThat(api.get("/api/tasks/" + foreign).status()).isEqualTo(404);
                TaskCalls.terminateAndRemove(api, mine);
                assertThat(Docker.client().inspectContainerCmd(created.get(1)).exec().getState().getRunning()).isTrue();
            }
        } finally {
            for (String id : created) {
                try {
                    Docker.client().removeContainerCmd(id).withForce(true).exec();
                } catch (RuntimeException e) {
                    // removed by the test already
                }
            }
        }
    }

    /** A running container as the Go shim labels it: no home label, runner dir bind-mounted at /tmp/runner. */
    private static String goContainer(String taskId, Path runnerDir) throws Exception {
        Files.createDirectories(runnerDir);
        String id = Docker.client().createContainerCmd(ai.dstack.agent.testing.LocalImages.BUSYBOX)
                .withName(runnerDir.getFileName() + "-" + taskId.substring(0, 8))
                .withLabels(Map.of("ai.dstack.shim.is-task", "true", "ai.dstack.shim.task-id", taskId,
                        "ai.dstack.agent.test", "true"))
                .withCmd("sleep", "600")
                .withHostConfig(com.github.dockerjava.api.model.HostConfig.newHostConfig().withBinds(
                        new com.github.dockerjava.api.model.Bind(runnerDir.toString(),
                                new com.github.dockerjava.api.model.Volume("/tmp/runner"))))
                .exec().getId();
        Docker.client().startContainerCmd(id).exec();
        return id;
    }

    @Test
    void corruptTaskFilesAreMovedAsideAndTheOthersServed() throws Exception {
        try (ShimProcess shim = shim().start()) {
            ApiClient api = shim.api();
            String intact = submit(api, busybox("bridge"));
            String truncated = submit(api, busybox("bridge"));
            JsonNode a = awaitStatus(api, intact, "running");
            JsonNode b = awaitStatus(api, truncated, "running");
            shim.kill();
            Path tasks = shim.home().resolve("tasks");
            Path file = tasks.resolve(truncated + ".json");
            byte[] content = Files.readAllBytes(file);
            Files.write(file, java.util.Arrays.copyOf(content, content.length / 2));
            Files.writeString(tasks.resolve("garbage.json"), "\u0000\u0001 not json at all");
            shim.restart();

            assertThat(TaskCalls.get(api, intact)).isEqualTo(a);
            // The container of the task whose file broke is adopted from its labels: same container, no duplicate.
            JsonNode adopted = TaskCalls.get(api, truncated);
            assertThat(adopted.path("status").asText()).isEqualTo("running");
            assertThat(adopted.path("container_id").asText()).isEqualTo(b.path("container_id").asText());
            assertThat(shim.containers()).hasSize(2);
            assertThat(shim.output()).contains("is unreadable").contains("moved aside");
            try (var files = Files.list(tasks)) {
                assertThat(files.map(p -> p.getFileName().toString()).filter(n -> n.contains(".corrupt-")).count()).isEqualTo(2);
            }
            TaskCalls.terminateAndRemove(api, intact);
            TaskCalls.terminateAndRemove(api, truncated);
        }
    }
}
