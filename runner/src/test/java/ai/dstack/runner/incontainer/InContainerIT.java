package ai.dstack.runner.incontainer;

import static org.assertj.core.api.Assertions.assertThat;

import ai.dstack.agent.testing.Docker;
import ai.dstack.agent.testing.LocalImages;
import ai.dstack.runner.ssh.SshFixture;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.async.ResultCallback;
import com.github.dockerjava.api.model.Bind;
import com.github.dockerjava.api.model.ExposedPort;
import com.github.dockerjava.api.model.Frame;
import com.github.dockerjava.api.model.HostConfig;
import com.github.dockerjava.api.model.Ports;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The building blocks inside a real container of {@code dstack-local/base:bookworm} (cgroup v1 here): sshd from the
 * image with a login shell that sees the job env, metrics of the container's own cgroup, the job user from the
 * image's passwd. The JDK, the classes and the jars are bind-mounted read-only at their host paths.
 */
class InContainerIT {
    private static final DockerClient DOCKER = Docker.client();
    private static final ObjectMapper JSON = new ObjectMapper();
    @TempDir
    static Path dir;
    private static Path key;
    private static String id;
    private static int sshPort;
    private static List<String> java;

    @BeforeAll
    static void start() throws Exception {
        key = SshFixture.newKey(dir, "client");
        String javaHome = System.getProperty("java.home");
        Set<String> mounts = new LinkedHashSet<>(List.of(javaHome, dir.toString()));
        List<String> classpath = new ArrayList<>();
        for (String entry : System.getProperty("java.class.path").split(":")) {
            classpath.add(entry);
            mounts.add(Path.of(entry).getParent().toString());
        }
        java = List.of(javaHome + "/bin/java", "-Xshare:auto", "-XX:TieredStopAtLevel=1", "-cp",
                String.join(":", classpath), Probe.class.getName());
        List<String> cmd = new ArrayList<>(java);
        cmd.addAll(List.of("serve", "10022", key + ".pub"));
        ExposedPort ssh = ExposedPort.tcp(10022);
        Ports ports = new Ports();
        ports.bind(ssh, Ports.Binding.bindIp("127.0.0.1"));
        id = DOCKER.createContainerCmd(LocalImages.BASE)
                .withName("runner-extras-it-" + UUID.randomUUID().toString().substring(0, 8))
                .withLabels(Map.of("ai.dstack.agent.test", "true"))
                .withCmd(cmd).withExposedPorts(ssh)
                .withHostConfig(HostConfig.newHostConfig().withPortBindings(ports).withMemory(1L << 30)
                        .withBinds(mounts.stream().map(m -> Bind.parse(m + ":" + m + ":ro")).toList()))
                .exec().getId();
        DOCKER.startContainerCmd(id).exec();
        for (int i = 0; i < 600 && !logs().contains("ready"); i++) {
            assertThat(DOCKER.inspectContainerCmd(id).exec().getState().getRunning()).as(logs()).isTrue();
            Thread.sleep(100);
        }
        assertThat(logs()).contains("ready running");
        sshPort = Integer.parseInt(DOCKER.inspectContainerCmd(id).exec().getNetworkSettings().getPorts()
                .getBindings().get(ssh)[0].getHostPortSpec());
    }

    @AfterAll
    static void remove() {
        if (id != null) {
            DOCKER.removeContainerCmd(id).withForce(true).exec();
        }
    }

    private static String logs() throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        DOCKER.logContainerCmd(id).withStdOut(true).withStdErr(true).exec(new ResultCallback.Adapter<Frame>() {
            @Override
            public void onNext(Frame frame) {
                out.writeBytes(frame.getPayload());
            }
        }).awaitCompletion(30, TimeUnit.SECONDS);
        return out.toString(StandardCharsets.UTF_8);
    }

    /** Runs {@code argv} in the container and returns its stdout + stderr. */
    private static String exec(List<String> argv) throws Exception {
        String exec = DOCKER.execCreateCmd(id).withCmd(argv.toArray(String[]::new))
                .withAttachStdout(true).withAttachStderr(true).exec().getId();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        DOCKER.execStartCmd(exec).exec(new ResultCallback.Adapter<Frame>() {
            @Override
            public void onNext(Frame frame) {
                out.writeBytes(frame.getPayload());
            }
        }).awaitCompletion(120, TimeUnit.SECONDS);
        return out.toString(StandardCharsets.UTF_8);
    }

    private static JsonNode probe(String... args) throws Exception {
        List<String> argv = new ArrayList<>(java);
        argv.addAll(List.of(args));
        String out = exec(argv);
        return JSON.readTree(out.lines().filter(l -> l.startsWith("{")).findFirst()
                .orElseThrow(() -> new AssertionError(out)));
    }

    @Test
    void theRealSshClientLogsInAndALoginShellSeesTheJobEnv() throws Exception {
        List<String> ssh = List.of("ssh", "-i", key.toString(), "-p", String.valueOf(sshPort),
                "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "BatchMode=yes",
                "-o", "IdentitiesOnly=yes", "-o", "LogLevel=ERROR", "root@127.0.0.1",
                "bash -lc 'echo \"[$GREETING]\"; pwd'");
        Process p = new ProcessBuilder(ssh).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor()).as(out).isZero();
        assertThat(out.lines().toList()).containsExactly("[hello from the job's env]", "/tmp");
    }

    @Test
    void metricsFollowCpuAndMemoryOfTheContainer() throws Exception {
        JsonNode before = probe("metrics");
        exec(List.of("sh", "-c", "timeout 2 sh -c 'while :; do :; done'; true"));
        JsonNode busy = probe("metrics");
        assertThat(busy.get("cpu_usage_micro").asLong()).isGreaterThan(before.get("cpu_usage_micro").asLong() + 500_000);
        assertThat(busy.get("gpus").isArray()).isTrue();

        // tail keeps a 200 MB line without newline in memory while its input stays open
        exec(List.of("sh", "-c", "({ head -c 200M /dev/zero; sleep 60; } | tail > /dev/null &) ; sleep 3"));
        JsonNode holding = probe("metrics");
        exec(List.of("pkill", "-x", "sleep"));
        assertThat(holding.get("memory_usage_bytes").asLong())
                .isGreaterThan(before.get("memory_usage_bytes").asLong() + 150_000_000L);
        assertThat(holding.get("memory_working_set_bytes").asLong())
                .isGreaterThan(before.get("memory_working_set_bytes").asLong() + 150_000_000L)
                .isLessThanOrEqualTo(holding.get("memory_usage_bytes").asLong());
    }

    @Test
    void theJobUserComesFromTheImagesPasswdAndGroup() throws Exception {
        JsonNode nobody = probe("user", "-", "-", "nobody", "-");
        assertThat(nobody.get("uid").asLong()).isEqualTo(65534);
        assertThat(nobody.get("home").asText()).as("/nonexistent is replaced").isEqualTo("/");
        JsonNode daemon = probe("user", "1", "-", "-", "-");
        assertThat(daemon.get("username").asText()).isEqualTo("daemon");
        assertThat(daemon.get("home").asText()).isEqualTo("/usr/sbin");
        JsonNode unknown = probe("user", "1000", "1000", "-", "-");
        assertThat(unknown.get("username").asText()).isEmpty();
        assertThat(unknown.get("groups").toString()).isEqualTo("[1000]");
        assertThat(exec(List.of("sh", "-c", String.join(" ", java) + " user - - nosuch -; echo rc=$?")))
                .contains("Failed to set job user (unknown user nosuch)").contains("rc=1");
    }
}
