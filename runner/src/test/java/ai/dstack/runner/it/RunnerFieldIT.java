package ai.dstack.runner.it;

import static org.assertj.core.api.Assertions.assertThat;

import ai.dstack.agent.testing.Docker;
import ai.dstack.agent.testing.LocalImages;
import ai.dstack.agent.testing.RunnerContainer;
import ai.dstack.agent.testing.TestDockerd;
import com.fasterxml.jackson.databind.JsonNode;
import com.github.dockerjava.api.DockerClient;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * Issue 14: the runner with the images, repositories and limits users really have, each job
 * started through our shim in a real container and driven in the server's order.
 */
class RunnerFieldIT {
    private static final Map<String, String> ENV = Map.of(
            "DSTACK_RUNNER_LOGS_TIMEOUT_MS", "20000",
            "DSTACK_RUNNER_START_TIMEOUT_MS", "120000");

    private static RunnerClient.Pulled runJob(RunnerContainer c, Map<String, Object> body, byte[] code) {
        return new RunnerClient(c.baseUrl()).runToEnd(body, code);
    }

    /** An image without LANG (like most CUDA and Ubuntu images) whose config sets a non-ASCII value. */
    private static String imageWithNonAsciiEnv(String base) {
        DockerClient docker = Docker.client();
        String tag = UUID.randomUUID().toString().substring(0, 8);
        String id = docker.createContainerCmd(base).withName("it-field-" + tag)
                .withLabels(Map.of("ai.dstack.agent.test", "true")).withCmd("/bin/true").exec().getId();
        try {
            docker.commitCmd(id).withRepository("dstack-local/it-field").withTag(tag)
                    .withEnv("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "GREET=héllo")
                    .exec();
        } finally {
            docker.removeContainerCmd(id).withForce(true).exec();
        }
        return "dstack-local/it-field:" + tag;
    }

    private static String hex(String s) {
        StringBuilder out = new StringBuilder();
        for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
            out.append(' ').append(String.format("%02x", b & 0xff));
        }
        return out.toString();
    }

    @Test
    void fileNamesEnvironmentWorkingDirAndArgumentsGoThroughByteExactInAnImageWithoutALocale() {
        String image = imageWithNonAsciiEnv(LocalImages.BUSYBOX);
        try (RunnerContainer c = RunnerContainer.start(image, ENV)) {
            assertThat(c.exec("echo \"lang=${LANG:-none} lc_all=${LC_ALL:-none}\"")).contains("lang=none lc_all=none");
            // od prints bytes, so the job's own output encoding plays no part
            Map<String, Object> body = RunnerClient.job(List.of("/bin/sh", "-c",
                    "echo \"name:$(for f in *; do printf '%s\\n' \"$f\"; done | od -An -tx1)\"; echo \"greet:$(printf %s \"$GREET\" | od -An -tx1)\"; "
                            + "echo \"spec:$(printf %s \"$ZOE\" | od -An -tx1)\"; echo \"wd:$(pwd | od -An -tx1)\"; "
                            + "echo \"arg:$(printf %s \"$1\" | od -An -tx1)\"; echo \"lc_all=${LC_ALL:-none}\"",
                    "sh", "ärg"));
            RunnerClient.spec(body).put("working_dir", "/wörk");
            RunnerClient.spec(body).put("repo_dir", "/wörk");
            RunnerClient.spec(body).put("env", Map.of("ZOE", "zoë"));
            RunnerClient.spec(body).put("repo_data", Map.of("repo_type", "local", "repo_dir", "/client/x"));
            byte[] code = tar(Map.of("café.py", "print('hi')\n"));
            RunnerClient.Pulled pulled = runJob(c, body, code);
            assertThat(pulled.last().get("state").asText()).as(pulled.runnerLogs()).isEqualTo("done");
            String out = pulled.jobLogs().replaceAll("\\s+\\n", "\n").replaceAll(" +", " ");
            assertThat(out).contains("name:" + hex("café.py\n"), "greet:" + hex("héllo"), "spec:" + hex("zoë"),
                    "wd:" + hex("/wörk\n"), "arg:" + hex("ärg"), "lc_all=none");
        } finally {
            Docker.client().removeImageCmd(image).withForce(true).exec();
        }
    }

