package ai.dstack.agent.task;

import static ai.dstack.agent.task.TaskCalls.awaitStatus;
import static ai.dstack.agent.task.TaskCalls.busybox;
import static ai.dstack.agent.task.TaskCalls.submit;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ai.dstack.agent.testing.ApiClient;
import ai.dstack.agent.testing.Docker;
import ai.dstack.agent.testing.FreePorts;
import ai.dstack.agent.testing.ShimProcess;
import ai.dstack.agent.testing.StubRunner;
import com.fasterxml.jackson.databind.JsonNode;
import com.github.dockerjava.api.command.InspectContainerResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Tasks on the real engine with a stub runner: networking, container settings, exits, terminate, remove, parallelism. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class TaskPipelineIT {
    @TempDir
    static Path tmp;
    ShimProcess shim;
    ApiClient api;
    int runnerPort;

    @BeforeAll
    void start() {
        runnerPort = FreePorts.next();
        shim = ShimProcess.builder(tmp)
                .env("DSTACK_RUNNER_HTTP_PORT", String.valueOf(runnerPort))
                .env("DSTACK_RUNNER_SSH_PORT", String.valueOf(FreePorts.next()))
                .env("DSTACK_SHIM_REMOVE_WAIT_MS", "1000")
                .env("DSTACK_REPORTED_VERSION", "0.21.7")
                .env("http_proxy", "http://proxy.invalid:3128")
                .start();
        api = shim.api();
    }

    @AfterAll
    void stop() {
        shim.close();
    }

    @Test
    void hostNetworkRunnerAnswersOnTheHostAndReportsNoPorts() {
        String id = submit(api, busybox("host"));
        JsonNode task = awaitStatus(api, id, "running");
        assertThat(task.path("ports").isArray()).isTrue();
        assertThat(task.path("ports")).isEmpty();
        assertThat(task.path("gpus_ids")).isEmpty();
        ApiClient runner = new ApiClient(runnerPort);
        await().atMost(Duration.ofSeconds(30)).until(() -> runner.answers("/api/healthcheck"));
        TaskCalls.terminateAndRemove(api, id);
    }

    @Test
    void agentMetricsCountTasksByStatusAndTimeTheirPullsAndStarts() {
        String id = submit(api, busybox("bridge"));
        awaitStatus(api, id, "running");
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
            ApiClient.Reply metrics = api.get("/metrics");
            assertThat(metrics.status()).isEqualTo(200);
            assertThat(metrics.header("Content-Type").orElse("")).startsWith("text/plain");
            assertThat(metrics.body())
                    .containsPattern("(?m)^dstack_shim_tasks\\{status=\"running\"} [1-9]")
                    .containsPattern("(?m)^dstack_shim_image_pull_seconds_count [1-9]")
                    .containsPattern("(?m)^dstack_shim_container_start_seconds_count [1-9]")
                    .contains("dstack_shim_gpus{state=\"free\"} 0");
        });
        TaskCalls.terminateAndRemove(api, id);
    }

    @Test
    void bridgeRunnerPortsArePublishedOnLoopbackAndAnswer() {
        String id = submit(api, busybox("bridge"));
        JsonNode task = awaitStatus(api, id, "running");
        assertThat(task.path("ports")).hasSize(2);
        int hostPort = TaskCalls.runnerHostPort(task, runnerPort);
        InspectContainerResponse c = Docker.client().inspectContainerCmd(task.path("container_id").asText()).exec();
        c.getNetworkSettings().getPorts().getBindings().values()
                .forEach(bindings -> assertThat(bindings[0].getHostIp()).isEqualTo("127.0.0.1"));
        ApiClient runner = new ApiClient(hostPort);
        await().atMost(Duration.ofSeconds(30)).until(() -> runner.answers("/api/healthcheck"));
        TaskCalls.terminateAndRemove(api, id);
    }

    @Test
    void containerGetsNameLabelsLimitsMountsAndEnvironment() throws Exception {
        Path instanceDir = tmp.resolve("instance-" + System.nanoTime()).resolve("data");
        Map<String, Object> body = busybox("bridge");
        body.put("cpu", 1.5);
        body.put("memory", 256L << 20);
        body.put("shm_size", 32L << 20);
        body.put("instance_mounts", List.of(Map.of("instance_path", instanceDir.toString(), "path", "/data", "optional", false)));
        body.put("unknown_extra_field", Map.of("a", 1));
        String id = submit(api, body);
        JsonNode task = awaitStatus(api, id, "running");

        String name = (String) body.get("name");
        assertThat(task.path("container_name").asText()).matches(name + "-[0-9a-f]{8}");
        InspectContainerResponse c = Docker.client().inspectContainerCmd(task.path("container_id").asText()).exec();
        assertThat(c.getName()).isEqualTo("/" + task.path("container_name").asText());
        assertThat(c.getConfig().getLabels()).containsEntry("ai.dstack.shim.is-task", "true")
                .containsEntry("ai.dstack.shim.task-id", id).containsEntry("ai.dstack.shim.home", shim.home().toString());
        assertThat(c.getConfig().getUser()).isEqualTo("root");
        assertThat(c.getConfig().getEntrypoint()).containsExactly("/bin/sh", "-c");
        assertThat(c.getConfig().getCmd()[0]).contains("/usr/local/bin/dstack-runner --log-level info start --temp-dir /tmp/runner")
                .doesNotContain("--http-address");
        assertThat(c.getConfig().getEnv()).contains("http_proxy=http://proxy.invalid:3128", "DSTACK_REPORTED_VERSION=0.21.7");
        var host = c.getHostConfig();
        assertThat(host.getNanoCPUs()).isEqualTo(1_500_000_000L);
        assertThat(host.getMemory()).isEqualTo(256L << 20);
        assertThat(host.getShmSize()).isEqualTo(32L << 20);
        assertThat(host.getTmpFs()).containsEntry("/dev/shm", "exec,size=" + (32L << 20));
        assertThat(host.getPrivileged()).isFalse(); // privileged containers cannot start on this nested test host
        assertThat(host.getNetworkMode()).isEqualTo("bridge");
        assertThat(host.getMounts()).extracting(m -> m.getTarget())
                .containsExactly("/tmp/runner", "/usr/local/bin/dstack-runner", "/data");
        assertThat(host.getMounts().get(0).getSource()).isEqualTo(shim.home().resolve("runners")
                .resolve(task.path("container_name").asText()).toString());
        assertThat(Files.isDirectory(instanceDir)).isTrue();
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(instanceDir))).isEqualTo("rwxrwxrwx");
        TaskCalls.terminateAndRemove(api, id);
    }

    /**
     * Runner exit 0 → done_by_runner; any other exit → container_exited_with_error with the last five log lines.
     * The lines go to stderr, where the prelude's "going on without sshd" lines are: the engine keeps one
     * stream in order, but not lines of stdout and stderr written within the same few milliseconds.
     */
    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "echo all good; exit 0 | done_by_runner | ''",
            "exec >&2; for i in 1 2 3 4 5 6 7; do echo line $i; done; exit 3 | container_exited_with_error | line 3\\nline 4\\nline 5\\nline 6\\nline 7"})
    void theRunnersExitDecidesTheReason(String script, String reason, String message) {
        String id = submit(api, withRunnerScript(script));
        JsonNode task = awaitStatus(api, id, "terminated");
        assertThat(task.path("termination_reason").asText()).isEqualTo(reason);
        assertThat(task.path("termination_message").asText()).isEqualTo(message.replace("\\n", "\n"));
        TaskCalls.terminateAndRemove(api, id);
    }

    @Test
    void busyboxHasNoPackageManagerSoThePreludeGoesOnWithoutSshd() {
        String id = submit(api, withRunnerScript("echo runner ran; exit 0"));
        JsonNode task = awaitStatus(api, id, "terminated");
        assertThat(task.path("termination_reason").asText()).isEqualTo("done_by_runner");
        String logs = containerLogs(task.path("container_id").asText());
        assertThat(logs).contains("not supported").contains("going on without sshd").contains("runner ran");
        TaskCalls.terminateAndRemove(api, id);
    }

    @Test
    void terminateWithoutGraceStopsInsideTheRequestAndFirstReasonWins() throws Exception {
        String id = submit(api, busybox("bridge"));
        JsonNode running = awaitStatus(api, id, "running");
        String containerId = running.path("container_id").asText();
        ApiClient.Reply reply = api.post("/api/tasks/" + id + "/terminate",
                Map.of("termination_reason", "terminated_by_user", "termination_message", "bye", "timeout", 0));
        assertThat(reply.status()).isEqualTo(200);
        assertThat(reply.json().path("status").asText()).isEqualTo("terminated");
        assertThat(reply.json().path("termination_reason").asText()).isEqualTo("terminated_by_user");
        assertThat(Docker.client().inspectContainerCmd(containerId).exec().getState().getRunning()).isFalse();

        ApiClient.Reply again = api.post("/api/tasks/" + id + "/terminate",
                Map.of("termination_reason", "terminated_by_server", "termination_message", "later", "timeout", 0));
        assertThat(again.status()).isEqualTo(200);
        assertThat(again.json().path("termination_reason").asText()).isEqualTo("terminated_by_user");
        assertThat(again.json().path("termination_message").asText()).isEqualTo("bye");
        assertThat(TaskCalls.get(api, id).path("termination_reason").asText()).isEqualTo("terminated_by_user");

        Path runnerDir = shim.home().resolve("runners").resolve(running.path("container_name").asText());
        assertThat(runnerDir).isDirectory();
        assertThat(shim.home().resolve("tasks").resolve(id + ".json")).exists();
        assertThat(api.post("/api/tasks/" + id + "/remove", "").status()).isEqualTo(200);
        assertThat(api.get("/api/tasks/" + id).status()).isEqualTo(404);
        assertThat(Docker.client().listContainersCmd().withShowAll(true).withIdFilter(List.of(containerId)).exec()).isEmpty();
        assertThat(runnerDir).doesNotExist();
        assertThat(shim.home().resolve("tasks").resolve(id + ".json")).doesNotExist();
        assertThat(api.post("/api/tasks", Map.of("id", id, "name", "again", "image_name", "x")).status()).isEqualTo(200);
        awaitStatus(api, id, "terminated");
        assertThat(api.post("/api/tasks/" + id + "/remove", "").status()).isEqualTo(200);
    }

    @Test
    void removeOfARunningTaskIsRefused() {
        String id = submit(api, busybox("bridge"));
        awaitStatus(api, id, "running");
        ApiClient.Reply r = api.post("/api/tasks/" + id + "/remove", "");
        assertThat(r.status()).isEqualTo(409);
        assertThat(r.body()).isEqualTo("request error: cannot remove task " + id + " with running status\n");
        TaskCalls.terminateAndRemove(api, id);
    }

    @Test
    void terminateWithLongGraceRepliesAtOnceAndStopsInTheBackground() {
        // The stub runner, as PID 1's child under sh, ignores SIGTERM: only the kill after the grace stops it.
        String id = submit(api, busybox("bridge"));
        String containerId = awaitStatus(api, id, "running").path("container_id").asText();
        ApiClient.Reply reply = api.post("/api/tasks/" + id + "/terminate",
                Map.of("termination_reason", "terminated_by_user", "termination_message", "", "timeout", 600));
        assertThat(reply.status()).isEqualTo(200);
        assertThat(reply.json().path("status").asText()).isEqualTo("terminated");
        assertThat(Docker.client().inspectContainerCmd(containerId).exec().getState().getRunning()).isTrue();

        ApiClient.Reply early = api.post("/api/tasks/" + id + "/remove", "");
        assertThat(early.status()).isEqualTo(409);
        assertThat(early.body()).contains("still stopping");

        // The server's dangling-task cleanup sends timeout 0: that kills it now.
        ApiClient.Reply now = api.post("/api/tasks/" + id + "/terminate",
                Map.of("termination_reason", "", "termination_message", "", "timeout", 0));
        assertThat(now.json().path("termination_reason").asText()).isEqualTo("terminated_by_user");
        assertThat(Docker.client().inspectContainerCmd(containerId).exec().getState().getRunning()).isFalse();
        assertThat(api.post("/api/tasks/" + id + "/remove", "").status()).isEqualTo(200);
    }

    @Test
    void tenTasksRunInParallelEachWithItsOwnPorts() throws Exception {
        List<Callable<String>> submits = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            submits.add(() -> submit(api, busybox("bridge")));
        }
        List<String> ids = TaskCalls.inParallel(submits);
        Set<Integer> ports = new HashSet<>();
        for (String id : ids) {
            int port = TaskCalls.runnerHostPort(awaitStatus(api, id, "running"), runnerPort);
            ports.add(port);
            ApiClient runner = new ApiClient(port);
            await().atMost(Duration.ofSeconds(60)).until(() -> runner.answers("/api/healthcheck"));
        }
        assertThat(ports).hasSize(10);
        assertThat(api.get("/api/tasks").json().path("tasks").findValuesAsText("id")).containsAll(ids);
        List<Callable<Void>> stops = new ArrayList<>();
        for (String id : ids) {
            stops.add(() -> {
                TaskCalls.terminateAndRemove(api, id);
                return null;
            });
        }
        TaskCalls.inParallel(stops);
        assertThat(shim.containers()).extracting(c -> c.getLabels().get("ai.dstack.shim.task-id")).doesNotContainAnyElementsOf(ids);
    }

    @Test
    void hostSshKeysAreAddedForTheTaskAndOnlyItsOwnAreRemovedAfterIt() throws Exception {
        String user = "dsit" + Long.toHexString(System.nanoTime()).substring(0, 8);
        Path home = tmp.resolve("home-" + user);
        run("useradd", "-M", "-d", home.toString(), "-s", "/bin/false", user);
        try {
            String operatorKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOperator operator@host";
            String sharedKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIShared user@laptop";
            String taskKey = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABTaskOnly user@laptop";
            Path keys = home.resolve(".ssh/authorized_keys");
            Files.createDirectories(keys.getParent());
            Files.writeString(keys, operatorKey + "\n" + sharedKey + "\n");
            Map<String, Object> body = busybox("bridge");
            body.put("host_ssh_user", user);
            body.put("host_ssh_keys", List.of(sharedKey, taskKey));
            String id = submit(api, body);
            awaitStatus(api, id, "running");
            assertThat(Files.readAllLines(keys)).containsExactly(operatorKey, sharedKey, taskKey);
            TaskCalls.terminateAndRemove(api, id); // remove waits for the release
            assertThat(Files.readAllLines(keys)).containsExactly(operatorKey, sharedKey);
        } finally {
            run("userdel", user);
        }
    }

    private static void run(String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor()).as(String.join(" ", cmd) + ": " + out).isZero();
    }

    private Map<String, Object> withRunnerScript(String script) {
        Path dir = StubRunner.override(tmp.resolve("stub-" + System.nanoTime()), script);
        Map<String, Object> body = busybox("bridge");
        body.put("instance_mounts", List.of(Map.of("instance_path", dir.toString(), "path", StubRunner.OVERRIDE_DIR)));
        return body;
    }

    static String containerLogs(String containerId) {
        StringBuilder out = new StringBuilder();
        try {
            Docker.client().logContainerCmd(containerId).withStdOut(true).withStdErr(true)
                    .exec(new com.github.dockerjava.api.async.ResultCallback.Adapter<com.github.dockerjava.api.model.Frame>() {
                        @Override
                        public void onNext(com.github.dockerjava.api.model.Frame frame) {
                            out.append(new String(frame.getPayload()));
                        }
                    }).awaitCompletion();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return out.toString();
    }
}
