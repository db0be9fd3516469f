package ai.dstack.runner.repo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The clone child as the runner starts it: its result, its failures and its output. */
class CloneProcessTest {
    private static final RemoteRepoSpec MAIN = new RemoteRepoSpec("main", null, "Jo", "jo@example.com", false);
    @TempDir
    Path tmp;
    final List<String> log = new ArrayList<>();

    @Test
    void theChildClonesAndItsOutputReachesTheLog() throws Exception {
        GitCli.originWithReadme(tmp, "from the child\n");
        CloneProcess.run(tmp.resolve("repo"), new RepoCredentials("file://" + tmp.resolve("origin.git"), null, null),
                MAIN, null, null, log::add);
        assertThat(Files.readString(tmp.resolve("repo/README.md"))).isEqualTo("from the child\n");
        assertThat(GitCli.git(tmp.resolve("repo"), "config", "--local", "user.name").trim()).isEqualTo("Jo");
        assertThat(String.join("\n", log)).contains("cloning file://").doesNotContain("SLF4J");
    }

    @Test
    void aSetupErrorInTheChildIsTheSameMessageAsInProcess() {
        assertThatThrownBy(() -> CloneProcess.run(tmp.resolve("repo"),
                new RepoCredentials("ftp://h/x", null, null), MAIN, null, null, log::add))
                .isInstanceOf(RepoSetupException.class)
                .hasMessage("Failed to set up the repo (unsupported clone URL scheme: ftp)");
    }

    @Test
    void aChildThatRunsOutOfMemoryFailsWithAReason() throws Exception {
        GitCli.originWithReadme(tmp, "x\n");
        // a heap far too small for JGit: the child ends with an OutOfMemoryError, never silently
        assertThatThrownBy(() -> CloneProcess.run(tmp.resolve("repo"),
                new RepoCredentials("file://" + tmp.resolve("origin.git"), null, null), MAIN, null, null, log::add,
                Map.of("JAVA_TOOL_OPTIONS", "-Xmx3m")))
                .isInstanceOf(RepoSetupException.class)
                .hasMessageContaining("OutOfMemoryError");
    }

    @Test
    void anInterruptEndsTheCloneAtOnceAndKillsTheChild() throws Exception {
        try (ServerSocket silent = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            CompletableFuture<Throwable> outcome = new CompletableFuture<>();
            Thread cloning = Thread.ofPlatform().start(() -> {
                try {
                    CloneProcess.run(tmp.resolve("repo"), new RepoCredentials("http://127.0.0.1:" + silent.getLocalPort()
                            + "/never.git", null, null), MAIN, null, null, log::add);
                    outcome.complete(null);
                } catch (Throwable t) {
                    outcome.complete(t);
                }
            });
            // the child is in its fetch once it connected: a server that never answers holds it there
            try (Socket held = silent.accept()) {
                assertThat(cloneChildren()).isNotEmpty();
                cloning.interrupt();
                Throwable t = outcome.get(60, TimeUnit.SECONDS); // ends a hung test only
                assertThat(t).isInstanceOf(RepoSetupException.class).hasMessage("Failed to set up the repo (interrupted while cloning)");
                assertThat(cloneChildren()).isEmpty(); // killed and waited for, not left behind
            }
        }
    }

    private static List<ProcessHandle> cloneChildren() {
        return ProcessHandle.current().descendants().filter(ProcessHandle::isAlive)
                .filter(h -> cmdline(h).contains(CloneMain.class.getName())).toList();
    }

    private static String cmdline(ProcessHandle h) {
        try {
            return Files.readString(Path.of("/proc", String.valueOf(h.pid()), "cmdline")).replace('\0', ' ');
        } catch (java.io.IOException e) {
            return ""; // gone meanwhile
        }
    }
}
