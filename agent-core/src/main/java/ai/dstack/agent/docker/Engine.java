package ai.dstack.agent.docker;

import ai.dstack.agent.spi.BindMount;
import ai.dstack.agent.spi.ContainerEdits;
import ai.dstack.agent.spi.ContainerView;
import ai.dstack.agent.spi.DeviceNode;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.async.ResultCallback;
import com.github.dockerjava.api.command.InspectContainerResponse;
import com.github.dockerjava.api.exception.DockerException;
import com.github.dockerjava.api.exception.NotFoundException;
import com.github.dockerjava.api.exception.NotModifiedException;
import com.github.dockerjava.api.model.Capability;
import com.github.dockerjava.api.model.Container;
import com.github.dockerjava.api.model.Device;
import com.github.dockerjava.api.model.DeviceRequest;
import com.github.dockerjava.api.model.ExposedPort;
import com.github.dockerjava.api.model.Frame;
import com.github.dockerjava.api.model.HostConfig;
import com.github.dockerjava.api.model.Mount;
import com.github.dockerjava.api.model.MountType;
import com.github.dockerjava.api.model.PortBinding;
import com.github.dockerjava.api.model.Ports;
import com.github.dockerjava.api.model.Ulimit;
import com.github.dockerjava.core.DefaultDockerClientConfig;
import com.github.dockerjava.core.DockerClientImpl;
import com.github.dockerjava.core.RemoteApiVersion;
import com.github.dockerjava.transport.DockerHttpClient;
import com.github.dockerjava.zerodep.ZerodepDockerHttpClient;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyManagementException;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;

/**
 * The Docker engine as the shim uses it, through docker-java. The endpoint comes from
 * {@code DOCKER_HOST} (default the local socket); the API version is the engine's own, asked for
 * at connect time, never hard-coded.
 */