    @Test
    void aWorkingDirThatCannotBeAPathFailsTheJobWithAReasonAndTheRunnerFinishes() {
        try (RunnerContainer c = RunnerContainer.start(LocalImages.BUSYBOX, ENV)) {
            RunnerClient api = new RunnerClient(c.baseUrl());
            api.awaitHealthy();
            Map<String, Object> body = RunnerClient.shellJob("echo never");
            RunnerClient.spec(body).put("working_dir", "/a\u0000b");
            assertThat(api.submit(body).status()).isEqualTo(200);
            assertThat(api.post("/api/run").status()).isEqualTo(200);
            RunnerClient.Pulled pulled = api.pullToEnd();
            JsonNode last = pulled.last();
            assertThat(last.get("state").asText()).isEqualTo("failed");
            assertThat(last.get("termination_reason").asText()).isEqualTo("executor_error");
            assertThat(last.get("termination_message").asText()).startsWith("Failed to set job working dir (");
            Awaitility.await().atMost(60, TimeUnit.SECONDS).until(() -> !c.running());
            assertThat(c.exitCode()).isZero();
        }
    }

    @Test
    void theJobAndSshdGetTheContainersOpenFilesLimit() {
        String why = TestDockerd.unavailableBecause();
        Assumptions.assumeTrue(why == null, why);
        try (TestDockerd engine = TestDockerd.start(List.of(), Map.of(),
                "{\"default-ulimits\": {\"nofile\": {\"Name\": \"nofile\", \"Soft\": 1024, \"Hard\": 20000}}}")) {
            engine.loadImage(LocalImages.BASE);
            try (RunnerContainer c = RunnerContainer.start(engine.host(), LocalImages.BASE, ENV, Map.of())) {
                Map<String, Object> body = RunnerClient.shellJob("echo \"nofile=$(ulimit -Sn):$(ulimit -Hn)\"; "
                        + "for p in /proc/[0-9]*; do if [ \"$(cat $p/comm 2>/dev/null)\" = sshd ]; then "
                        + "echo \"sshd $(grep 'Max open files' $p/limits | tr -s ' ')\"; fi; done");
                RunnerClient.Pulled pulled = runJob(c, body, null);
                assertThat(pulled.last().get("state").asText()).as(pulled.runnerLogs()).isEqualTo("done");
                assertThat(pulled.jobLogs()).contains("nofile=1024:20000").contains("sshd Max open files 1024 20000 files");
            }
        }
    }

    @Test
    void codeSymlinksArriveAsLinksAndNothingIsWrittenThroughThem() {
        try (RunnerContainer c = RunnerContainer.start(LocalImages.BUSYBOX, ENV)) {
            Map<String, String> entries = new java.util.LinkedHashMap<>();
            entries.put("true", "-> /bin/busybox");
            entries.put("shared", "-> ../shared");
            entries.put("tmp", "-> /tmp");
            entries.put("tmp/escaped.txt", "must not land in /tmp\n");
            entries.put("/abs/x.txt", "re-rooted\n");
            Map<String, Object> body = RunnerClient.shellJob("echo \"true=$(readlink true) shared=$(readlink shared) "
                    + "tmp=$(readlink tmp)\"; ls /tmp/escaped.txt 2>/dev/null || echo not-in-tmp; cat abs/x.txt; ./true && echo runs");
            RunnerClient.spec(body).put("working_dir", "/workflow");
            RunnerClient.spec(body).put("repo_data", Map.of("repo_type", "local", "repo_dir", "/client/x"));
            RunnerClient.Pulled pulled = runJob(c, body, tar(entries));
            assertThat(pulled.last().get("state").asText()).as(pulled.runnerLogs()).isEqualTo("done");
            assertThat(pulled.jobLogs()).contains("true=/bin/busybox shared=../shared tmp=/tmp\n", "not-in-tmp\n",
                    "re-rooted\n", "runs\n");
            assertThat(pulled.runnerLogs()).contains("tmp/escaped.txt");
        }
    }

