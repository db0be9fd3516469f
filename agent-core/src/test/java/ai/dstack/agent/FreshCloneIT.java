package ai.dstack.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ai.dstack.agent.testing.ApiClient;
import ai.dstack.agent.testing.Commands;
import ai.dstack.agent.testing.Docker;
import ai.dstack.agent.testing.FreePorts;
import ai.dstack.agent.testing.LocalImages;
import ai.dstack.agent.testing.RepoPaths;
import com.github.dockerjava.api.model.Container;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The README's first command on a fresh clone: {@code git clone … && cd … && bin/dstack-shim} builds
 * the agent, serves, and a job runs through it; a runner runtime without its AOT cache gets one at
 * the next start. A nested build (its own budget); the engine and the local images already exist,
 * so the launcher only checks them. Its own shim home and port: nothing of the machine's is touched.
 */
class FreshCloneIT {
    /** Ends a hung build; the nested build normally takes a minute or two. */
    private static final Duration BUILD_BUDGET = Duration.ofMinutes(6);

    @TempDir
    Path tmp;

    @Test
    void readmeFirstCommandBuildsServesAndRunsAJob() throws Exception {
        Path root = RepoPaths.root();
        assumeTrue(Files.exists(root.resolve(".git")), "not a git checkout: " + root);
        Path clone = tmp.resolve("clone");
        Commands.run("git", "clone", "-q", "--no-hardlinks", root.toString(), clone.toString());
        Path home = tmp.resolve("shim-home");
        int port = FreePorts.next();
        Path aot = clone.resolve("runner/target/runtime/lib/runner.aot");
        try {
            Process shim = start(clone, home, port, tmp.resolve("first.log"));
            try {
                awaitServing(shim, port, tmp.resolve("first.log"));
                assertThat(aot).as("the runner runtime's AOT cache after the first start").isRegularFile();
                ProcessBuilder run = new ProcessBuilder(clone.resolve("bin/dstack-shim").toString(), "run",
                        "--image", LocalImages.BUSYBOX, "--shim-http-port", String.valueOf(port),
                        "--", "echo", "hello from a fresh clone").redirectErrorStream(true);
                Process job = run.start();
                String out = new String(job.getInputStream().readAllBytes());
                assertThat(job.waitFor(3, TimeUnit.MINUTES)).as(out).isTrue();
                assertThat(job.exitValue()).as(out).isZero();
                assertThat(out).contains("hello from a fresh clone");
            } finally {
                stop(shim);
            }

            // A runtime without its cache (built while the engine or image was missing) gets one.
            Files.delete(aot);
            Process again = start(clone, home, port, tmp.resolve("second.log"));
            try {
                awaitServing(again, port, tmp.resolve("second.log"));
                assertThat(aot).as("the AOT cache trained again at the next start").isRegularFile();
            } finally {
                stop(again);
            }
        } finally {
            for (Container c : Docker.client().listContainersCmd().withShowAll(true)
                    .withLabelFilter(Map.of("ai.dstack.shim.home", home.toString())).exec()) {
                Docker.client().removeContainerCmd(c.getId()).withForce(true).exec();
            }
        }
    }

    private static Process start(Path clone, Path home, int port, Path log) throws IOException {
        ProcessBuilder pb = new ProcessBuilder(List.of(clone.resolve("bin/dstack-shim").toString()))
                .directory(clone.toFile()).redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().put("DSTACK_SHIM_HOME", home.toString());
        pb.environment().put("DSTACK_SHIM_HTTP_PORT", String.valueOf(port));
        return pb.start();
    }

    private static void awaitServing(Process shim, int port, Path log) throws Exception {
        ApiClient api = new ApiClient(port);
        long until = System.nanoTime() + BUILD_BUDGET.toNanos();
        while (!api.answers("/api/healthcheck")) {
            assertThat(shim.isAlive()).as("bin/dstack-shim exited:\n%s", tail(log)).isTrue();
            assertThat(System.nanoTime()).as("not serving within %s:\n%s", BUILD_BUDGET, tail(log)).isLessThan(until);
            Thread.sleep(500);
        }
    }

    /** SIGTERM to the launcher and whatever it started (a build still running, or the exec-ed JVM). */
    private static void stop(Process p) throws InterruptedException {
        p.descendants().forEach(ProcessHandle::destroy);
        p.destroy();
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly().waitFor();
        }
    }

    private static String tail(Path log) throws IOException {
        String s = Files.exists(log) ? Files.readString(log) : "";
        return s.length() > 6000 ? s.substring(s.length() - 6000) : s;
    }
}
