package ai.dstack.agent.testing;

import ai.dstack.agent.spi.HostContext;
import ai.dstack.agent.spi.Setting;
import ai.dstack.agent.spi.ToolResult;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * An in-memory host for plugin unit tests: a fake root folder (files, links) and scripted tool
 * answers by executable name, each call recorded. Tools without an answer are "not found on PATH".
 * The process-running host of the agent is exercised by agent-core's tests with fake executables.
 */
public final class FakeHost implements HostContext {
    private final Path root;
    private final Map<String, Deque<ToolResult>> answers = new HashMap<>();
    private final Map<List<String>, ToolResult> exact = new HashMap<>();
    private final Map<String, String> values = new HashMap<>();
    private final List<List<String>> calls = new ArrayList<>();

    public FakeHost(Path root) {
        this.root = root;
    }

    /** Creates an empty file (parents too) at a logical path under the root. */
    public FakeHost file(String logicalPath, String content) {
        try {
            Path p = hostPath(logicalPath);
            Files.createDirectories(p.getParent());
            Files.writeString(p, content);
            return this;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Creates a folder at a logical path. */
    public FakeHost dir(String logicalPath) {
        try {
            Files.createDirectories(hostPath(logicalPath));
            return this;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Creates a symlink at a logical path pointing at {@code target} (relative or absolute, as on a host). */
    public FakeHost link(String logicalPath, String target) {
        try {
            Path p = hostPath(logicalPath);
            Files.createDirectories(p.getParent());
            Files.createSymbolicLink(p, Path.of(target));
            return this;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The next run of {@code tool} prints {@code stdout} and exits 0; answers queue up per tool, the last one repeats. */
    public FakeHost answer(String tool, String stdout) {
        return answer(tool, new ToolResult(0, stdout, "", false, false));
    }

    /** Runs of exactly this command print {@code stdout} and exit 0 (checked before per-tool answers). */
    public FakeHost answerExactly(List<String> command, String stdout) {
        exact.put(List.copyOf(command), new ToolResult(0, stdout, "", false, false));
        return this;
    }

    /** The next run of {@code tool} gives this result. */
    public FakeHost answer(String tool, ToolResult result) {
        answers.computeIfAbsent(tool, k -> new ArrayDeque<>()).add(result);
        return this;
    }

    /** The next run of {@code tool} prints a classpath resource and exits 0. */
    public FakeHost answerResource(String tool, Class<?> owner, String resource) {
        try (var in = owner.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalArgumentException("no resource " + resource);
            }
            return answer(tool, new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Makes the plugin's declared settings readable, at their defaults (as the agent does at start). */
    public FakeHost declare(List<Setting> declared) {
        declared.forEach(d -> values.putIfAbsent(d.name(), d.defaultValue()));
        return this;
    }

    /** Overrides a millisecond setting, e.g. a plugin wait. */
    public FakeHost tune(String name, Duration value) {
        values.put(name, String.valueOf(value.toMillis()));
        return this;
    }

    /** Every command run so far, in order. */
    public List<List<String>> calls() {
        return List.copyOf(calls);
    }

    @Override
    public Path hostPath(String logicalPath) {
        return root.resolve(logicalPath.startsWith("/") ? logicalPath.substring(1) : logicalPath);
    }

    @Override
    public ToolResult run(Duration timeout, List<String> command) {
        return run(command);
    }

    @Override
    public synchronized ToolResult run(List<String> command) {
        calls.add(List.copyOf(command));
        if (exact.containsKey(command)) {
            return exact.get(command);
        }
        Deque<ToolResult> queue = answers.get(command.getFirst());
        if (queue == null || queue.isEmpty()) {
            return new ToolResult(-1, "", "", true, false);
        }
        return queue.size() > 1 ? queue.poll() : queue.peek();
    }

    /**
     * The tool itself; when it is not answered, its image run, recorded and answered as the command
     * {@code [image:<tool>, <dockerArgs>…, --, <args>…]} (answer it with {@code answer("image:<tool>", …)}).
     * Which image and how Docker runs it is the agent's policy, tested with the agent's host.
     */
    @Override
    public ToolResult runInstalledOrImage(String tool, List<String> dockerArgs, List<String> args) {
        ToolResult installed = run(Stream.concat(Stream.of(tool), args.stream()).toList());
        return installed.notFound()
                ? run(Stream.of(List.of("image:" + tool), dockerArgs, List.of("--"), args).flatMap(List::stream).toList())
                : installed;
    }

    /** Starts nothing: long-running helpers are exercised through the agent's real host. */
    @Override
    public Process start(List<String> command) throws IOException {
        calls.add(List.copyOf(command));
        throw new IOException(command.getFirst() + ": FakeHost starts no processes");
    }

    /** Sets a configuration value plugins read with {@link #setting(String)}. */
    public FakeHost set(String name, String value) {
        values.put(name, value);
        return this;
    }

    @Override
    public String setting(String name) {
        String value = values.get(name);
        if (value == null) {
            throw new IllegalArgumentException("no setting " + name + " (declare the plugin's settings first)");
        }
        return value;
    }
}
