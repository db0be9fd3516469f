package ai.dstack.agent.testing;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.model.Container;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The shim as a separate JVM process started from the test classpath, with its own temp home,
 * a free port and a stub runner; it can be killed (SIGKILL) and started again on the same home.
 * Closing it kills the process and removes every container labelled with its home from its engine
 * (the main one, or the one given to {@link Builder#engine}).
 */
public final class ShimProcess implements AutoCloseable {
    private static final String MAIN = "ai.dstack.agent.Main";
    private final Path home;
    private final int port;
    private final Map<String, String> env;
    private final List<String> args;
    private final Path log;
    private final String engineHost;
    private final List<String> wrapper;
    private Process process;
    private int starts;
    private DockerClient engine;

    private ShimProcess(Path home, Map<String, String> env, List<String> args, String engineHost, List<String> wrapper) {
        this.home = home;
        this.wrapper = wrapper;
        this.engineHost = engineHost;
        this.port = FreePorts.next();
        this.env = env;
        this.args = args;
        this.log = home.resolveSibling(home.getFileName() + "-process.log");
    }

    /** Builds a shim: {@code start()} runs it. */
    public static Builder builder(Path tempDir) {
        return new Builder(tempDir);
    }

    /** Options of a shim process. */
    public static final class Builder {
        private final Path tempDir;
        private final Map<String, String> env = new LinkedHashMap<>();
        private final List<String> args = new ArrayList<>();
        private final List<String> wrapper = new ArrayList<>();
        private String engineHost;

        private Builder(Path tempDir) {
            this.tempDir = tempDir;
        }

        /** Sets an environment variable of the shim. */
        public Builder env(String name, String value) {
            env.put(name, value);
            return this;
        }

        /**
         * Runs the shim's tasks on another engine (e.g. a {@link TestDockerd}): its {@code DOCKER_HOST},
         * and the engine {@link #containers()} and {@link #close()} look at. (A proxy in front of the main
         * engine is only given as {@code DOCKER_HOST}: the checks then go to the engine directly.)
         */
        public Builder engine(String dockerHost) {
            engineHost = dockerHost;
            return env("DOCKER_HOST", dockerHost);
        }

        /** Adds command-line arguments. */
        public Builder args(String... more) {
            args.addAll(List.of(more));
            return this;
        }

        /**
         * Runs the shim's JVM through a command that ends by exec-ing its arguments (e.g.
         * {@code unshare -m sh -c 'mount …; exec "$@"' sh}), so the process is still the shim's JVM.
         */
        public Builder wrappedIn(String... command) {
            wrapper.addAll(List.of(command));
            return this;
        }

        /** Starts the shim and waits until its healthcheck answers. */
        public ShimProcess start() {
            try {
                Path home = Files.createDirectories(tempDir.resolve("shim-home"));
                Map<String, String> all = new LinkedHashMap<>();
                all.put("DSTACK_SHIM_HOME", home.toString());
                all.put("DSTACK_RUNNER_BINARY_PATH", StubRunner.write(tempDir.resolve("runner-bin")).toString());
                all.put("DSTACK_SHIM_BINARY_PATH", tempDir.resolve("no-shim-binary").toString());
                all.put("DSTACK_SHIM_LOG_LEVEL", "debug");
                all.putAll(env);
                ShimProcess shim = new ShimProcess(home, all, List.copyOf(args), engineHost, List.copyOf(wrapper));
                shim.restart();
                return shim;
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    /** What a shim run that ends by itself printed. */
    public record Run(int exitCode, String output) {
    }

    /** Runs the shim with {@code args} and {@code env} (HOME set to {@code tempDir}) until it exits by itself. */
    public static Run runToExit(Path tempDir, Map<String, String> env, String... args) {
        Map<String, String> all = new LinkedHashMap<>();
        all.put("HOME", tempDir.toString());
        all.putAll(env);
        return runWith(all, args);
    }

    /** Runs another shim command (e.g. {@code host --json}) with this shim's environment until it exits. */
    public Run runCommand(String... args) {
        return runWith(env, args);
    }

    private static Run runWith(Map<String, String> env, String... args) {
        List<String> cmd = new ArrayList<>(javaCommand());
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().putAll(env);
        try {
            Process p = pb.start();
            String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException("the shim did not exit: " + out);
            }
            return new Run(p.exitValue(), out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static List<String> javaCommand() {
        return List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"), MAIN);
    }

    /** Starts (again) on the same home and port, and waits for the healthcheck. */
    public void restart() {
        if (process != null && process.isAlive()) {
            throw new IllegalStateException("the shim still runs");
        }
        List<String> cmd = new ArrayList<>(wrapper);
        cmd.addAll(javaCommand());
        cmd.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        pb.environment().put("DSTACK_SHIM_HTTP_PORT", String.valueOf(port));
        pb.environment().putAll(env);
        try {
            process = pb.start();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        starts++;
        ApiClient api = api();
        long until = System.nanoTime() + Duration.ofSeconds(90).toNanos();
        while (!api.answers("/api/healthcheck")) {
            if (!process.isAlive()) {
                throw new IllegalStateException("the shim exited with " + process.exitValue() + ":\n" + output());
            }
            if (System.nanoTime() > until) {
                throw new IllegalStateException("the shim did not answer within 90 s:\n" + output());
            }
            sleep(100);
        }
    }

    /** SIGKILL, and wait for the process to be gone. */
    public void kill() {
        process.destroyForcibly();
        waitExit();
    }

    /** SIGTERM; returns the exit code. */
    public int terminate() {
        process.destroy();
        return waitExit();
    }

    /** Waits for the process to exit on its own; returns the exit code. */
    public int waitExit() {
        try {
            if (!process.waitFor(60, TimeUnit.SECONDS)) {
                throw new IllegalStateException("the shim did not exit within 60 s");
            }
            return process.exitValue();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    public boolean alive() {
        return process.isAlive();
    }

    /** The process id of the running shim. */
    public long pid() {
        return process.pid();
    }

    public ApiClient api() {
        return new ApiClient(port);
    }

    public int port() {
        return port;
    }

    public Path home() {
        return home;
    }

    /** How many times the process was started. */
    public int starts() {
        return starts;
    }

    /** Everything the process printed so far (all starts). */
    public String output() {
        try {
            return Files.exists(log) ? Files.readString(log) : "";
        } catch (IOException e) {
            return "(cannot read " + log + ": " + e.getMessage() + ")";
        }
    }

    /** A client of the engine this shim drives. */
    public synchronized DockerClient engine() {
        if (engine == null) {
            engine = engineHost == null ? Docker.client() : Docker.client(engineHost);
        }
        return engine;
    }

    /** Containers labelled with this shim's home. */
    public List<Container> containers() {
        return engine().listContainersCmd().withShowAll(true)
                .withLabelFilter(Map.of("ai.dstack.shim.home", home.toString())).exec();
    }

    @Override
    public void close() {
        if (process != null && process.isAlive()) {
            process.destroyForcibly();
            waitExit();
        }
        for (Container c : containers()) {
            try {
                engine().removeContainerCmd(c.getId()).withForce(true).withRemoveVolumes(true).exec();
            } catch (RuntimeException e) {
                // already gone
            }
        }
        if (engine != null && engineHost != null) {
            try {
                engine.close();
            } catch (IOException ignored) {
                // its transport is gone either way
            }
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
