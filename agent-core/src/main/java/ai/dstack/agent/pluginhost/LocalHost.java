package ai.dstack.agent.pluginhost;

import ai.dstack.agent.spi.HostContext;
import ai.dstack.agent.spi.ToolResult;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;

/**
 * The host as plugins see it: reads under {@link PluginSettings#hostRoot()} (default {@code /}), vendor
 * tools found on the {@code PATH} of the agent's environment and killed (with their children) at a
 * timeout, a missing tool run from its {@link #toolImage image}, long-running helpers, the
 * settings plugins read by name (the core's passed-through flags and the plugins' declared ones).
 */
public final class LocalHost implements HostContext {
    private static final Logger LOG = Logger.getLogger(LocalHost.class.getName());

    private final Path root;
    private final Duration toolTimeout;
    private final Map<String, String> env;
    private final Map<String, String> values;
    private final java.util.concurrent.atomic.AtomicLong imageRuns = new java.util.concurrent.atomic.AtomicLong();

    /**
     * @param values configuration values plugins may read by name ({@link #setting(String)})
     * @param env    the environment tools run with ({@code PATH} included)
     */
    public LocalHost(Path root, Duration toolTimeout, Map<String, String> values, Map<String, String> env) {
        this.root = root.toAbsolutePath().normalize();
        this.toolTimeout = toolTimeout;
        this.values = Map.copyOf(values);
        this.env = Map.copyOf(env);
    }

    /** The host of these settings, with tools from {@code env}'s {@code PATH}. */
    public static LocalHost of(PluginSettings settings) {
        return new LocalHost(settings.hostRoot(), settings.toolTimeout(), settings.values(), settings.env());
    }

    @Override
    public Path hostPath(String logicalPath) {
        String relative = logicalPath.startsWith("/") ? logicalPath.substring(1) : logicalPath;
        return relative.isEmpty() ? root : root.resolve(relative);
    }

    /** The executable a tool name resolves to on this host's {@code PATH}. */
    public Optional<Path> which(String tool) {
        if (tool.contains("/")) {
            Path p = Path.of(tool);
            return Files.isExecutable(p) ? Optional.of(p) : Optional.empty();
        }
        for (String dir : env.getOrDefault("PATH", "").split(File.pathSeparator)) {
            if (dir.isEmpty()) {
                continue;
            }
            Path candidate = Path.of(dir, tool);
            if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
                return Optional.of(candidate);
            }
        }
        return Optional.empty();
    }

    /** The environment tools are started with (the agent's, {@code PATH} included). */
    public Map<String, String> env() {
        return env;
    }

    @Override
    public ToolResult run(List<String> command) {
        return run(toolTimeout, command);
    }

    @Override
    public ToolResult run(Duration timeout, List<String> command) {
        Optional<Path> exe = which(command.getFirst());
        if (exe.isEmpty()) {
            return new ToolResult(-1, "", "", true, false);
        }
        Path out = null;
        Path err = null;
        try {
            out = Files.createTempFile("dstack-tool-", ".out");
            err = Files.createTempFile("dstack-tool-", ".err");
            var argv = new ArrayList<>(command);
            argv.set(0, exe.get().toString());
            ProcessBuilder pb = new ProcessBuilder(argv).redirectOutput(out.toFile()).redirectError(err.toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
            pb.environment().clear();
            pb.environment().putAll(env);
            Process p = pb.start();
            boolean finished = p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
            if (!finished) {
                p.descendants().forEach(ProcessHandle::destroyForcibly);
                p.destroyForcibly();
                p.waitFor(5, TimeUnit.SECONDS);
                LOG.warning(() -> command.getFirst() + " killed after " + timeout.toMillis() + " ms");
                return new ToolResult(-1, read(out), read(err), false, true);
            }
            return new ToolResult(p.exitValue(), read(out), read(err), false, false);
        } catch (IOException e) {
            return new ToolResult(-1, "", String.valueOf(e.getMessage()), true, false);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new ToolResult(-1, "", "interrupted", false, true);
        } finally {
            delete(out);
            delete(err);
        }
    }

    /** The image a vendor tool runs from when it is not installed on the host (dstack publishes them). */
    public String toolImage(String tool) {
        return "dstackai/" + tool + ":latest";
    }

    /** How many vendor tools ran as containers so far (the inventory does not re-run those while GPUs are held). */
    public long imageRuns() {
        return imageRuns.get();
    }

    /**
     * The tool itself, else {@code docker run --rm <dockerArgs> <toolImage(tool)> <args>} with the
     * {@code docker} CLI on this host's {@code PATH} (the only use of the CLI: the agent's own engine
     * calls go through the engine's socket).
     */
    @Override
    public ToolResult runInstalledOrImage(String tool, List<String> dockerArgs, List<String> args) {
        List<String> direct = new ArrayList<>();
        direct.add(tool);
        direct.addAll(args);
        ToolResult result = run(direct);
        if (!result.notFound()) {
            return result;
        }
        imageRuns.incrementAndGet();
        List<String> viaDocker = new ArrayList<>(List.of("docker", "run", "--rm"));
        viaDocker.addAll(dockerArgs);
        viaDocker.add(toolImage(tool));
        viaDocker.addAll(args);
        return run(viaDocker);
    }

    @Override
    public Process start(List<String> command) throws IOException {
        Path exe = which(command.getFirst()).orElseThrow(() -> new IOException(command.getFirst() + ": not found on PATH"));
        List<String> argv = new ArrayList<>(command);
        argv.set(0, exe.toString());
        ProcessBuilder pb = new ProcessBuilder(argv).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        pb.environment().clear();
        pb.environment().putAll(env);
        return pb.start();
    }

    @Override
    public String setting(String name) {
        String value = values.get(name);
        if (value == null) {
            throw new IllegalArgumentException("no setting " + name + " in the agent's configuration");
        }
        return value;
    }

    private static String read(Path file) throws IOException {
        return new String(Files.readAllBytes(file), StandardCharsets.UTF_8);
    }

    private static void delete(Path file) {
        if (file != null) {
            try {
                Files.deleteIfExists(file);
            } catch (IOException ignored) {
                // a temp file left behind is harmless
            }
        }
    }
}
