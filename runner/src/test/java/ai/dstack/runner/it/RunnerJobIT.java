package ai.dstack.runner.it;

import static org.assertj.core.api.Assertions.assertThat;

import ai.dstack.agent.testing.LocalImages;
import ai.dstack.agent.testing.RunnerContainer;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;

import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The runner in real containers, started as the shim starts it, driven over its published port in
 * the order the dstack server uses (docs/runner.md §10).
 */
class RunnerJobIT {
    private static final Map<String, String> ENV = Map.of(
            "DSTACK_RUNNER_LOGS_TIMEOUT_MS", "20000",
            "DSTACK_RUNNER_START_TIMEOUT_MS", "120000");

    private static RunnerContainer start(String image) {
        return RunnerContainer.start(image, ENV);
    }

    private static String state(JsonNode s) {
        return s.get("state").asText();
    }

    @ParameterizedTest
    @ValueSource(strings = {LocalImages.BASE, LocalImages.BUSYBOX})
    void echoJobRunsAsSessionLeaderWithThePtyAsControllingTerminal(String image) {
        try (RunnerContainer c = start(image)) {
            RunnerClient api = new RunnerClient(c.baseUrl());
            JsonNode health = api.awaitHealthy().json();
            assertThat(health.get("service").asText()).isEqualTo("dstack-runner");
            assertThat(health.get("version").asText()).isEqualTo("0.21.2");
            assertThat(api.submit(RunnerClient.shellJob("echo hello; tty; "
                    + "echo \"pid=$$ sid=$(cut -d' ' -f6 /proc/$$/stat)\"; ps -o sid,pid,tty 2>/dev/null || true"))
                    .status()).isEqualTo(200);
            RunnerClient.Reply run = api.post("/api/run");
            assertThat(run.status()).isEqualTo(200);
            assertThat(run.contentType()).startsWith("application/json");
            assertThat(run.json().get("working_dir").asText()).isEqualTo("/");
            assertThat(run.json().get("username").asText()).isEqualTo("root");

            RunnerClient.Pulled pulled = api.pullToEnd();
            System.out.printf("[%s] job output:%n%s", image, pulled.jobLogs());
            assertThat(pulled.states()).extracting(RunnerJobIT::state).containsExactly("running", "done");
            assertThat(pulled.last().get("exit_status").asInt()).isZero();
            assertThat(pulled.jobLogs()).contains("hello\n").containsPattern("(?m)^/dev/pts/\\d+$");
            var m = java.util.regex.Pattern.compile("pid=(\\d+) sid=(\\d+)").matcher(pulled.jobLogs());
            assertThat(m.find()).isTrue();
            assertThat(m.group(1)).as("the job's shell leads its own session").isEqualTo(m.group(2));
            if (image.equals(LocalImages.BUSYBOX)) {
                assertThat(pulled.runnerLogs()).as("no sshd: the runner says so and goes on").contains("SSH is unavailable");
            } else {
                assertThat(c.exec("ls /dstack/ssh/conf; ls /dstack/ssh/log")).contains("sshd_config", "authorized_keys", "sshd.log");
                assertThat(pulled.jobLogs()).containsPattern("(?m)^\\s*" + m.group(1) + "\\s+" + m.group(1) + "\\s+pts/\\d+");
            }
            assertThat(api.post("/api/stop").status()).isEqualTo(200);
            awaitExit(c);
            assertThat(c.exitCode()).as("the runner exits 0 when stopped after the final pull").isZero();
        }
    }