    @Test
    void aRepoGivenByUrlKeepsTheUsersOwnGitIdentity() {
        try (RunnerContainer c = RunnerContainer.start(LocalImages.BASE, ENV)) {
            c.exec("git init -q -b main /srv/origin && cd /srv/origin && echo hi > README "
                    + "&& git add README && git -c user.name=t -c user.email=t@t commit -qm init");
            Map<String, Object> body = RunnerClient.shellJob("git config --global user.name 'Own Name' "
                    + "&& git config --global user.email own@example.com && echo x > new.txt && git add new.txt "
                    + "&& git commit -qm mine && git --no-pager log -1 --format='author=%an'");
            RunnerClient.spec(body).put("working_dir", "/workflow");
            RunnerClient.spec(body).put("repo_data", Map.of("repo_type", "remote", "repo_branch", "main"));
            body.put("repo_credentials", Map.of("clone_url", "file:///srv/origin"));
            RunnerClient.Pulled pulled = runJob(c, body, null);
            assertThat(pulled.last().get("state").asText()).as(pulled.jobLogs() + pulled.runnerLogs()).isEqualTo("done");
            assertThat(pulled.jobLogs()).contains("author=Own Name");
        }
    }

    /**
     * With {@code CAP_SYS_RESOURCE} the job gets unlimited locked memory; without it the launcher
     * leaves the container's limit and the runner starts all the same. (This machine's own
     * bounding set lacks {@code CAP_SYS_RESOURCE}, so only the second branch runs here.)
     */
    @Test
    void lockedMemoryIsUnlimitedWhereTheContainerMayRaiseItAndUntouchedElsewhere() {
        try (RunnerContainer c = RunnerContainer.start(LocalImages.BUSYBOX, ENV)) {
            String containerDefault = c.exec("ulimit -l").trim();
            RunnerClient.Pulled pulled = runJob(c, RunnerClient.shellJob(
                    "echo \"memlock=$(ulimit -l) capeff=$(grep CapEff /proc/self/status | cut -f2)\""), null);
            assertThat(pulled.last().get("state").asText()).as(pulled.runnerLogs()).isEqualTo("done");
            var m = java.util.regex.Pattern.compile("memlock=(\\S+) capeff=([0-9a-f]+)").matcher(pulled.jobLogs());
            assertThat(m.find()).as(pulled.jobLogs()).isTrue();
            boolean sysResource = (Long.parseUnsignedLong(m.group(2), 16) & (1L << 24)) != 0;
            System.out.println("[memlock] container default " + containerDefault + ", job " + m.group(1)
                    + ", CAP_SYS_RESOURCE " + sysResource);
            assertThat(m.group(1)).isEqualTo(sysResource ? "unlimited" : containerDefault);
        }
    }

    /**
     * A forwarding proxy inside the container (perl, from the base image) that logs each request
     * line and answers every proxied {@code GET} from {@code /srv/www} whatever host it names;
     * {@code CONNECT} gets 502.
     */
    private static final String PROXY = """
            cat > /tmp/proxy.pl <<'EOF'
            use IO::Socket::INET;
            my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 3128, Listen => 16, ReuseAddr => 1) or die;
            open(my $log, '>>', '/tmp/proxy.log') or die; $log->autoflush(1);
            while (my $c = $s->accept) {
                binmode $c; my $req = <$c>; next unless defined $req; $req =~ s/\\r?\\n$//; print $log "$req\\n";
                while (my $h = <$c>) { last if $h =~ /^\\r?\\n$/ }
                my ($m, $u) = split / /, $req;
                my ($path) = $u =~ m{^http://[^/]+(/[^?]*)};
                my $f = defined $path && $path !~ /\\.\\./ ? "/srv/www$path" : '';
                if ($m ne 'CONNECT' && -f $f && open(my $fh, '<:raw', $f)) {
                    local $/; my $b = <$fh>;
                    print $c "HTTP/1.1 200 OK\\r\\nContent-Type: application/octet-stream\\r\\nContent-Length: " . length($b)
                        . "\\r\\nConnection: close\\r\\n\\r\\n$b";
                } else {
                    print $c "HTTP/1.1 " . ($m eq 'CONNECT' ? '502 Bad Gateway' : '404 Not Found')
                        . "\\r\\nContent-Length: 0\\r\\nConnection: close\\r\\n\\r\\n";
                }
                close $c;
            }
            EOF
            git init -q -b main /tmp/work && cd /tmp/work && echo 'through the proxy' > README && git add README
            git -c user.name=t -c user.email=t@t commit -qm init
            git clone -q --bare /tmp/work /srv/www/repo.git && git -C /srv/www/repo.git update-server-info
            (perl /tmp/proxy.pl </dev/null >/tmp/proxy.out 2>&1 &)
            for i in $(seq 100); do grep -qi ':0C38 00000000:0000 0A' /proc/net/tcp && break; sleep 0.1; done
            """;

