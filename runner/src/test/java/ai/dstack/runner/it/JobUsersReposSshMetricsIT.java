package ai.dstack.runner.it;

import static org.assertj.core.api.Assertions.assertThat;

import ai.dstack.agent.testing.Commands;
import ai.dstack.agent.testing.Docker;
import ai.dstack.agent.testing.LocalImages;
import ai.dstack.agent.testing.RunnerContainer;
import com.fasterxml.jackson.databind.JsonNode;
import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.exception.NotFoundException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Issue 7's end-to-end checks: job users, remote git repos, SSH into the job's container and
 * cgroup-v1 metrics, each with a runner started by our shim and driven in the server's order
 * (docs/runner.md §10: healthcheck, submit, upload_code, run, pull until a final state).
 */
class JobUsersReposSshMetricsIT {
    private static final Map<String, String> ENV = Map.of(
            "DSTACK_RUNNER_LOGS_TIMEOUT_MS", "20000",
            "DSTACK_RUNNER_START_TIMEOUT_MS", "120000");
    private static final int SSH_PORT = 10022;
    private static final long MIB = 1024 * 1024;
    /** The base image plus a user {@code alice} (uid 1500) with a home and two supplementary groups. */
    private static final String USERS_IMAGE_REPO = "dstack-local/it-users";
    private static final String USERS_IMAGE_TAG = UUID.randomUUID().toString().substring(0, 8);
    private static final String USERS_IMAGE = USERS_IMAGE_REPO + ":" + USERS_IMAGE_TAG;

    @BeforeAll
    static void buildUsersImage() {
        DockerClient docker = Docker.client();
        String id = docker.createContainerCmd(LocalImages.BASE)
                .withName("it-users-" + USERS_IMAGE_TAG)
                .withLabels(Map.of("ai.dstack.agent.test", "true"))
                .withCmd("/bin/sh", "-c", "groupadd -g 2001 devs && groupadd -g 2002 ops "
                        + "&& useradd -m -u 1500 -U -G devs,ops -s /bin/bash alice")
                .exec().getId();
        try {
            docker.startContainerCmd(id).exec();
            int exit = docker.waitContainerCmd(id).start().awaitStatusCode(60, TimeUnit.SECONDS);
            assertThat(exit).as("useradd in the base image").isZero();
            // the container's label is part of the committed image's config
            docker.commitCmd(id).withRepository(USERS_IMAGE_REPO).withTag(USERS_IMAGE_TAG).exec();
        } finally {
            docker.removeContainerCmd(id).withForce(true).exec();
        }
    }

    @AfterAll
    static void removeUsersImage() {
        try {
            Docker.client().removeImageCmd(USERS_IMAGE).withForce(true).exec();
        } catch (NotFoundException e) {
            // the image was never built: buildUsersImage failed and said why
        }
    }

    private static RunnerClient.Pulled runJob(RunnerContainer c, Map<String, Object> body, byte[] code) {
        return new RunnerClient(c.baseUrl()).runToEnd(body, code);
    }

    private static RunnerClient.Pulled runAs(String image, Map<String, Object> user, String script) {
        Map<String, Object> body = RunnerClient.shellJob(script);
        RunnerClient.spec(body).put("user", user);
        try (RunnerContainer c = RunnerContainer.start(image, ENV)) {
            return runJob(c, body, null);
        }
    }

    private static String state(RunnerClient.Pulled pulled) {
        return pulled.last().get("state").asText();
    }

    @Test
    void aNumericUserRunsTheJobWithThatUidAndGid() {
        RunnerClient.Pulled pulled = runAs(LocalImages.BASE, Map.of("uid", 1000, "gid", 1000),
                "echo \"uid=$(id -u) gid=$(id -g)\"");
        assertThat(state(pulled)).as(pulled.runnerLogs()).isEqualTo("done");
        assertThat(pulled.jobLogs()).contains("uid=1000 gid=1000");
    }

    @Test
    void aNamedUserFromTheImagesPasswdGetsItsHomeAndGroups() {
        RunnerClient.Pulled pulled = runAs(USERS_IMAGE, Map.of("username", "alice"),
                "echo \"user=$(id -un) uid=$(id -u) groups=$(id -G) home=$HOME\"; cd ~ && echo \"pwd=$(pwd)\"");
        assertThat(state(pulled)).as(pulled.runnerLogs()).isEqualTo("done");
        assertThat(pulled.jobLogs()).contains("user=alice uid=1500 groups=1500 2001 2002 home=/home/alice",
                "pwd=/home/alice");
    }