    @Test
    void afterTheFinalPullTheRunnerAnswersAgainUntilStoppedAndDrainsAWebsocketThatStays() throws Exception {
        // no DSTACK_RUNNER_LOGS_TIMEOUT_MS: the runner lingers for the default budget (5 min) unless stopped
        try (RunnerContainer c = RunnerContainer.start(LocalImages.BUSYBOX, Map.of("DSTACK_RUNNER_START_TIMEOUT_MS", "120000"))) {
            RunnerClient api = new RunnerClient(c.baseUrl());
            api.awaitHealthy();
            api.submit(RunnerClient.shellJob("echo one; echo two"));
            WsRecorder stays = WsRecorder.open(c.baseUrl().replace("http://", "ws://") + "/logs_ws");
            api.post("/api/run");
            RunnerClient.Pulled pulled = api.pullToEnd();
            assertThat(pulled.last().get("state").asText()).isEqualTo("done");

            // the final response was lost: the server pulls again from the start, then from last_updated
            JsonNode again = api.get("/api/pull?timestamp=0").json();
            assertThat(again.get("has_more").asBoolean()).isFalse();
            assertThat(again.get("job_states").get(again.get("job_states").size() - 1)).isEqualTo(pulled.last());
            JsonNode nothingNew = api.get("/api/pull?timestamp=" + again.get("last_updated").asLong()).json();
            assertThat(nothingNew.get("job_states")).isEmpty();
            assertThat(nothingNew.get("job_logs")).isEmpty();
            assertThat(nothingNew.get("runner_logs")).isEmpty();
            assertThat(nothingNew.get("has_more").asBoolean()).isFalse();
            assertThat(nothingNew.get("last_updated").asLong()).isEqualTo(again.get("last_updated").asLong());

            assertThat(stays.closed.get(30, TimeUnit.SECONDS)).as("the websocket is drained and closed").isEqualTo(1000);
            assertThat(stays.text()).contains("one\r\ntwo\r\n");
            assertThat(api.get("/api/healthcheck").status()).isEqualTo(200);
            assertThat(c.running()).as("the runner lingers after the final pull").isTrue();

            assertThat(api.post("/api/stop").status()).isEqualTo(200);
            awaitExit(c);
            assertThat(c.exitCode()).isZero();
        }
    }

    private static void awaitExit(RunnerContainer c) {
        org.awaitility.Awaitility.await().atMost(60, TimeUnit.SECONDS).until(() -> !c.running());
    }

    @Test
    void theLauncherAnswersVersionWithoutJavaHonouringTheReportedVersion() throws Exception {
        Path alone = Files.createTempDirectory("launcher-alone").resolve("dstack-runner");
        Files.copy(RunnerContainer.runtimeDir().resolve("bin/dstack-runner"), alone);
        for (var env : List.of(Map.<String, String>of(), Map.of("DSTACK_REPORTED_VERSION", "0.20.30"))) {
            ProcessBuilder pb = new ProcessBuilder("/bin/sh", alone.toString(), "--version").redirectErrorStream(true);
            pb.environment().remove("DSTACK_REPORTED_VERSION");
            pb.environment().putAll(env);
            Process p = pb.start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(p.waitFor()).isZero();
            assertThat(out).isEqualTo("dstack-runner version " + env.getOrDefault("DSTACK_REPORTED_VERSION", "0.21.2") + "\n");
        }
    }

    @Test
    void withoutARunTheRunnerExitsOneAtTheStartDeadline() {
        try (RunnerContainer c = RunnerContainer.start(LocalImages.BUSYBOX, Map.of("DSTACK_RUNNER_START_TIMEOUT_MS", "1500"))) {
            new RunnerClient(c.baseUrl()).awaitHealthy();
            awaitExit(c);
            assertThat(c.exitCode()).isEqualTo(1);
            assertThat(c.logs()).contains("no job was started");
        }
    }

