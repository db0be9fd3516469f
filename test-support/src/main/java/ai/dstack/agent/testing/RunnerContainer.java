package ai.dstack.agent.testing;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.async.ResultCallback;
import com.github.dockerjava.api.command.InspectContainerResponse;
import com.github.dockerjava.api.model.AccessMode;
import com.github.dockerjava.api.model.Bind;
import com.github.dockerjava.api.model.ExposedPort;
import com.github.dockerjava.api.model.Frame;
import com.github.dockerjava.api.model.HostConfig;
import com.github.dockerjava.api.model.Ports;
import com.github.dockerjava.api.model.Volume;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A runner container started exactly as the shim starts one (spec shim §4.2/§4.4): entrypoint
 * {@code /bin/sh -c}, the runner command line, the runner dir at {@code /tmp/runner}, the runtime
 * read-only at {@code /opt/dstack-runner} and its launcher at {@code /usr/local/bin/dstack-runner},
 * bridge networking with 10999 published on 127.0.0.1. Once the shim pipeline is merged, tests can
 * start runners through it instead; only this class changes.
 */
public final class RunnerContainer implements AutoCloseable {
    public static final int HTTP_PORT = 10999;
    private final DockerClient docker = Docker.client();
    private final String id;
    private final String name;
    private final Path runnerDir;
    private final int hostPort;

    private RunnerContainer(String id, String name, Path runnerDir, int hostPort) {
        this.id = id;
        this.name = name;
        this.runnerDir = runnerDir;
        this.hostPort = hostPort;
    }

    /** The runtime directory the build assembled ({@code runner/target/runtime}). */
    public static Path runtimeDir() {
        String prop = System.getProperty("runner.runtime.dir");
        Path dir = prop != null && !prop.isBlank() ? Path.of(prop) : RepoPaths.root().resolve("runner/target/runtime");
        if (!Files.isExecutable(dir.resolve("bin/dstack-runner"))) {
            throw new IllegalStateException("no runner runtime at " + dir + ": build the runner module first (mvn package)");
        }
        return dir;
    }

    /** Starts a runner in {@code image}; {@code env} are extra container env vars (e.g. runner settings). */
    public static RunnerContainer start(String image, Map<String, String> env) {
        Path runtime = runtimeDir().toAbsolutePath();
        String name = "runner-it-" + UUID.randomUUID().toString().substring(0, 8);
        Path runnerDir;
        try {
            runnerDir = Files.createTempDirectory(Path.of(System.getProperty("java.io.tmpdir")), name + "-");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        String command = "/usr/local/bin/dstack-runner --log-level 4 start --temp-dir /tmp/runner"
                + " --http-port " + HTTP_PORT + " --ssh-port 10022";
        List<String> envList = new ArrayList<>();
        env.forEach((k, v) -> envList.add(k + "=" + v));
        ExposedPort http = ExposedPort.tcp(HTTP_PORT);
        Ports ports = new Ports();
        ports.bind(http, new Ports.Binding("127.0.0.1", null));
        HostConfig host = HostConfig.newHostConfig()
                .withNetworkMode("bridge")
                .withPortBindings(ports)
                .withBinds(
                        new Bind(runnerDir.toString(), new Volume("/tmp/runner")),
                        new Bind(runtime.resolve("bin/dstack-runner").toString(),
                                new Volume("/usr/local/bin/dstack-runner"), AccessMode.ro),
                        new Bind(runtime.toString(), new Volume("/opt/dstack-runner"), AccessMode.ro));
        DockerClient docker = Docker.client();
        String id = docker.createContainerCmd(image)
                .withName(name)
                .withLabels(Map.of("ai.dstack.agent.test", "true"))
                .withEntrypoint("/bin/sh", "-c")
                .withCmd(command)
                .withEnv(envList)
                .withExposedPorts(http)
                .withHostConfig(host)
                .exec().getId();
        docker.startContainerCmd(id).exec();
        InspectContainerResponse inspect = docker.inspectContainerCmd(id).exec();
        Ports.Binding[] bound = inspect.getNetworkSettings().getPorts().getBindings().get(http);
        int hostPort = Integer.parseInt(bound[0].getHostPortSpec());
        return new RunnerContainer(id, name, runnerDir, hostPort);
    }

    public String id() {
        return id;
    }

    public String name() {
        return name;
    }

    /** {@code http://127.0.0.1:<published port>} */
    public String baseUrl() {
        return "http://127.0.0.1:" + hostPort;
    }

    /** The host side of {@code /tmp/runner}. */
    public Path runnerDir() {
        return runnerDir;
    }

    /** Runs {@code /bin/sh -c script} in the container; returns stdout+stderr. */
    public String exec(String script) {
        String execId = docker.execCreateCmd(id).withCmd("/bin/sh", "-c", script)
                .withAttachStdout(true).withAttachStderr(true).exec().getId();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            docker.execStartCmd(execId).exec(new ResultCallback.Adapter<Frame>() {
                @Override
                public void onNext(Frame frame) {
                    out.writeBytes(frame.getPayload());
                }
            }).awaitCompletion(60, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    /** Whether the container's main process is still running. */
    public boolean running() {
        return Boolean.TRUE.equals(docker.inspectContainerCmd(id).exec().getState().getRunning());
    }

    /** The container's exit code (null while running). */
    public Long exitCode() {
        var state = docker.inspectContainerCmd(id).exec().getState();
        return Boolean.TRUE.equals(state.getRunning()) ? null : state.getExitCodeLong();
    }

    /** The container's log (stdout and stderr). */
    public String logs() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            docker.logContainerCmd(id).withStdOut(true).withStdErr(true)
                    .exec(new ResultCallback.Adapter<Frame>() {
                        @Override
                        public void onNext(Frame frame) {
                            out.writeBytes(frame.getPayload());
                        }
                    }).awaitCompletion(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    @Override
    public void close() {
        try {
            docker.removeContainerCmd(id).withForce(true).exec();
        } catch (RuntimeException ignored) {
            // already gone
        }
        try (Stream<Path> walk = Files.walk(runnerDir)) {
            walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // best effort
        }
    }
}
