package ai.dstack.agent;

import ai.dstack.agent.api.ApiServer;
import ai.dstack.agent.cli.HostCommand;
import ai.dstack.agent.cli.RunCommand;
import ai.dstack.agent.cli.TasksCommand;
import ai.dstack.agent.component.Components;
import ai.dstack.agent.config.ConfigException;
import ai.dstack.agent.config.Logging;
import ai.dstack.agent.config.ReportedVersion;
import ai.dstack.agent.config.ShimConfig;
import ai.dstack.agent.config.ShimFlags;
import ai.dstack.agent.docker.ContainerFacts;
import ai.dstack.agent.docker.Engine;
import ai.dstack.agent.docker.EngineException;
import ai.dstack.agent.host.HostInfo;
import ai.dstack.agent.host.HostKeys;
import ai.dstack.agent.host.HostUsers;
import ai.dstack.agent.host.LoopbackSockets;
import ai.dstack.agent.pluginhost.GpuPool;
import ai.dstack.agent.pluginhost.InventoryState;
import ai.dstack.agent.pluginhost.PluginRuntime;
import ai.dstack.agent.pluginhost.PluginSettings;
import ai.dstack.agent.task.ContainerPlanner;
import ai.dstack.agent.task.PipelineServices;
import ai.dstack.agent.task.PipelineStats;
import ai.dstack.agent.task.Reconciler;
import ai.dstack.agent.task.TaskPeers;
import ai.dstack.agent.task.TaskService;
import ai.dstack.agent.task.TaskStore;
import ai.dstack.agent.volume.PluginVolumeManager;
import ai.dstack.agent.volume.VolumeManager;
import io.helidon.webserver.WebServer;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.logging.Logger;
import java.util.stream.Collectors;
import sun.misc.Signal;

/**
 * Entry point of {@code dstack-shim}: configuration → engine → host resources → tasks (restored
 * and reconciled) → HTTP API. Startup order as the Go shim (docs/shim.md §1.3).
 */
public final class Main {
    private static final Logger LOG = Logger.getLogger(Main.class.getName());
    /** Operator subcommands; the first argument selects one. */
    private static final Set<String> SUBCOMMANDS = Set.of("host", "run", "tasks");

    private Main() {
    }

    public static void main(String[] args) {
        Map<String, String> env = System.getenv();
        String version = ReportedVersion.resolve(env);
        List<String> argv = List.of(args);
        if (argv.contains("--version") || argv.contains("-v") || argv.contains("-version")) {
            System.out.println("dstack-shim version " + version);
            return;
        }
        if (!argv.isEmpty() && SUBCOMMANDS.contains(argv.getFirst())) {
            System.exit(subcommand(argv.getFirst(), argv.subList(1, argv.size()), env));
        }
        String problem = ReportedVersion.problem(version);
        if (problem != null) {
            System.err.println("dstack-shim: " + problem);
            System.exit(1);
        }
        ShimConfig config;
        try {
            config = ShimFlags.parse(argv, env);
            Logging.setup(config.home().resolve("shim.log"), config.logLevel());
        } catch (ConfigException | IOException e) {
            System.err.println("dstack-shim: " + e.getMessage());
            System.exit(1);
            return;
        }
        try {
            serve(config, env, version);
        } catch (StartupException e) {
            LOG.severe(e.getMessage());
            System.exit(1);
        }
    }

    /** Operator subcommands: clients of the running agent (or, for {@code host}, of this host). */
    private static int subcommand(String name, List<String> args, Map<String, String> env) {
        // Operator output only: library chatter (PF4J's plugin loading, …) below warnings stays out of it.
        Logger root = Logger.getLogger("");
        root.setLevel(java.util.logging.Level.WARNING);
        for (var handler : root.getHandlers()) {
            handler.setLevel(java.util.logging.Level.WARNING);
        }
        return switch (name) {
            case "run" -> RunCommand.run(args, env, System.out, System.err);
            case "tasks" -> TasksCommand.run(args, env, System.out, System.err);
            default -> HostCommand.run(args, env, System.out);
        };
    }