    @Test
    void codeArchiveEnvAndExitStatusInTheServersOrder() throws IOException {
        try (RunnerContainer c = start(LocalImages.BASE)) {
            RunnerClient api = new RunnerClient(c.baseUrl());
            api.awaitHealthy();
            Map<String, Object> body = RunnerClient.shellJob("cat hello.txt src/a.txt /opt/files/data.txt; "
                    + "echo \"run=$DSTACK_RUN_NAME g=$GREETING s=$SECRET_TOKEN rank=$DSTACK_NODE_RANK "
                    + "gpus=$DSTACK_GPUS_NUM ip=$DSTACK_MASTER_NODE_IP repo=$DSTACK_REPO_DIR wd=$(pwd) home=$HOME\"; "
                    + "stat -c %a /dstack/profile; exit 3");
            RunnerClient.spec(body).put("working_dir", "/workflow");
            RunnerClient.spec(body).put("repo_data", Map.of("repo_type", "local", "repo_dir", "/client/x"));
            RunnerClient.spec(body).put("file_archives", List.of(Map.of("id", "a1b2", "path", "/opt/files")));
            assertThat(api.submit(body).status()).isEqualTo(200);
            assertThat(api.submit(body).status()).as("re-submit in wait_run").isEqualTo(200);
            assertThat(api.uploadArchive("a1b2", tar(t -> file(t, "files/data.txt", "from the archive\n"))).status())
                    .isEqualTo(200);
            assertThat(api.uploadCode(tar(t -> {
                file(t, "hello.txt", "from the repo\n");
                file(t, "src/a.txt", "nested\n");
            })).status()).isEqualTo(200);
            assertThat(api.post("/api/run").json().get("working_dir").asText()).isEqualTo("/workflow");

            RunnerClient.Pulled pulled = api.pullToEnd();
            assertThat(pulled.states()).extracting(RunnerJobIT::state).containsExactly("running", "failed");
            assertThat(pulled.last().get("exit_status").asInt()).isEqualTo(3);
            assertThat(pulled.last().get("termination_reason").asText()).isEqualTo("container_exited_with_error");
            assertThat(pulled.jobLogs()).contains("from the repo\n", "nested\n", "from the archive\n",
                    "run=quiet-fox-1 g=hi there s=s3cret rank=0 gpus=0 ip=10.0.0.5 repo=/workflow wd=/workflow home=/root",
                    "600\n");
            assertThat(pulled.runnerLogs()).contains("extracted archive a1b2 to /opt/files");
        }
    }

    @Test
    void aRemoteRepoIsClonedWithJGitAndTheUploadedDiffApplied() {
        try (RunnerContainer c = start(LocalImages.BASE)) {
            RunnerClient api = new RunnerClient(c.baseUrl());
            api.awaitHealthy();
            c.exec("git init -q -b main /srv/origin && cd /srv/origin && echo 'from git' > README "
                    + "&& git add README && git -c user.name=t -c user.email=t@t commit -qm init");
            Map<String, Object> body = RunnerClient.shellJob("cat README new.txt; git --no-pager log --format=%s; git config user.name");
            RunnerClient.spec(body).put("working_dir", "/workflow");
            RunnerClient.spec(body).put("repo_data", Map.of("repo_type", "remote", "repo_branch", "main",
                    "repo_config_name", "Jo", "repo_config_email", "jo@example.com"));
            body.put("repo_credentials", Map.of("clone_url", "file:///srv/origin"));
            api.submit(body);
            api.uploadCode(("diff --git a/new.txt b/new.txt\nnew file mode 100644\n--- /dev/null\n+++ b/new.txt\n"
                    + "@@ -0,0 +1 @@\n+from the diff\n").getBytes(StandardCharsets.UTF_8));
            api.post("/api/run");
            RunnerClient.Pulled pulled = api.pullToEnd();
            assertThat(pulled.last().get("state").asText()).as(pulled.runnerLogs()).isEqualTo("done");
            assertThat(pulled.jobLogs()).contains("from git\nfrom the diff\ninit\nJo\n");
        }
    }

    @Test
    void stopTerminatesTheJobAndTheFinalStateReachesAPullAfterStop() {
        try (RunnerContainer c = start(LocalImages.BASE)) {
            RunnerClient api = new RunnerClient(c.baseUrl());
            api.awaitHealthy();
            api.submit(RunnerClient.shellJob("echo sleeping; sleep 600"));
            api.post("/api/run");
            api.awaitState("running");
            org.awaitility.Awaitility.await().atMost(30, TimeUnit.SECONDS).until(() -> sleepers(c) == 1);
            assertThat(api.post("/api/stop").status()).isEqualTo(200);
            RunnerClient.Pulled pulled = api.pullToEnd();
            assertThat(pulled.last().get("state").asText()).isEqualTo("terminated");
            assertThat(pulled.last().get("termination_reason").asText()).isEmpty();
            assertThat(pulled.last().get("exit_status").isNull()).isTrue();
            assertThat(pulled.jobLogs()).contains("sleeping");
            assertThat(sleepers(c)).isZero();
        }
    }