public final class Engine implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final String dockerHost;
    private final Duration callTimeout;
    private final Duration retryInterval;
    private final Object connecting = new Object();
    private volatile Connection connection;

    /**
     * One connection to the engine: clients made for the API version it reported, and its data root.
     * Made on first use and again after the transport failed (docs/shim-operations.md: the engine
     * went away and came back, possibly another version), never per call.
     */
    private record Connection(DockerClient calls, DockerClient longCalls, DockerHttpClient longHttp, String apiVersion,
                              Path dockerRootDir) {
    }

    private Engine(String dockerHost, Duration callTimeout, Duration retryInterval) {
        this.dockerHost = dockerHost;
        this.callTimeout = callTimeout;
        this.retryInterval = retryInterval;
    }

    /**
     * The engine at {@code dockerHost}, connected on first use: the shim starts and serves while the
     * engine is down, and reconnects when a call finds the transport broken.
     *
     * @param retryInterval how often {@link #awaitAnswer()} asks an unreachable engine again
     */
    public static Engine at(String dockerHost, Duration callTimeout, Duration retryInterval) {
        URI.create(dockerHost); // a malformed DOCKER_HOST is a startup error, not an outage
        return new Engine(dockerHost, callTimeout, retryInterval);
    }

    /** Connects to {@code dockerHost} now, negotiating the API version and reading {@code docker info}. */
    public static Engine connect(String dockerHost, Duration callTimeout) throws EngineException {
        Engine engine = at(dockerHost, callTimeout, Duration.ofSeconds(1));
        engine.connection();
        return engine;
    }

    /** The current connection, made when there is none (the first call, or after a transport failure). */
    private Connection connection() throws EngineException {
        Connection c = connection;
        if (c != null) {
            return c;
        }
        synchronized (connecting) {
            if (connection == null) {
                connection = open();
            }
            return connection;
        }
    }

    private Connection open() throws EngineException {
        try {
            URI host = URI.create(dockerHost);
            Client probe = client(host, RemoteApiVersion.UNKNOWN_VERSION, Optional.of(callTimeout));
            String version;
            try {
                version = probe.client().versionCmd().exec().getApiVersion();
            } finally {
                closeQuietly(probe.client());
            }
            RemoteApiVersion api = RemoteApiVersion.parseConfig(version);
            Client calls = client(host, api, Optional.of(callTimeout));
            Client longCalls = client(host, api, Optional.empty());
            String root = calls.client().infoCmd().exec().getDockerRootDir();
            return new Connection(calls.client(), longCalls.client(), longCalls.http(), version,
                    Path.of(root == null ? "/var/lib/docker" : root));
        } catch (RuntimeException e) {
            throw new EngineException.Unreachable("cannot reach the Docker engine at " + dockerHost + ": " + message(e)
                    + ". Start it (systemctl start docker, or dockerd as root); if none is installed, install one"
                    + " (Debian/Ubuntu: apt-get install docker.io); DOCKER_HOST selects another engine", e);
        }
    }

    /** One engine call on a connection. */
    @FunctionalInterface
    private interface Call<T> {
        T run(Connection c);
    }

    /**
     * Runs a call. When the transport fails (no HTTP status: socket gone, connection refused or
     * reset, a pooled connection the engine closed when it restarted) the connection is dropped and
     * the call tried once more on a fresh one, so an engine restart the shim did not notice costs
     * no task anything.
     */
    private <T> T call(Call<T> call) throws EngineException {
        Connection c = connection();
        try {
            return call.run(c);
        } catch (RuntimeException e) {
            if (!lostTransport(e)) {
                throw e;
            }
            drop(c);
        }
        Connection fresh = connection();
        try {
            return call.run(fresh);
        } catch (RuntimeException e) {
            if (lostTransport(e)) {
                drop(fresh);
            }
            throw e;
        }
    }

    /** Whether the engine did not answer at all (not an HTTP error, a timeout, or a terminate's interrupt). */
    private static boolean lostTransport(RuntimeException e) {
        return !(e instanceof DockerException) && !causedBy(e, java.net.SocketTimeoutException.class)
               && !Thread.currentThread().isInterrupted();
    }

    /** Forgets a connection whose transport failed; not closed: other calls may still be reading from it. */
    private void drop(Connection used) {
        synchronized (connecting) {
            if (connection == used) {
                connection = null;
            }
        }
    }

    /** The exception for a failed call: the engine's message, or that it cannot be reached. */
    private EngineException failed(RuntimeException e) {
        return lostTransport(e)
                ? new EngineException.Unreachable("cannot reach the Docker engine at " + dockerHost + ": " + message(e), e)
                : new EngineException(message(e), e);
    }

    private static boolean causedBy(Throwable e, Class<? extends Throwable> type) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (type.isInstance(t)) {
                return true;
            }
        }
        return false;
    }

    /** Whether the engine answers now (connecting when needed). */
    public boolean answers() {
        Connection c;
        try {
            c = connection();
        } catch (EngineException e) {
            return false;
        }
        try {
            c.calls().pingCmd().exec();
            return true;
        } catch (RuntimeException e) {
            if (lostTransport(e)) {
                drop(c);
            }
            return false;
        }
    }

    /** Blocks until the engine answers, asking every retry interval ({@code DSTACK_SHIM_ENGINE_RETRY_MS}). */
    public void awaitAnswer() throws InterruptedException {
        while (!answers()) {
            Thread.sleep(retryInterval.toMillis());
        }
    }

    private record Client(DockerClient client, DockerHttpClient http) {
    }

    private static Client client(URI host, RemoteApiVersion api, Optional<Duration> responseTimeout) {
        var config = DefaultDockerClientConfig.createDefaultConfigBuilder()
                .withDockerHost(host.toString()).withApiVersion(api).build();
        var builder = new ZerodepDockerHttpClient.Builder().dockerHost(config.getDockerHost())
                .connectionTimeout(Duration.ofSeconds(30)).maxConnections(200);
        if ("unix".equals(host.getScheme())) {
            // No TLS on a local socket: without an SSL config the client would load and parse the system
            // trust store at start (~140 certificates) for nothing.
            builder.sslConfig(Engine::noTrustMaterial);
        }
        responseTimeout.ifPresent(builder::responseTimeout);
        DockerHttpClient http = builder.build();
        return new Client(DockerClientImpl.getInstance(config, http), http);
    }

    private static SSLContext noTrustMaterial() throws NoSuchAlgorithmException, KeyManagementException {
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(new KeyManager[0], new TrustManager[0], null);
        return context;
    }

    /** The API version the engine reported (connects when needed). */
    public String apiVersion() throws EngineException {
        return connection().apiVersion();
    }

    /** The engine's data root, {@code DockerRootDir} (connects when needed). */
    public Path dockerRootDir() throws EngineException {
        return connection().dockerRootDir();
    }

    /** Whether the engine has an image under this reference. */
    public boolean imagePresent(String reference) throws EngineException {
        try {
            call(c -> c.calls().inspectImageCmd(reference).exec());
            return true;
        } catch (NotFoundException e) {
            return false;
        } catch (RuntimeException e) {
            throw failed(e);
        }
    }

    /**
     * Pulls {@code ref}, writing the raw stream to {@code log} and reporting progress; fails with the
     * spec's messages (docs/shim.md §4.1). {@code handle} lets terminate or the deadline interrupt it; the pull also
     * fails when no layer has made progress for {@code stall} (zero: never), naming the layers in flight.
     */
    public void pull(ImageRef ref, String username, String password, Path log, Consumer<PullProgress> onProgress,
                     PullHandle handle, Duration stall) throws EngineException {
        Connection c = connection();
        String path = "/v" + c.apiVersion() + "/images/create?fromImage=" + enc(ref.repository()) + "&tag=" + enc(ref.pullTag());
        var request = new DockerHttpClient.Request.Builder().method(DockerHttpClient.Request.Method.POST).path(path);
        if (!username.isEmpty() || !password.isEmpty()) {
            request.putHeader("X-Registry-Auth", registryAuth(username, password));
        }
        PullTracker tracker = new PullTracker();
        long started = System.nanoTime();
        Thread watchdog = stall.isZero() || stall.isNegative() ? null
                : Thread.ofVirtual().name("pull-stall-watch").start(() -> watchForStall(tracker, stall, handle));
        try (DockerHttpClient.Response response = firstResponse(c, request.build(), handle);
             OutputStream logOut = Files.newOutputStream(log)) {
            handle.attach(response);
            if (response.getStatusCode() != 200) {
                String body = new String(response.getBody().readAllBytes(), StandardCharsets.UTF_8);
                throw new EngineException("pull image: " + engineText(response.getStatusCode(), body));
            }
            BufferedReader lines = new BufferedReader(new InputStreamReader(response.getBody(), StandardCharsets.UTF_8));
            for (String line; (line = lines.readLine()) != null; ) {
                logOut.write((line + "\n").getBytes(StandardCharsets.UTF_8));
                JsonNode msg;
                try {
                    msg = JSON.readTree(line);
                } catch (IOException e) {
                    continue; // unparsable lines are ignored, as in Go
                }
                if (msg != null && tracker.accept(msg)) {
                    onProgress.accept(tracker.progress());
                }
            }
        } catch (IOException | RuntimeException e) {
            if (handle.cancelCause() == null) {
                if (tracker.progress() == null && e instanceof RuntimeException re) {
                    throw re instanceof DockerException ? new EngineException("pull image: " + message(e), e) : failed(re);
                }
                throw new EngineException(interrupted(tracker, started, message(e)), e);
            }
        } finally {
            if (watchdog != null) {
                watchdog.interrupt();
            }
        }
        if (handle.cancelCause() != null) {
            throw new EngineException(interrupted(tracker, started, handle.cancelCause()));
        }
        if (!tracker.succeeded()) {
            PullProgress p = progressOrZero(tracker);
            throw new EngineException("failed pulling " + ref + ": downloaded " + p.downloadedBytes() + "/" + p.totalBytes()
                                      + " bytes (" + speed(p, started) + "/s), errors: " + tracker.quotedErrors()
                                      + spaceHint(c.dockerRootDir(), tracker.errors()));
        }
    }

    /** Cancels the pull once {@link PullTracker#progressMark()} has stood still for {@code stall}. */
    private static void watchForStall(PullTracker tracker, Duration stall, PullHandle handle) {
        long every = Math.max(10, stall.toMillis() / 5);
        long mark = tracker.progressMark();
        long since = System.nanoTime();
        try {
            while (true) {
                Thread.sleep(every);
                long now = System.nanoTime();
                long current = tracker.progressMark();
                if (current != mark) {
                    mark = current;
                    since = now;
                } else if (now - since >= stall.toNanos()) {
                    handle.cancel("stalled: no layer made progress for " + stall.toMillis() + " ms; "
                                  + tracker.unfinishedLayers());
                    return;
                }
            }
        } catch (InterruptedException e) {
            // the pull ended
        }
    }

    /** For a pull that ran out of disk: how much the engine's data root still has, so the operator knows. */
    static String spaceHint(Path dockerRootDir, List<String> errors) {
        if (errors.stream().noneMatch(m -> m.toLowerCase(java.util.Locale.ROOT).contains("no space left on device"))) {
            return "";
        }
        try {
            return "; the engine's data root " + dockerRootDir + " has " + Files.getFileStore(dockerRootDir).getUsableSpace()
                   + " bytes free";
        } catch (IOException | RuntimeException e) {
            return "; the engine's data root " + dockerRootDir + " is out of space (free bytes unknown here: " + message(e) + ")";
        }
    }

    /** The pull's response; a lost transport before any answer (a stale pooled connection) is retried once, fresh. */
    private DockerHttpClient.Response firstResponse(Connection c, DockerHttpClient.Request request, PullHandle handle)
            throws IOException {
        try {
            return awaitResponse(c.longHttp(), request, handle);
        } catch (RuntimeException e) {
            if (!lostTransport(e) || handle.cancelCause() != null) {
                throw e;
            }
            drop(c);
        }
        try {
            return awaitResponse(connection().longHttp(), request, handle);
        } catch (EngineException e) {
            throw new IOException(e.getMessage(), e);
        }
    }

    /** Sends the request on its own thread, so a cancel also ends the wait for the engine's first byte. */
    private static DockerHttpClient.Response awaitResponse(DockerHttpClient longHttp, DockerHttpClient.Request request,
                                                           PullHandle handle) throws IOException {
        CompletableFuture<DockerHttpClient.Response> result = new CompletableFuture<>();
        Thread.ofVirtual().start(() -> {
            try {
                DockerHttpClient.Response r = longHttp.execute(request);
                if (!result.complete(r)) {
                    r.close();
                }
            } catch (RuntimeException e) {
                result.completeExceptionally(e);
            }
        });
        handle.attach(() -> result.completeExceptionally(new IOException("cancelled")));
        try {
            return result.join();
        } catch (CompletionException e) {
            if (e.getCause() instanceof RuntimeException re) {
                throw re;
            }
            throw e.getCause() instanceof IOException io ? io : new IOException(e.getCause());
        }
    }

    private static String interrupted(PullTracker tracker, long started, String cause) {
        PullProgress p = progressOrZero(tracker);
        return "image pull interrupted: downloaded " + p.downloadedBytes() + " bytes out of " + p.totalBytes() + " ("
               + speed(p, started) + "/s): " + cause;
    }

    private static PullProgress progressOrZero(PullTracker tracker) {
        PullProgress p = tracker.progress();
        return p == null ? new PullProgress(0, 0, 0, false) : p;
    }

    private static String speed(PullProgress p, long startedNanos) {
        double seconds = Math.max((System.nanoTime() - startedNanos) / 1e9, 1e-3);
        return humanSize(p.downloadedBytes() / seconds);
    }

    static String humanSize(double bytes) {
        String[] units = {"B", "kB", "MB", "GB", "TB"};
        int i = 0;
        while (bytes >= 1000 && i < units.length - 1) {
            bytes /= 1000;
            i++;
        }
        return String.format(java.util.Locale.ROOT, "%.4g%s", bytes, units[i]).replaceAll("\\.?0+(?=[a-zA-Z])", "");
    }

    /** URL-safe base64 (with padding) of {"username","password"}, empty members omitted (docs/shim.md §4.1). */
    static String registryAuth(String username, String password) {
        Map<String, String> auth = new LinkedHashMap<>();
        if (!username.isEmpty()) {
            auth.put("username", username);
        }
        if (!password.isEmpty()) {
            auth.put("password", password);
        }
        try {
            return Base64.getUrlEncoder().encodeToString(JSON.writeValueAsBytes(auth));
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Creates the container of a plan; returns its id. */
    public String create(ContainerPlan plan) throws EngineException {
        List<Mount> mounts = new ArrayList<>();
        for (BindMount m : plan.mounts()) {
            mounts.add(bind(m));
        }
        ContainerEdits edits = plan.edits();
        edits.mounts().forEach(m -> mounts.add(bind(m)));
        List<Device> devices = new ArrayList<>();
        for (DeviceNode d : plan.devices()) {
            devices.add(new Device(d.permissions(), d.containerPath(), d.hostPath()));
        }
        edits.deviceNodes().forEach(d -> devices.add(new Device(d.permissions(), d.containerPath(), d.hostPath())));
        List<ExposedPort> exposed = plan.ports().stream().map(ExposedPort::tcp).toList();
        List<PortBinding> bindings = exposed.stream()
                .map(p -> new PortBinding(Ports.Binding.bindIp("127.0.0.1"), p)).toList();
        HostConfig host = HostConfig.newHostConfig()
                .withMounts(mounts)
                .withNetworkMode(plan.networkMode())
                .withPortBindings(bindings)
                .withPrivileged(plan.privileged())
                .withDevices(devices);
        if (plan.nanoCpus() > 0) {
            host.withNanoCPUs(plan.nanoCpus());
        }
        if (plan.memory() > 0) {
            host.withMemory(plan.memory());
        }
        if (plan.shmSize() > 0) {
            host.withShmSize(plan.shmSize());
            host.withTmpFs(Map.of("/dev/shm", "exec,size=" + plan.shmSize()));
        }
        if (plan.unlimitedMemlock()) {
            host.withUlimits(List.of(new Ulimit("memlock", -1L, -1L)));
        }
        if (!edits.deviceRequests().isEmpty()) {
            host.withDeviceRequests(edits.deviceRequests().stream().map(r -> new DeviceRequest()
                    .withDriver(r.driver()).withDeviceIds(r.deviceIds()).withCapabilities(List.of(r.capabilities())))
                    .toList());
        }
        if (!edits.runtime().isEmpty()) {
            host.withRuntime(edits.runtime());
        }
        if (!edits.capAdd().isEmpty()) {
            host.withCapAdd(edits.capAdd().stream().map(Capability::valueOf).toArray(Capability[]::new));
        }
        if (!edits.ipcMode().isEmpty()) {
            host.withIpcMode(edits.ipcMode());
        }
        if (!edits.securityOpts().isEmpty()) {
            host.withSecurityOpts(edits.securityOpts());
        }
        try {
            return call(c -> c.calls().createContainerCmd(plan.image())
                    .withName(plan.name())
                    .withLabels(plan.labels())
                    .withUser(plan.user())
                    .withEntrypoint(plan.entrypoint())
                    .withCmd(plan.cmd())
                    .withEnv(plan.envLines())
                    .withExposedPorts(exposed)
                    .withHostConfig(host)
                    .exec().getId());
        } catch (RuntimeException e) {
            throw failed(e);
        }
    }

    private static Mount bind(BindMount m) {
        return new Mount().withType(MountType.BIND).withSource(m.hostPath()).withTarget(m.containerPath())
                .withReadOnly(m.readOnly());
    }

    public void start(String id) throws EngineException {
        try {
            call(c -> c.calls().startContainerCmd(id).exec());
        } catch (NotModifiedException e) {
            // already running
        } catch (NotFoundException e) {
            throw new EngineException.NoSuchContainer(message(e));
        } catch (RuntimeException e) {
            throw failed(e);
        }
    }

    /** What the engine says about a container, empty when it does not exist. */
    public Optional<ContainerFacts> inspect(String id) throws EngineException {
        try {
            return Optional.of(facts(call(c -> c.calls().inspectContainerCmd(id).exec())));
        } catch (NotFoundException e) {
            return Optional.empty();
        } catch (RuntimeException e) {
            throw failed(e);
        }
    }

    /** The host's process id of a container's main process; 0 when it is not running or does not exist. */
    public long mainPid(String id) throws EngineException {
        try {
            Long pid = call(c -> c.calls().inspectContainerCmd(id).exec()).getState().getPidLong();
            return pid == null ? 0 : pid;
        } catch (NotFoundException e) {
            return 0;
        } catch (RuntimeException e) {
            throw failed(e);
        }
    }

    /** Every container carrying the task label (any owner), as inspected facts. */
    public List<ContainerFacts> taskContainers() throws EngineException {
        try {
            List<ContainerFacts> out = new ArrayList<>();
            for (Container c : call(conn -> conn.calls().listContainersCmd().withShowAll(true)
                    .withLabelFilter(Map.of(Labels.IS_TASK, "true")).exec())) {
                inspect(c.getId()).ifPresent(out::add);
            }
            return out;
        } catch (RuntimeException e) {
            throw failed(e);
        }
    }

    private static ContainerFacts facts(InspectContainerResponse c) {
        var state = c.getState();
        String runnerDir = "";
        String runnerRuntime = "";
        if (c.getMounts() != null) {
            for (var m : c.getMounts()) {
                String source = m.getSource() == null ? "" : m.getSource();
                if (m.getDestination() != null && "/tmp/runner".equals(m.getDestination().getPath())) {
                    runnerDir = source;
                } else if (m.getDestination() != null && RunnerMounts.RUNTIME_TARGET.equals(m.getDestination().getPath())) {
                    runnerRuntime = source;
                }
            }
        }
        List<PortMapping> ports = new ArrayList<>();
        if (c.getNetworkSettings() != null && c.getNetworkSettings().getPorts() != null) {
            for (var e : c.getNetworkSettings().getPorts().getBindings().entrySet()) {
                if (e.getValue() == null || e.getKey().getProtocol() != com.github.dockerjava.api.model.InternetProtocol.TCP) {
                    continue;
                }
                for (Ports.Binding b : e.getValue()) {
                    String ip = b.getHostIp() == null ? "" : b.getHostIp();
                    if (!ip.contains(":") && b.getHostPortSpec() != null && !b.getHostPortSpec().isEmpty()) {
                        ports.add(new PortMapping(Integer.parseInt(b.getHostPortSpec()), e.getKey().getPort()));
                    }
                }
            }
        }
        ports.sort(java.util.Comparator.comparingInt(PortMapping::container));
        String name = c.getName() == null ? "" : c.getName().replaceFirst("^/", "");
        Long exit = state == null ? null : state.getExitCodeLong();
        return new ContainerFacts(c.getId(), name, state == null || state.getStatus() == null ? "" : state.getStatus(),
                exit == null ? 0 : exit.intValue(), state == null ? "" : String.valueOf(state.getStartedAt()),
                c.getConfig() == null || c.getConfig().getLabels() == null ? Map.of() : c.getConfig().getLabels(),
                runnerDir, ports, runnerRuntime, view(c));
    }

    private static ContainerView view(InspectContainerResponse c) {
        Map<String, String> env = new LinkedHashMap<>();
        if (c.getConfig() != null && c.getConfig().getEnv() != null) {
            for (String line : c.getConfig().getEnv()) {
                int eq = line.indexOf('=');
                env.put(eq < 0 ? line : line.substring(0, eq), eq < 0 ? "" : line.substring(eq + 1));
            }
        }
        HostConfig host = c.getHostConfig();
        List<DeviceNode> devices = new ArrayList<>();
        List<ai.dstack.agent.spi.DeviceRequest> requests = new ArrayList<>();
        String runtime = "";
        if (host != null) {
            if (host.getDevices() != null) {
                for (Device d : host.getDevices()) {
                    devices.add(new DeviceNode(d.getPathOnHost(), d.getPathInContainer(), d.getcGroupPermissions()));
                }
            }
            if (host.getDeviceRequests() != null) {
                for (DeviceRequest r : host.getDeviceRequests()) {
                    List<String> caps = r.getCapabilities() == null || r.getCapabilities().isEmpty() ? List.of() : r.getCapabilities().getFirst();
                    requests.add(new ai.dstack.agent.spi.DeviceRequest(r.getDriver(),
                            r.getDeviceIds() == null ? List.of() : r.getDeviceIds(), caps));
                }
            }
            runtime = host.getRuntime();
        }
        return new ContainerView(env, devices, requests, runtime);
    }

    /**
     * Blocks until the container exits and returns its exit code. Survives a dropped wait
     * connection by asking the engine again.
     *
     * @throws EngineException.NoSuchContainer when the container disappeared
     */
    public int awaitExit(String id) throws EngineException, InterruptedException {
        while (true) {
            Connection c;
            try {
                c = connection();
            } catch (EngineException.Unreachable e) {
                awaitAnswer(); // an engine that is away judges nothing: wait for it
                continue;
            }
            try {
                Integer code = c.longCalls().waitContainerCmd(id).start().awaitStatusCode();
                if (code != null) {
                    return code;
                }
            } catch (NotFoundException e) {
                throw new EngineException.NoSuchContainer(message(e));
            } catch (RuntimeException e) {
                if (lostTransport(e)) {
                    drop(c);
                }
                // The wait dropped: the engine went away, or only the connection. Ask it once it answers.
                awaitAnswer();
                Optional<ContainerFacts> facts;
                try {
                    facts = inspect(id);
                } catch (EngineException.Unreachable again) {
                    continue;
                }
                if (facts.isEmpty()) {
                    throw new EngineException.NoSuchContainer("container " + id + " disappeared");
                }
                if (!facts.get().live() && !facts.get().state().equals("created")) {
                    return facts.get().exitCode();
                }
                TimeUnit.SECONDS.sleep(1);
            }
        }
    }

    /** The last {@code n} lines of the container's stdout and stderr, "" when unreadable. */
    public String lastLogLines(String id, int n) {
        StringBuilder out = new StringBuilder();
        try {
            connection().calls().logContainerCmd(id).withStdOut(true).withStdErr(true).withTail(n)
                    .exec(new ResultCallback.Adapter<Frame>() {
                        @Override
                        public void onNext(Frame frame) {
                            out.append(new String(frame.getPayload(), StandardCharsets.UTF_8));
                        }
                    }).awaitCompletion(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "";
        } catch (RuntimeException | EngineException e) {
            return "";
        }
        List<String> lines = out.toString().lines().toList();
        return String.join("\n", lines.subList(Math.max(0, lines.size() - n), lines.size()));
    }

    /** Stops with {@code graceSeconds} between the stop signal and the kill; a stopped or missing container is fine. */
    public void stop(String id, int graceSeconds) throws EngineException {
        try {
            call(c -> c.longCalls().stopContainerCmd(id).withTimeout(graceSeconds).exec());
        } catch (NotModifiedException | NotFoundException e) {
            // already stopped or gone: nothing to stop
        } catch (RuntimeException e) {
            throw failed(e);
        }
    }

    /** Force-removes a container with its anonymous volumes; a missing one is fine. */
    public void removeForce(String id) throws EngineException {
        try {
            call(c -> c.calls().removeContainerCmd(id).withForce(true).withRemoveVolumes(true).exec());
        } catch (NotFoundException e) {
            // gone already
        } catch (RuntimeException e) {
            throw failed(e);
        }
    }

    /** The engine's message from a docker-java exception ("Status 404: {"message":"…"}" → "…"). */
    static String message(Throwable e) {
        if (e instanceof DockerException de) {
            return engineText(de.getHttpStatus(), de.getMessage().replaceFirst("^Status \\d+: ", ""));
        }
        String m = e.getMessage();
        return m == null ? e.getClass().getSimpleName() : m;
    }

    private static String engineText(int status, String body) {
        try {
            JsonNode node = JSON.readTree(body);
            if (node != null && node.path("message").isTextual()) {
                return node.path("message").asText();
            }
        } catch (IOException e) {
            // not JSON: use the text as it is
        }
        String text = body.strip();
        return text.isEmpty() ? "status " + status : text;
    }

    private static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    @Override
    public void close() throws IOException {
        Connection c = connection;
        if (c != null) {
            c.calls().close();
            c.longCalls().close();
        }
    }

    private static void closeQuietly(DockerClient client) {
        try {
            client.close();
        } catch (IOException | RuntimeException e) {
            // a probe client: nothing to keep
        }
    }
}
