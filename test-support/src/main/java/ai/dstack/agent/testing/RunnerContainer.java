package ai.dstack.agent.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.async.ResultCallback;
import com.github.dockerjava.api.model.Frame;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * A runner container started by our shim (docs/shim.md §4.2/§4.4): the shim mounts the runtime
 * read-only at {@code /opt/dstack-runner}, its launcher at {@code /usr/local/bin/dstack-runner}, the
 * runner dir at {@code /tmp/runner}, and publishes 10999 on 127.0.0.1 (bridge networking).
 */
public final class RunnerContainer implements AutoCloseable {
    public static final int HTTP_PORT = 10999;
    private final DockerClient docker;
    private final String id;
    private final String name;
    private final ShimProcess shim;
    private final String taskId;
    private final Path runnersDir;
    private final Map<Integer, Integer> hostPorts;

    private RunnerContainer(DockerClient docker, String id, String name, ShimProcess shim, String taskId,
            Path runnersDir, Map<Integer, Integer> hostPorts) {
        this.docker = docker;
        this.id = id;
        this.name = name;
        this.shim = shim;
        this.taskId = taskId;
        this.runnersDir = runnersDir;
        this.hostPorts = Map.copyOf(hostPorts);
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

    /**
     * Starts a runner in {@code image} through our shim: a shim process (own home, free port) whose
     * runner runtime is the one the build assembled; a bridge-mode task; its published 10999.
     * {@code env} reaches the runner through the shim's pass-env (e.g. runner settings).
     */
    public static RunnerContainer start(String image, Map<String, String> env) {
        return start(image, env, Map.of());
    }

    /**
     * As {@link #start(String, Map)}, with {@code taskFields} added to (or replacing fields of) the
     * shim task body, e.g. {@code instance_mounts}, {@code container_ssh_keys}, {@code shm_size}.
     */
    public static RunnerContainer start(String image, Map<String, String> env, Map<String, Object> taskFields) {
        return start(null, image, env, taskFields);
    }

    /**
     * As {@link #start(String, Map, Map)} on another engine ({@code dockerHost}, e.g. a
     * {@link TestDockerd}'s; null: the main one), which must hold {@code image}.
     */
    public static RunnerContainer start(String dockerHost, String image, Map<String, String> env,
            Map<String, Object> taskFields) {
        DockerClient docker = dockerHost == null ? Docker.client() : Docker.client(dockerHost);
        Path runtime = runtimeDir().toAbsolutePath();
        String name = "runner-it-" + UUID.randomUUID().toString().substring(0, 8);
        Path tempDir;
        try {
            tempDir = Files.createTempDirectory(Path.of(System.getProperty("java.io.tmpdir")), name + "-");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        ShimProcess.Builder builder = ShimProcess.builder(tempDir)
                .env("DSTACK_RUNNER_RUNTIME_DIR", runtime.toString())
                .env("DSTACK_DOCKER_PASS_ENV", String.join(",", env.keySet()));
        env.forEach(builder::env);
        if (dockerHost != null) {
            builder.engine(dockerHost);
        }
        ShimProcess shim = builder.start();
        try {
            String taskId = UUID.randomUUID().toString();
            Map<String, Object> task = new LinkedHashMap<>();
            task.put("id", taskId);
            task.put("name", name + "-0-0");
            task.put("image_name", image);
            task.put("container_user", "root");
            task.put("network_mode", "bridge");
            task.put("gpu", -1);
            task.putAll(taskFields);
            ApiClient api = shim.api();
            ApiClient.Reply submitted = api.post("/api/tasks", task);
            if (submitted.status() != 200) {
                throw new IllegalStateException("task submit failed: " + submitted.status() + " " + submitted.body());
            }
            JsonNode running = awaitRunning(api, taskId);
            Map<Integer, Integer> hostPorts = new LinkedHashMap<>();
            for (JsonNode port : running.path("ports")) {
                hostPorts.put(port.path("container").asInt(), port.path("host").asInt());
            }
            String containerId = docker.listContainersCmd().withShowAll(true)
                    .withLabelFilter(Map.of("ai.dstack.shim.task-id", taskId)).exec().getFirst().getId();
            return new RunnerContainer(docker, containerId, name, shim, taskId, shim.home().resolve("runners"), hostPorts);
        } catch (RuntimeException e) {
            shim.close();
            throw e;
        }
    }

    private static JsonNode awaitRunning(ApiClient api, String taskId) {
        long deadline = System.currentTimeMillis() + 90_000;
        while (System.currentTimeMillis() < deadline) {
            JsonNode t = api.get("/api/tasks/" + taskId).json();
            String status = t.path("status").asText();
            if (status.equals("running") && !t.path("ports").isNull()) {
                return t;
            }
            if (status.equals("terminated")) {
                throw new IllegalStateException("the runner task ended: " + t);
            }
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }
        throw new IllegalStateException("the runner task did not start");
    }

    public String id() {
        return id;
    }

    public String name() {
        return name;
    }

    /** {@code http://127.0.0.1:<published port>} */
    public String baseUrl() {
        return "http://127.0.0.1:" + hostPort(HTTP_PORT);
    }

    /** The host port (on 127.0.0.1) the shim published for {@code containerPort}. */
    public int hostPort(int containerPort) {
        Integer port = hostPorts.get(containerPort);
        if (port == null) {
            throw new IllegalStateException("port " + containerPort + " is not published: " + hostPorts);
        }
        return port;
    }

    /** The shim's runners dir: the host side of {@code /tmp/runner} is a folder in it. */
    public Path runnersDir() {
        return runnersDir;
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
            shim.api().post("/api/tasks/" + taskId + "/terminate",
                    Map.of("termination_reason", "terminated_by_user", "termination_message", "", "timeout", 0));
            shim.api().post("/api/tasks/" + taskId + "/remove", "");
        } catch (RuntimeException ignored) {
            // the shim's close removes its containers anyway
        }
        shim.close();
    }
}