    private static int sleepers(RunnerContainer c) {
        String out = c.exec("for p in /proc/[0-9]*; do tr '\\0' ' ' < $p/cmdline 2>/dev/null; echo; done | grep -c '^sleep 600' || true");
        return Integer.parseInt(out.trim());
    }

    @ParameterizedTest
    @ValueSource(strings = {LocalImages.BASE, LocalImages.BUSYBOX})
    void stopEndsTheWholeSessionIncludingANohupChild(String image) {
        try (RunnerContainer c = start(image)) {
            RunnerClient api = new RunnerClient(c.baseUrl());
            api.awaitHealthy();
            // busybox-static has no nohup applet: a subshell ignoring HUP, INT and TERM is harder to stop
            String child = image.equals(LocalImages.BASE) ? "nohup sleep 600" : "(trap '' HUP INT TERM; exec sleep 600)";
            api.submit(RunnerClient.shellJob("cd /tmp; " + child + " & echo started; wait"));
            api.post("/api/run");
            api.awaitState("running");
            org.awaitility.Awaitility.await().atMost(30, TimeUnit.SECONDS).until(() -> sleepers(c) == 1);
            assertThat(api.awaitState("running")).extracting(RunnerJobIT::state).containsExactly("running");
            long stoppedAt = System.currentTimeMillis();
            api.post("/api/stop");
            RunnerClient.Pulled pulled = api.pullToEnd();
            System.out.printf("[%s] nohup job terminated %d ms after stop%n", image, System.currentTimeMillis() - stoppedAt);
            assertThat(pulled.last().get("state").asText()).isEqualTo("terminated");
            assertThat(sleepers(c)).isZero();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {LocalImages.BASE, LocalImages.BUSYBOX})
    void aJobUserFromTheImagesPasswdGetsItsUidGidAndAPtyOfItsOwn(String image) {
        try (RunnerContainer c = start(image)) {
            RunnerClient api = new RunnerClient(c.baseUrl());
            api.awaitHealthy();
            String name = image.equals(LocalImages.BASE) ? "nobody" : "app";
            Map<String, Object> body = RunnerClient.shellJob("id; tty; ls -ln $(tty); echo \"home=$HOME\"");
            RunnerClient.spec(body).put("user", Map.of("username", name));
            api.submit(body);
            assertThat(api.post("/api/run").json().get("username").asText()).isEqualTo(name);
            RunnerClient.Pulled pulled = api.pullToEnd();
            System.out.printf("[%s] job as %s:%n%s", image, name, pulled.jobLogs());
            assertThat(pulled.last().get("state").asText()).isEqualTo("done");
            String uid = image.equals(LocalImages.BASE) ? "65534" : "1000";
            assertThat(pulled.jobLogs()).contains("uid=" + uid).containsPattern("(?m)^crw.*\\s" + uid + "\\s");
        }
    }

    @Test
    void maxDurationTerminatesTheJob() {
        try (RunnerContainer c = start(LocalImages.BUSYBOX)) {
            RunnerClient api = new RunnerClient(c.baseUrl());
            api.awaitHealthy();
            Map<String, Object> body = RunnerClient.shellJob("sleep 600");
            RunnerClient.spec(body).put("max_duration", 1);
            api.submit(body);
            api.post("/api/run");
            RunnerClient.Pulled pulled = api.pullToEnd();
            assertThat(pulled.last().get("state").asText()).isEqualTo("terminated");
            assertThat(pulled.last().get("termination_reason").asText()).isEqualTo("max_duration_exceeded");
            assertThat(pulled.last().get("termination_message").asText()).isEqualTo("Max duration exceeded");
        }
    }

    @Test
    void logQuotaFailsAChattyJob() {
        try (RunnerContainer c = start(LocalImages.BASE)) {
            RunnerClient api = new RunnerClient(c.baseUrl());
            api.awaitHealthy();
            Map<String, Object> body = RunnerClient.shellJob("while true; do echo 0123456789abcdefghijklmnopqrstuvwxyz; done");
            body.put("log_quota_hour", 1024);
            api.submit(body);
            api.post("/api/run");
            RunnerClient.Pulled pulled = api.pullToEnd();
            assertThat(pulled.last().get("state").asText()).isEqualTo("failed");
            assertThat(pulled.last().get("termination_reason").asText()).isEqualTo("log_quota_exceeded");
            assertThat(pulled.last().get("termination_message").asText()).contains("1024 bytes");
            assertThat(pulled.jobLogs().length()).isLessThanOrEqualTo(1024);
        }
    }

    @Test
    void fiftyMibOfLogsArePagedInOrderAndDoNotGrowTheRunnersMemory() {
        int lines = 50 * 1024 * 1024 / 100;
        String format = "line %09d abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ 0123456789 the quick brown fox jum\n";
        try (RunnerContainer c = start(LocalImages.BASE)) {
            RunnerClient api = new RunnerClient(c.baseUrl());
            api.awaitHealthy();
            Map<String, Object> body = RunnerClient.shellJob("awk 'BEGIN { for (i = 0; i < " + lines + "; i++) printf \""
                    + format.replace("\n", "\\n") + "\", i }'");
            body.put("log_quota_hour", null);
            api.submit(body);
            long rssBefore = rss(c, "VmRSS");
            api.post("/api/run");
            RunnerClient.Pulled pulled = api.pullToEnd();
            long peak = rss(c, "VmHWM");
            StringBuilder expected = new StringBuilder(lines * 100);
            for (int i = 0; i < lines; i++) {
                expected.append(String.format(format, i));
            }
            System.out.printf("50 MiB log: %d bytes in %d pulls; runner RSS idle %d KiB, peak %d KiB, growth %d KiB%n",
                    pulled.jobLogs().length(), pulled.pulls(), rssBefore, peak, peak - rssBefore);
            assertThat(pulled.last().get("state").asText()).isEqualTo("done");
            assertThat(pulled.jobLogs().length()).isEqualTo(expected.length());
            assertThat(pulled.jobLogs().equals(expected.toString())).as("decoded job_logs equal the printed lines").isTrue();
            // ~67 MiB of base64 in pages of at most ~16 MiB (DSTACK_RUNNER_PULL_MAX_BYTES), read from disk as written
            assertThat(pulled.pulls()).isGreaterThanOrEqualTo(5);
            // messages are read from disk as a page is written (4 MiB growth measured; 25-35 MiB when pages were built in memory)
            assertThat(peak - rssBefore).as("RSS growth in KiB").isLessThan(24 * 1024);
        }
    }

    /** A /proc/<runner>/status field of the runner's JVM, in KiB. */
    private static long rss(RunnerContainer c, String field) {
        String out = c.exec("for p in /proc/[0-9]*; do if tr '\\0' ' ' < $p/cmdline 2>/dev/null | grep -q '^/opt/dstack-runner/glibc/ld-linux'; then "
                + "grep " + field + " $p/status; fi; done");
        return Long.parseLong(out.replaceAll("[^0-9]", ""));
    }

    @Test
    void logsWebsocketStreamsRawOutputToTwoClientsAndClosesWith1000() throws Exception {
        try (RunnerContainer c = start(LocalImages.BASE)) {
            RunnerClient api = new RunnerClient(c.baseUrl());
            api.awaitHealthy();
            api.submit(RunnerClient.shellJob("for i in 1 2 3; do echo line$i; sleep 0.2; done"));
            String ws = c.baseUrl().replace("http://", "ws://") + "/logs_ws";
            WsRecorder first = WsRecorder.open(ws);
            WsRecorder second = WsRecorder.open(ws + "?start_time=2020-01-01T00:00:00%2B00:00");
            WsRecorder bad = WsRecorder.open(ws + "?start_time=yesterday");
            assertThat(bad.closed.get(30, TimeUnit.SECONDS)).isEqualTo(1003);
            api.post("/api/run");
            api.pullToEnd();
            for (WsRecorder client : List.of(first, second)) {
                assertThat(client.closed.get(30, TimeUnit.SECONDS)).isEqualTo(1000);
                assertThat(client.text()).contains("line1\r\nline2\r\nline3\r\n");
            }
        }
    }

    /** A websocket client that records binary frames and the close code. */
    static final class WsRecorder implements WebSocket.Listener {
        final ByteArrayOutputStream received = new ByteArrayOutputStream();
        final CompletableFuture<Integer> closed = new CompletableFuture<>();

        static WsRecorder open(String uri) {
            WsRecorder r = new WsRecorder();
            HttpClient.newHttpClient().newWebSocketBuilder().buildAsync(URI.create(uri), r).join();
            return r;
        }

        synchronized String text() {
            return received.toString(StandardCharsets.UTF_8);
        }

        @Override
        public CompletionStage<?> onBinary(WebSocket webSocket, ByteBuffer data, boolean last) {
            byte[] bytes = new byte[data.remaining()];
            data.get(bytes);
            synchronized (this) {
                received.writeBytes(bytes);
            }
            webSocket.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
            closed.complete(statusCode);
            return null;
        }

        @Override
        public void onError(WebSocket webSocket, Throwable error) {
            closed.completeExceptionally(error);
        }
    }

    @Test
    void archivesAndCodeNeverWriteOutsideTheirDestination() throws IOException {
        try (RunnerContainer c = start(LocalImages.BASE)) {
            RunnerClient api = new RunnerClient(c.baseUrl());
            api.awaitHealthy();
            Map<String, Object> body = RunnerClient.shellJob("ls /srv/files; cat /srv/files/ok.txt /srv/files/inner; "
                    + "echo \"links: $(readlink /srv/files/etc-link) $(readlink /srv/files/up) $(readlink /workflow/link)\"; "
                    + "echo \"outside:[$(ls -d /x /escape.txt /srv/escape.txt /abs.txt /escape-code.txt /etc/evil.txt 2>/dev/null)]\"; "
                    + "cat /workflow/hello.txt");
            RunnerClient.spec(body).put("repo_data", Map.of("repo_type", "local"));
            RunnerClient.spec(body).put("file_archives", List.of(Map.of("id", "evil", "path", "/srv/files")));
            api.submit(body);
            api.uploadArchive("evil", tar(t -> {
                file(t, "files/ok.txt", "fine\n");
                file(t, "files/../../escape.txt", "no\n");
                file(t, "../x", "no\n");
                file(t, "/abs.txt", "no\n");
                symlink(t, "files/etc-link", "/etc");
                symlink(t, "files/up", "../../..");
                symlink(t, "files/inner", "ok.txt");
            }));
            api.uploadCode(tar(t -> {
                file(t, "hello.txt", "repo\n");
                file(t, "../escape-code.txt", "no\n");
                symlink(t, "link", "/etc");
                file(t, "link/evil.txt", "no\n");
            }));
            api.post("/api/run");
            RunnerClient.Pulled pulled = api.pullToEnd();
            assertThat(pulled.last().get("state").asText()).isEqualTo("done");
            assertThat(pulled.jobLogs()).contains("fine\nfine\n");
            // links arrive as links wherever they point (docs/runner-field.md); nothing went through them
            assertThat(pulled.jobLogs()).contains("links: /etc ../../.. /etc");
            assertThat(pulled.runnerLogs()).contains("skipped archive entry ../x", "skipped archive entry ../escape-code.txt",
                    "skipped archive entry link/evil.txt: path goes through a symlink");
            // checked by the job itself: the runner's container stops soon after the final pull
            assertThat(pulled.jobLogs()).contains("outside:[]\nrepo\n");
        }
    }

    @Test
    void badInputsGetClearErrorsAndNeverA500() {
        try (RunnerContainer c = start(LocalImages.BUSYBOX)) {
            RunnerClient api = new RunnerClient(c.baseUrl());
            api.awaitHealthy();
            assertThat(api.get("/api/nope").status()).isEqualTo(404);
            RunnerClient.Reply wrongMethod = api.get("/api/submit");
            assertThat(wrongMethod.status()).isEqualTo(405);
            assertThat(api.post("/api/healthcheck").status()).isEqualTo(405);
            assertThat(api.send("HEAD", "/api/healthcheck", null, null).status()).isEqualTo(200);
            assertThat(api.post("/api/run").status()).isEqualTo(409);
            assertThat(api.uploadCode(new byte[0]).status()).isEqualTo(409);
            assertThat(api.get("/api/pull?timestamp=abc").status()).isEqualTo(400);
            assertThat(api.get("/api/pull?timestamp=").status()).isEqualTo(400);
            assertThat(api.get("/logs_ws").status()).isEqualTo(400);
            assertThat(api.send("POST", "/api/submit", "text/plain", "{}".getBytes()).status()).isEqualTo(415);
            assertThat(api.send("POST", "/api/submit", "application/json", new byte[0]).status()).isEqualTo(400);
            assertThat(api.send("POST", "/api/submit", "application/json", "{".getBytes()).status()).isEqualTo(400);
            assertThat(api.send("POST", "/api/submit", "application/json", "{} {}".getBytes()).status()).isEqualTo(400);
            assertThat(api.send("POST", "/api/submit", "application/json",
                    "{\"job_spec\":{\"job_num\":\"2\"}}".getBytes()).status()).isEqualTo(400);
            assertThat(api.send("POST", "/api/submit", "application/json",
                    "{\"job_spec\":{\"max_duration\":1.5}}".getBytes()).status()).isEqualTo(400);
            byte[] huge = ("{\"x\":\"" + "a".repeat(1024 * 1024) + "\"}").getBytes();
            assertThat(api.send("POST", "/api/submit", "application/json", huge).status()).isEqualTo(413);

            assertThat(api.submit(RunnerClient.job(List.of())).status()).isEqualTo(200);
            String form = "multipart/form-data; boundary=xyz";
            assertThat(api.send("POST", "/api/upload_archive", null, new byte[0]).body()).isEqualTo("missing content-type header\n");
            assertThat(api.send("POST", "/api/upload_archive", "text/plain", new byte[0]).body())
                    .isEqualTo("multipart/form-data expected, got text/plain\n");
            assertThat(api.send("POST", "/api/upload_archive", "multipart/form-data", new byte[0]).body())
                    .isEqualTo("missing boundary\n");
            assertThat(api.send("POST", "/api/upload_archive", form, new byte[0]).body()).isEqualTo("empty form\n");
            assertThat(api.send("POST", "/api/upload_archive", form, part("other", "f").getBytes()).body())
                    .isEqualTo("unexpected field other\n");
            assertThat(api.send("POST", "/api/upload_archive", form, part("archive", null).getBytes()).body())
                    .isEqualTo("missing file name\n");
            RunnerClient.Reply extra = api.send("POST", "/api/upload_archive", form,
                    (part("archive", "f").replace("--xyz--", "") + part("archive", "g")).getBytes());
            assertThat(extra.status()).isEqualTo(400);
            assertThat(extra.body()).isEqualTo("extra form field(s)\n");

            assertThat(api.post("/api/run").status()).isEqualTo(200);
            assertThat(api.submit(RunnerClient.job(List.of("true"))).status()).as("submit after run").isEqualTo(409);
            RunnerClient.Pulled pulled = api.pullToEnd();
            assertThat(pulled.last().get("state").asText()).isEqualTo("failed");
            assertThat(pulled.last().get("termination_reason").asText()).isEqualTo("executor_error");
        }
    }

    private static String part(String name, String filename) {
        return "--xyz\r\nContent-Disposition: form-data; name=\"" + name + "\""
                + (filename == null ? "" : "; filename=\"" + filename + "\"") + "\r\n\r\ncontent\r\n--xyz--\r\n";
    }

    interface TarWriter {
        void write(TarArchiveOutputStream tar) throws IOException;
    }

    static byte[] tar(TarWriter writer) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (TarArchiveOutputStream tar = new TarArchiveOutputStream(out)) {
            tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
            writer.write(tar);
        }
        return out.toByteArray();
    }

    static void file(TarArchiveOutputStream tar, String name, String content) throws IOException {
        byte[] bytes = content.getBytes(StandardCharsets.UTF_8);
        TarArchiveEntry e = new TarArchiveEntry(name, true);
        e.setSize(bytes.length);
        e.setMode(0100644);
        tar.putArchiveEntry(e);
        tar.write(bytes);
        tar.closeArchiveEntry();
    }

    static void symlink(TarArchiveOutputStream tar, String name, String target) throws IOException {
        TarArchiveEntry e = new TarArchiveEntry(name, TarArchiveEntry.LF_SYMLINK, true);
        e.setLinkName(target);
        tar.putArchiveEntry(e);
        tar.closeArchiveEntry();
    }

}