    @Test
    void anHttpCloneGoesThroughTheProxyTheContainerWasGiven() {
        Map<String, String> env = new java.util.HashMap<>(ENV);
        env.put("http_proxy", "http://127.0.0.1:3128");
        try (RunnerContainer c = RunnerContainer.start(LocalImages.BASE, env)) {
            c.exec(PROXY);
            Map<String, Object> body = RunnerClient.shellJob("cat README /tmp/proxy.log");
            RunnerClient.spec(body).put("working_dir", "/workflow");
            RunnerClient.spec(body).put("repo_data", Map.of("repo_type", "remote", "repo_branch", "main"));
            // the name does not resolve: only the proxy can reach it
            body.put("repo_credentials", Map.of("clone_url", "http://git.example.test/repo.git"));
            RunnerClient.Pulled pulled = runJob(c, body, null);
            assertThat(pulled.last().get("state").asText()).as(pulled.runnerLogs()).isEqualTo("done");
            assertThat(pulled.jobLogs()).contains("through the proxy\n", "GET http://git.example.test/repo.git/info/refs");
        }
    }

    /** Generates a bare repo of about 500k objects with git fast-import and serves it with git daemon on loopback. */
    private static final String BIG_REPO = """
            set -e
            git init -q --bare -b main /srv/big.git
            cd /srv/big.git
            awk -v C=980 -v F=500 'BEGIN { for (c = 1; c <= C; c++) {
                printf "commit refs/heads/main\\ncommitter T <t@t> %d +0000\\ndata 1\\nc\\n", 1700000000 + c;
                for (f = 0; f < F; f++) { s = sprintf("commit %d file %d\\n", c, f);
                    printf "M 100644 inline d%d/f%d\\ndata %d\\n%s\\n", f % 10, f, length(s), s } } }' \
              | git fast-import --quiet
            git config pack.window 0
            git count-objects -v | grep in-pack > /srv/objects
            git daemon --reuseaddr --listen=127.0.0.1 --port=9418 --base-path=/srv --export-all --detach /srv
            touch /srv/ready
            """;

    @Test
    void aRepositoryOfHalfAMillionObjectsClonesInAChildJvmAndTheRunnerStaysSmall() {
        try (RunnerContainer c = RunnerContainer.start(LocalImages.BASE, ENV)) {
            RunnerClient api = new RunnerClient(c.baseUrl());
            api.awaitHealthy();
            c.exec("(sh -c '" + BIG_REPO.replace("'", "'\\''") + "' > /srv-gen.log 2>&1 &)");
            Awaitility.await().atMost(4, TimeUnit.MINUTES).pollInterval(1, TimeUnit.SECONDS)
                    .until(() -> c.exec("test -f /srv/ready && echo generated-ok").contains("generated-ok"));
            String objects = c.exec("cat /srv/objects");
            System.out.println("[big repo] " + objects.trim() + "; runner " + runnerRss(c) + " before the job");
            Map<String, Object> body = RunnerClient.shellJob("git count-objects -v | grep in-pack; wc -l < d3/f33; "
                    + "mkfifo /tmp/hold; cat /tmp/hold");
            RunnerClient.spec(body).put("working_dir", "/workflow");
            RunnerClient.spec(body).put("repo_data", Map.of("repo_type", "remote", "repo_branch", "main"));
            body.put("repo_credentials", Map.of("clone_url", "git://127.0.0.1/big.git"));
            assertThat(api.submit(body).status()).isEqualTo(200);
            assertThat(api.post("/api/run").status()).isEqualTo(200);
            long start = System.currentTimeMillis();
            Awaitility.await().atMost(3, TimeUnit.MINUTES).pollInterval(1, TimeUnit.SECONDS)
                    .until(() -> c.exec("test -p /tmp/hold && echo holding").contains("holding") || !c.running());
            System.out.println("[big repo] cloned and job started after " + (System.currentTimeMillis() - start)
                    + " ms; runner " + runnerRss(c) + " after the clone");
            c.exec("echo go > /tmp/hold");
            RunnerClient.Pulled pulled = api.pullToEnd();
            assertThat(pulled.last().get("state").asText()).as(pulled.runnerLogs()).isEqualTo("done");
            int inPack = Integer.parseInt(objects.replaceAll("\\D", ""));
            assertThat(inPack).isGreaterThanOrEqualTo(500_000);
            assertThat(pulled.jobLogs()).contains("in-pack: ").contains("\n1\n");
        }
    }

