package ai.dstack.agent.docker;

import ai.dstack.agent.files.Trees;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.logging.Logger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Our single-file runner ({@code dstack-runner-linux-amd64}, a self-extracting sh script) placed at
 * the runner binary path: tasks get the runtime it unpacks next to itself
 * ({@code .<name>.d/<payload sha256>/}), mounted like any runner runtime. Runtimes of older files
 * are deleted once no container mounts them.
 */
public final class SingleFileRunner {
    private static final Logger LOG = Logger.getLogger(SingleFileRunner.class.getName());
    private static final Pattern MARKER = Pattern.compile("# dstack-agent-selfextract component=dstack-runner sha256=([0-9a-f]{64})");
    private static final long UNPACK_TIMEOUT_S = 120;

    private SingleFileRunner() {
    }

    /** The payload checksum when the file is our single-file runner, else empty. */
    static Optional<String> payloadSha(Path file) {
        if (!Files.isRegularFile(file)) {
            return Optional.empty();
        }
        try (InputStream in = Files.newInputStream(file)) {
            Matcher m = MARKER.matcher(new String(in.readNBytes(512), StandardCharsets.ISO_8859_1));
            return m.find() ? Optional.of(m.group(1)) : Optional.empty();
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /** Where the file unpacks its runtime. */
    static Path runtimesDir(Path file) {
        return file.toAbsolutePath().resolveSibling("." + file.getFileName() + ".d");
    }

    /**
     * The unpacked runtime of our single-file runner at {@code file}, unpacking it first when needed
     * (by the file itself: one format, one unpacker); empty when the file is something else.
     */
    public static Optional<Path> runtime(Path file) throws IOException {
        Optional<String> sha = payloadSha(file);
        if (sha.isEmpty()) {
            return Optional.empty();
        }
        Path dir = runtimesDir(file).resolve(sha.get());
        if (!Files.exists(dir.resolve(".complete"))) {
            ProcessBuilder pb = new ProcessBuilder(file.toAbsolutePath().toString()).redirectErrorStream(true);
            pb.environment().put("DSTACK_SELFEXTRACT_UNPACK_ONLY", "1");
            Process p = pb.start();
            try {
                String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
                if (!p.waitFor(UNPACK_TIMEOUT_S, TimeUnit.SECONDS) || p.exitValue() != 0
                        || !Files.exists(dir.resolve(".complete"))) {
                    throw new IOException("cannot unpack the runner " + file + ": " + out);
                }
            } catch (InterruptedException e) {
                p.destroyForcibly();
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while unpacking the runner " + file);
            }
            LOG.info("unpacked the runner " + file + " into " + dir);
        }
        return Optional.of(dir);
    }

    /**
     * Deletes runtimes unpacked from earlier versions of the file, except those some container still
     * mounts ({@code inUse}: host sources of runtime mounts, asked for only when there is an old
     * runtime: it costs the engine a list and an inspect per task container, at every task start)
     * and the current one.
     */
    public static void prune(Path file, Supplier<Set<String>> inUse) {
        Optional<String> current = payloadSha(file);
        Path dir = runtimesDir(file);
        if (!Files.isDirectory(dir)) {
            return;
        }
        List<Path> old;
        try (Stream<Path> entries = Files.list(dir)) {
            old = entries.filter(p -> current.map(c -> !p.getFileName().toString().equals(c)).orElse(true))
                    .filter(p -> !p.getFileName().toString().startsWith(".tmp-"))
                    .toList();
        } catch (IOException e) {
            LOG.warning("cannot list " + dir + ": " + e.getMessage());
            return;
        }
        if (old.isEmpty()) {
            return;
        }
        Set<String> mounted = inUse.get();
        for (Path p : old) {
            if (mounted.contains(p.toAbsolutePath().toString())) {
                continue;
            }
            try {
                Trees.delete(p);
                LOG.info("deleted the unused runner runtime " + p);
            } catch (IOException e) {
                LOG.warning("cannot delete the unused runner runtime " + p + ": " + e.getMessage());
            }
        }
    }
}
