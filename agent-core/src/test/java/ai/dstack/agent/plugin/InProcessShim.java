package ai.dstack.agent.plugin;

import ai.dstack.agent.api.ApiServer;
import ai.dstack.agent.component.Components;
import ai.dstack.agent.config.ShimConfig;
import ai.dstack.agent.config.ShimFlags;
import ai.dstack.agent.docker.ContainerPlanner;
import ai.dstack.agent.docker.Engine;
import ai.dstack.agent.host.HostKeys;
import ai.dstack.agent.task.Host;
import ai.dstack.agent.task.PipelineStats;
import ai.dstack.agent.task.Reconciler;
import ai.dstack.agent.task.TaskService;
import ai.dstack.agent.task.TaskStore;
import ai.dstack.agent.testing.ApiClient;
import ai.dstack.agent.testing.FreePorts;
import ai.dstack.agent.testing.StubRunner;
import io.helidon.webserver.WebServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;

/**
 * The shim's API and task pipeline assembled in the test JVM the way {@code Main} assembles them,
 * with the plugins' GPU pool and volume manager, against any Docker engine (e.g. a
 * {@link ai.dstack.agent.testing.TestDockerd}); restored tasks are adopted like at a restart.
 */
final class InProcessShim implements AutoCloseable {
    private final WebServer server;
    private final ExecutorService workers;
    private final ScheduledExecutorService timer;
    private final Engine engine;

    private InProcessShim(WebServer server, ExecutorService workers, ScheduledExecutorService timer, Engine engine) {
        this.server = server;
        this.workers = workers;
        this.timer = timer;
        this.engine = engine;
    }

    /** Starts on {@code home} (reused by a later start: a restart) with a stub runner. */
    static InProcessShim start(Path home, String dockerHost, PluginRuntime plugins) throws Exception {
        Files.createDirectories(home);
        Map<String, String> env = Map.of(
                "DSTACK_SHIM_HOME", home.toString(),
                "DSTACK_RUNNER_BINARY_PATH", StubRunner.write(home.resolveSibling(home.getFileName() + "-runner")).toString(),
                "DSTACK_SHIM_BINARY_PATH", home.resolveSibling("no-shim-binary").toString(),
                "DSTACK_RUNNER_HTTP_PORT", String.valueOf(FreePorts.next()),
                "DSTACK_RUNNER_SSH_PORT", String.valueOf(FreePorts.next()));
        ShimConfig config = ShimFlags.parse(List.of(), env);
        Engine engine = Engine.connect(dockerHost, config.waits().dockerCall());
        ExecutorService workers = Executors.newVirtualThreadPerTaskExecutor();
        ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(Thread.ofVirtual().factory());
        Host host = new Host(engine, new ContainerPlanner(config, env, Optional.empty()), plugins.gpus(), plugins.volumes(),
                new HostKeys(home.resolve("host-keys.json"), Path.of("/etc/passwd")), config.waits(), timer, new PipelineStats());
        TaskStore store = new TaskStore(config.tasksDir());
        TaskService tasks = new TaskService(host, store, config.runnersDir(), workers);
        tasks.adopt(new Reconciler(host, store, config.home()).reconcile());
        Components components = new Components(config.runnerBinaryPath(), config.shimBinaryPath(), config.waits().componentInstall(), workers);
        WebServer server = ApiServer.create(0, Duration.ofSeconds(1), "0.21.7", tasks, components, plugins, host.stats(), force -> { });
        server.start();
        return new InProcessShim(server, workers, timer, engine);
    }

    ApiClient api() {
        return new ApiClient(server.port());
    }

    /**
     * Stops answering, as a killed shim process would, without letting its pipelines react: their
     * threads stay parked on the containers until {@link #close()}, so nothing is cleaned up or
     * persisted on the way out. Another shim may then start on the same home (a restart).
     */
    void crash() {
        server.stop();
    }

    /** Stops the API and the pipeline threads; containers stay. */
    @Override
    public void close() {
        server.stop();
        workers.shutdownNow();
        timer.shutdownNow();
        try {
            engine.close();
        } catch (java.io.IOException ignored) {
            // the client's transport is gone either way
        }
    }
}