    /** {@code /api/stop} while the repo clones: the clone child is killed at once and the job ends terminated. */
    @Test
    void aStopDuringACloneKillsTheCloneAndTheJobEndsTerminated() {
        try (RunnerContainer c = RunnerContainer.start(LocalImages.BUSYBOX, ENV)) {
            RunnerClient api = new RunnerClient(c.baseUrl());
            api.awaitHealthy();
            // a server that accepts and never answers: the clone waits in its first request
            c.exec("(sleep 600 | nc -l -p 9999 > /dev/null 2>&1 &) < /dev/null");
            Map<String, Object> body = RunnerClient.shellJob("echo the job ran");
            RunnerClient.spec(body).put("working_dir", "/workflow");
            RunnerClient.spec(body).put("repo_data", Map.of("repo_type", "remote", "repo_branch", "main"));
            body.put("repo_credentials", Map.of("clone_url", "http://127.0.0.1:9999/never.git"));
            assertThat(api.submit(body).status()).isEqualTo(200);
            assertThat(api.post("/api/run").status()).isEqualTo(200);
            Awaitility.await().atMost(3, TimeUnit.MINUTES).pollInterval(200, TimeUnit.MILLISECONDS)
                    .until(() -> !cloneChildren(c).isEmpty());
            assertThat(api.post("/api/stop").status()).isEqualTo(200);
            RunnerClient.Pulled pulled = api.pullToEnd();
            assertThat(pulled.last().get("state").asText()).as(pulled.runnerLogs()).isEqualTo("terminated");
            assertThat(pulled.jobLogs()).doesNotContain("the job ran");
            assertThat(cloneChildren(c)).isEmpty();
        }
    }

    /** Pids of clone children in the container ({@code [C]}: the pattern does not match this script's own shell). */
    private static String cloneChildren(RunnerContainer c) {
        return c.exec("for p in /proc/[0-9]*; do if tr '\\0' ' ' < $p/cmdline 2>/dev/null | grep -q ' ai[.]dstack[.]runner[.]repo[.][C]loneMain '; "
                + "then echo ${p#/proc/}; fi; done").trim();
    }

    /** VmRSS of the runner's JVM (not of a clone child). */
    private static String runnerRss(RunnerContainer c) {
        return c.exec("for p in /proc/[0-9]*; do if tr '\\0' ' ' < $p/cmdline 2>/dev/null | grep -q ' ai.dstack.runner.Main '; "
                + "then grep VmRSS $p/status; fi; done").trim().replaceAll("\\s+", " ");
    }

    /** A tar of {@code entries} in order: a value starting with {@code "-> "} is a symlink to the rest. */
    static byte[] tar(Map<String, String> entries) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (TarArchiveOutputStream t = new TarArchiveOutputStream(bytes, "UTF-8")) {
            t.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
            for (var f : entries.entrySet()) {
                if (f.getValue().startsWith("-> ")) {
                    TarArchiveEntry e = new TarArchiveEntry(f.getKey(), TarArchiveEntry.LF_SYMLINK, true);
                    e.setLinkName(f.getValue().substring(3));
                    t.putArchiveEntry(e);
                    t.closeArchiveEntry();
                    continue;
                }
                byte[] data = f.getValue().getBytes(StandardCharsets.UTF_8);
                TarArchiveEntry e = new TarArchiveEntry(f.getKey(), true);
                e.setSize(data.length);
                e.setMode(0644);
                t.putArchiveEntry(e);
                t.write(data);
                t.closeArchiveEntry();
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }
}
