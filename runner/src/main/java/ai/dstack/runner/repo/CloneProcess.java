package ai.dstack.runner.repo;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Sets up a remote repo in a child JVM with its own heap: a JGit clone of a big repository
 * (~500k objects) needs hundreds of MiB, far above the runner's 40 MiB heap, and the runner's
 * footprint stays what it was once the child has exited. The request (credentials included)
 * travels on the child's stdin, never in its argv; the child's output lines go to {@code log}.
 */
public final class CloneProcess {
    static final String ERROR_PREFIX = "dstack-clone-error: ";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int TAIL_LINES = 5;
    /** A killed JVM is gone within milliseconds; this only bounds a child stuck in the kernel. */
    private static final long KILL_WAIT_MS = 5_000;

    /** What the child does: {@link RemoteRepo#setUp} with these arguments. */
    record Request(String repoDir, RepoCredentials credentials, RemoteRepoSpec spec, String diff) {
    }

    private CloneProcess() {
    }

    /**
     * Runs {@link RemoteRepo#setUp} in a child JVM. {@code runtimeHome} is the runner runtime (its
     * bundled loader and JRE start the child in any image); null: the JVM running this code.
     */
    public static void run(Path repoDir, RepoCredentials credentials, RemoteRepoSpec spec, Path diff,
                           Path runtimeHome, Consumer<String> log) throws RepoSetupException {
        run(repoDir, credentials, spec, diff, runtimeHome, log, Map.of());
    }

    /** As above, with {@code env} added to the runner's environment for the child (tests). */
    static void run(Path repoDir, RepoCredentials credentials, RemoteRepoSpec spec, Path diff,
                    Path runtimeHome, Consumer<String> log, Map<String, String> env) throws RepoSetupException {
        if (credentials == null) {
            throw new RepoSetupException("no repo credentials for a remote repo");
        }
        Request request = new Request(repoDir.toString(), credentials, spec, diff == null ? null : diff.toString());
        Process p;
        try {
            ProcessBuilder pb = new ProcessBuilder(command(runtimeHome)).redirectErrorStream(true);
            pb.environment().putAll(env);
            p = pb.start();
        } catch (IOException e) {
            throw new RepoSetupException("cannot start the clone process: " + e.getMessage(), e);
        }
        try {
            try (OutputStream in = p.getOutputStream()) {
                JSON.writeValue(in, request);
            } catch (IOException e) {
                // the child died before reading its request: its output says why
            }
            // The output is read on its own thread so that this one waits in waitFor, which an
            // interrupt (a stop during the clone) ends at once; the finally then kills the child.
            Output output = new Output(p, log);
            Thread reader = Thread.ofVirtual().name("clone-output").start(output);
            int status = p.waitFor();
            reader.join();
            if (output.failure != null) {
                throw new RepoSetupException("reading the clone process failed: " + output.failure.getMessage(), output.failure);
            }
            if (status == 0) {
                return;
            }
            if (output.error != null) {
                throw new RepoSetupException(output.error);
            }
            String last = output.tail.isEmpty() ? "no output" : String.join(" / ", output.tail);
            throw new RepoSetupException("the clone process exited with status " + status + " (" + last + ")");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new RepoSetupException("interrupted while cloning", e);
        } finally {
            kill(p);
        }
    }

    /** Kills the child and what it started, and waits (briefly, even when interrupted) until it is gone. */
    private static void kill(Process p) {
        p.descendants().forEach(ProcessHandle::destroyForcibly);
        p.destroyForcibly();
        boolean interrupted = Thread.interrupted();
        try {
            p.waitFor(KILL_WAIT_MS, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            interrupted = true;
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** The child's output: lines to the log, its error line apart, the last lines kept for a failure (read after join). */
    private static final class Output implements Runnable {
        private final Process process;
        private final Consumer<String> log;
        private final Deque<String> tail = new ArrayDeque<>();
        private String error;
        private IOException failure;

        Output(Process process, Consumer<String> log) {
            this.process = process;
            this.log = log;
        }

        @Override
        public void run() {
            try (BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = out.readLine()) != null) {
                    if (line.startsWith(ERROR_PREFIX)) {
                        error = line.substring(ERROR_PREFIX.length());
                        continue;
                    }
                    log.accept(line);
                    tail.addLast(line);
                    if (tail.size() > TAIL_LINES) {
                        tail.removeFirst();
                    }
                }
            } catch (IOException e) {
                failure = e;
            }
        }
    }

    /** The child's command line: the same JRE and classpath, a heap sized to the container. */
    static List<String> command(Path runtimeHome) {
        List<String> cmd = new ArrayList<>();
        if (runtimeHome != null) {
            Path glibc = runtimeHome.resolve("glibc");
            Path jre = runtimeHome.resolve("jre");
            cmd.addAll(List.of(glibc.resolve("ld-linux-x86-64.so.2").toString(), "--library-path",
                    glibc + ":" + jre.resolve("lib") + ":" + jre.resolve("lib/server"), jre.resolve("bin/java").toString()));
        } else {
            cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        }
        cmd.addAll(List.of("-XX:+UseSerialGC", "-XX:MaxRAMPercentage=50", "-XX:+ExitOnOutOfMemoryError",
                "-XX:-UsePerfData", "-Xlog:disable", "-Xlog:all=error:stderr", "-Djdk.lang.Process.launchMechanism=FORK",
                "-Djava.util.logging.SimpleFormatter.format=%5$s%6$s%n", "-Dslf4j.internal.verbosity=ERROR",
                "-cp", System.getProperty("java.class.path"), CloneMain.class.getName()));
        return cmd;
    }
}