    private static void serve(ShimConfig config, Map<String, String> env, String version) throws StartupException {
        LOG.info("dstack-shim " + version + " (agent " + ReportedVersion.projectVersion() + ") home " + config.home());
        ExecutorService workers = Executors.newVirtualThreadPerTaskExecutor();
        ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(Thread.ofVirtual().factory());
        Components components = new Components(config.runnerBinaryPath(), config.shimBinaryPath(),
                config.waits().componentInstall(), workers);
        try {
            if (!config.runnerDownloadUrl().isEmpty()) {
                components.installIfAbsent(Components.RUNNER, config.runnerDownloadUrl());
            }
        } catch (IOException e) {
            throw new StartupException("runner install from " + config.runnerDownloadUrl() + " failed: " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new StartupException("interrupted");
        }
        for (var c : components.list()) {
            if (c.status() == ai.dstack.agent.component.ComponentInfo.Status.ERROR) {
                throw new StartupException(c.name() + " check failed: `--version` did not print '" + c.name() + " version <v>'");
            }
        }

        // The shim serves with the engine down (docs/shim-operations.md): tasks fail naming it until it answers.
        Engine engine;
        try {
            engine = Engine.at(config.dockerHost(), config.waits().dockerCall(), config.waits().engineRetry());
        } catch (IllegalArgumentException e) {
            throw new StartupException("invalid DOCKER_HOST " + config.dockerHost() + ": " + e.getMessage());
        }
        boolean engineUp;
        try {
            LOG.info("Docker engine API " + engine.apiVersion() + ", root " + engine.dockerRootDir());
            engineUp = true;
        } catch (EngineException e) {
            LOG.warning(e.getMessage() + ". Serving meanwhile: new tasks fail until the engine answers;"
                        + " restored tasks are judged once it does");
            engineUp = false;
        }

        PluginRuntime plugins = startPlugins(config, env);
        plugins.startHealthChecks(config.waits().health());
        GpuPool gpus = plugins.gpus();
        VolumeManager volumes = new PluginVolumeManager(plugins.storage(), plugins.host());

        HostKeys hostKeys = new HostKeys(config.home().resolve("host-keys.json"), HostUsers.nss());
        ContainerPlanner planner = new ContainerPlanner(config, env, bundledRunnerRuntime(), () -> runtimesInUse(engine));
        PipelineStats stats = new PipelineStats();
        PipelineServices services = new PipelineServices(engine, planner, gpus, volumes, hostKeys, config.waits(), timer, stats);
        TaskStore store = new TaskStore(config.tasksDir());
        TaskService tasks = new TaskService(services, store, config.runnersDir(), workers);
        Reconciler reconciler = new Reconciler(services, store, config.home());
        try {
            if (engineUp) {
                tasks.adopt(reconciler.reconcile());
            } else {
                tasks.adoptUnjudged(reconciler.unjudged(), reconciler);
            }
        } catch (IOException | EngineException e) {
            throw new StartupException("cannot restore tasks: " + e.getMessage());
        }

        if (config.serviceMode()) {
            if (engineUp) {
                writeHostInfo(config, gpus, engine);
            } else {
                // Its disk figures need the engine's data root: written once the engine answers.
                workers.execute(() -> {
                    try {
                        engine.awaitAnswer();
                        LOG.info("the Docker engine answers (API " + engine.apiVersion() + ")");
                        writeHostInfo(config, gpus, engine);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    } catch (StartupException | EngineException e) {
                        LOG.severe(e.getMessage());
                    }
                });
            }
        }

        Stopper stopper = new Stopper(components, plugins, config);
        WebServer server = ApiServer.create(config.httpPort(), config.waits().shutdownGrace(), version, tasks, components,
                plugins, stats, stopper::request, config.apiPeerCheck()
                        ? Optional.of(new TaskPeers(tasks, engine, new LoopbackSockets(Path.of("/proc")))) : Optional.empty());
        stopper.server = server;
        Signal.handle(new Signal("TERM"), s -> stopper.request(false));
        Signal.handle(new Signal("INT"), s -> stopper.request(false));
        server.start();
        if (!server.isRunning() || server.port() < 0) {
            // Helidon logs the bind failure and carries on; a shim that does not listen must not look alive.
            throw new StartupException("cannot listen on localhost:" + config.httpPort()
                                       + " (in use by another process?); --shim-http-port picks another port");
        }
        LOG.info("dstack-shim listening on localhost:" + server.port());
        MemoryTrim.schedule(timer, config.waits().memoryTrim());
    }

    private static void writeHostInfo(ShimConfig config, GpuPool gpus, Engine engine) throws StartupException {
        try {
            HostInfo.writeIfAbsent(config.home().resolve("host_info.json"), HostInfo.collect(gpus.devices(), engine.dockerRootDir()));
        } catch (IOException | EngineException e) {
            throw new StartupException("cannot write host_info.json: " + e.getMessage());
        }
    }

    /** Stops once: graceful (installs cancelled, in-flight requests get the grace) or forced; exit 0 either way. */
    private static final class Stopper {
        private final Components components;
        private final PluginRuntime plugins;
        private final ShimConfig config;
        private final AtomicBoolean graceful = new AtomicBoolean();
        private volatile WebServer server;

        Stopper(Components components, PluginRuntime plugins, ShimConfig config) {
            this.components = components;
            this.plugins = plugins;
            this.config = config;
        }

        void request(boolean force) {
            if (force) {
                LOG.info("forced shutdown");
                Runtime.getRuntime().halt(0);
            }
            if (!graceful.compareAndSet(false, true)) {
                return;
            }
            Thread.ofPlatform().name("shutdown").start(() -> {
                LOG.info("shutting down (grace " + config.waits().shutdownGrace().toMillis() + " ms)");
                components.cancelJobs(config.waits().shutdownGrace());
                if (server != null) {
                    server.stop();
                }
                plugins.close();
                LOG.info("stopped; containers keep running");
                System.exit(0);
            });
        }
    }

    /** Loads the plugins ({@code --plugins-dir}, {@code --plugins}) and finds the host's devices. */
    private static PluginRuntime startPlugins(ShimConfig config, Map<String, String> env) throws StartupException {
        try {
            return PluginRuntime.start(PluginSettings.of(config, env), true, config.home().resolve(InventoryState.FILE_NAME));
        } catch (ConfigException e) {
            throw new StartupException(e.getMessage());
        }
    }

    /** Host sources of the runner runtimes that task containers mount now. */
    private static Set<String> runtimesInUse(Engine engine) {
        try {
            return engine.taskContainers().stream().map(ContainerFacts::runnerRuntime)
                    .filter(s -> !s.isEmpty()).collect(Collectors.toSet());
        } catch (EngineException e) {
            // Unknown: the planner then deletes nothing rather than a runtime a container mounts.
            throw new IllegalStateException("cannot list task containers: " + e.getMessage(), e);
        }
    }

    /** The runner runtime shipped with an installed agent (next to the agent's jar), if any. */
    private static Optional<Path> bundledRunnerRuntime() {
        try {
            Path jarDir = Path.of(Main.class.getProtectionDomain().getCodeSource().getLocation().toURI()).getParent();
            for (Path candidate : List.of(jarDir.resolve("runner-runtime"), jarDir.resolveSibling("runner-runtime"))) {
                if (Files.isDirectory(candidate)) {
                    return Optional.of(candidate);
                }
            }
        } catch (URISyntaxException | RuntimeException e) {
            // no code source: no bundled runtime
        }
        return Optional.empty();
    }

    private static final class StartupException extends Exception {
        StartupException(String message) {
            super(message);
        }
    }
}