    @Test
    void anUnknownUserFailsTheJobWithAnExecutorError() {
        assertFailedBeforeTheJobRan(runAs(LocalImages.BASE, Map.of("username", "no-such-user"), "echo ran"),
                "executor_error", "no-such-user");
    }

    private static void assertFailedBeforeTheJobRan(RunnerClient.Pulled pulled, String reason, String messagePart) {
        assertThat(state(pulled)).isEqualTo("failed");
        assertThat(pulled.last().get("termination_reason").asText()).isEqualTo(reason);
        assertThat(pulled.last().get("termination_message").asText()).contains(messagePart);
        assertThat(pulled.jobLogs()).doesNotContain("ran");
    }

    @Test
    void aRepoOnTheHostIsClonedOverAFileUrlAndTheUploadedDiffApplied() throws IOException {
        Path dir = Files.createTempDirectory("it-repo-");
        Path work = dir.resolve("work");
        Path bare = dir.resolve("repo.git");
        Commands.run("git", "init", "-q", "-b", "main", work.toString());
        Files.writeString(work.resolve("greeting.txt"), "hello from git\n");
        git(work, "add", "greeting.txt");
        git(work, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "init");
        Commands.run("git", "clone", "-q", "--bare", work.toString(), bare.toString());
        Files.writeString(work.resolve("greeting.txt"), "changed by the diff\n");
        byte[] diff = git(work, "diff", "--binary").getBytes(StandardCharsets.UTF_8);
        assertThat(new String(diff, StandardCharsets.UTF_8)).contains("+changed by the diff");

        Map<String, Object> body = RunnerClient.shellJob("cat greeting.txt; git --no-pager log --format=%s");
        RunnerClient.spec(body).put("working_dir", "/workflow");
        RunnerClient.spec(body).put("repo_data", Map.of("repo_type", "remote", "repo_branch", "main"));
        body.put("repo_credentials", Map.of("clone_url", "file:///srv/repo.git"));
        Map<String, Object> task = Map.of("instance_mounts",
                List.of(Map.of("instance_path", bare.toString(), "path", "/srv/repo.git")));
        try (RunnerContainer c = RunnerContainer.start(LocalImages.BASE, ENV, task)) {
            RunnerClient.Pulled pulled = runJob(c, body, diff);
            assertThat(state(pulled)).as(pulled.runnerLogs()).isEqualTo("done");
            assertThat(pulled.jobLogs()).contains("changed by the diff\ninit\n").doesNotContain("hello from git");
        } finally {
            Commands.run("rm", "-rf", dir.toString());
        }
    }

    private static String git(Path repo, String... args) {
        String[] command = new String[args.length + 3];
        command[0] = "git";
        command[1] = "-C";
        command[2] = repo.toString();
        System.arraycopy(args, 0, command, 3, args.length);
        return Commands.run(command);
    }

    @Test
    void aRemoteRepoWithoutCredentialsFailsTheJob() {
        Map<String, Object> body = RunnerClient.shellJob("echo ran");
        RunnerClient.spec(body).put("repo_data", Map.of("repo_type", "remote", "repo_branch", "main"));
        body.put("repo_credentials", null);
        try (RunnerContainer c = RunnerContainer.start(LocalImages.BASE, ENV)) {
            assertFailedBeforeTheJobRan(runJob(c, body, new byte[0]), "container_exited_with_error", "repo_credentials");
        }
    }

    @Test
    void theSshClientLogsInWithAContainerKeyAndALoginShellSeesTheJobsEnv() throws IOException {
        Path dir = Files.createTempDirectory("it-ssh-");
        Path key = dir.resolve("id_ed25519");
        Commands.run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "it", "-f", key.toString());
        String publicKey = Files.readString(dir.resolve("id_ed25519.pub")).strip();
        Map<String, Object> body = RunnerClient.shellJob("echo started; sleep 120");
        RunnerClient.spec(body).put("env", Map.of("GREETING", "hi"));
        try (RunnerContainer c = RunnerContainer.start(LocalImages.BASE, ENV, Map.of("container_ssh_keys", List.of(publicKey)))) {
            RunnerClient api = new RunnerClient(c.baseUrl());
            api.awaitHealthy();
            api.submit(body);
            api.post("/api/run");
            api.awaitState("running");
            String[] loginShell = ssh(c, key, "bash -lc 'echo \"greeting=$GREETING\"'");
            // sshd comes up next to the job; retry until it answers
            Awaitility.await().atMost(60, TimeUnit.SECONDS).pollInterval(500, TimeUnit.MILLISECONDS)
                    .ignoreExceptions().until(() -> Commands.run(loginShell).contains("greeting=hi"));
            Path otherKey = dir.resolve("other");
            Commands.run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "other", "-f", otherKey.toString());
            assertThat(Commands.succeeds(ssh(c, otherKey, "true"))).as("a key not given: no login").isFalse();
            assertThat(api.post("/api/stop").status()).isEqualTo(200);
            assertThat(api.pullToEnd().last().get("state").asText()).isEqualTo("terminated");
        } finally {
            Commands.run("rm", "-rf", dir.toString());
        }
    }

    /** The host's ssh client logging in as root with only {@code key}, running {@code command}. */
    private static String[] ssh(RunnerContainer c, Path key, String command) {
        return new String[] {"ssh", "-i", key.toString(), "-p", String.valueOf(c.hostPort(SSH_PORT)),
            "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "BatchMode=yes",
            "-o", "IdentitiesOnly=yes", "-o", "IdentityAgent=none", "-o", "LogLevel=ERROR", "root@127.0.0.1", command};
    }

    @Test
    void cgroupV1MetricsFollowABusyLoopAndTwoHundredMibInTheJobsContainer() {
        // the job spins, then on a signal fills a tmpfs (charged to the container's memory cgroup) and holds it
        Map<String, Object> body = RunnerClient.shellJob("(while :; do :; done) & spin=$!; "
                + "while [ ! -f /tmp/go ]; do sleep 0.1; done; kill $spin; "
                + "dd if=/dev/zero of=/dev/shm/fill bs=1M count=200 2>/dev/null; touch /tmp/filled; sleep 600");
        try (RunnerContainer c = RunnerContainer.start(LocalImages.BASE, ENV, Map.of("shm_size", 256 * MIB))) {
            RunnerClient api = new RunnerClient(c.baseUrl());
            api.awaitHealthy();
            api.submit(body);
            api.post("/api/run");
            api.awaitState("running");
            JsonNode first = metrics(api);
            Awaitility.await().atMost(60, TimeUnit.SECONDS).pollInterval(200, TimeUnit.MILLISECONDS)
                    .until(() -> metrics(api).get("cpu_usage_micro").asLong() > first.get("cpu_usage_micro").asLong());
            JsonNode before = metrics(api);
            c.exec("touch /tmp/go");
            Awaitility.await().atMost(60, TimeUnit.SECONDS).pollInterval(200, TimeUnit.MILLISECONDS)
                    .until(() -> c.exec("ls /tmp/filled 2>/dev/null").contains("/tmp/filled"));
            JsonNode after = metrics(api);
            long grown = after.get("memory_usage_bytes").asLong() - before.get("memory_usage_bytes").asLong();
            System.out.printf("cpu_usage_micro %d -> %d; memory_usage_bytes %d -> %d (+%d MiB); working set %d -> %d%n",
                    first.get("cpu_usage_micro").asLong(), before.get("cpu_usage_micro").asLong(),
                    before.get("memory_usage_bytes").asLong(), after.get("memory_usage_bytes").asLong(), grown / MIB,
                    before.get("memory_working_set_bytes").asLong(), after.get("memory_working_set_bytes").asLong());
            assertThat(grown).isGreaterThan(150 * MIB);
            assertThat(after.get("memory_working_set_bytes").asLong())
                    .isLessThanOrEqualTo(after.get("memory_usage_bytes").asLong())
                    .isGreaterThan(before.get("memory_working_set_bytes").asLong() + 150 * MIB);
            api.post("/api/stop");
            api.pullToEnd();
        }
    }

    private static JsonNode metrics(RunnerClient api) {
        RunnerClient.Reply r = api.get("/api/metrics");
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        return r.json();
    }
}
