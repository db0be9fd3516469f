package ai.dstack.runner.repo;

import static ai.dstack.runner.repo.GitCli.git;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Clones through the proxy variables, in the clone child process as the runner runs it: a git
 * repository served over (dumb) HTTP on loopback, reached only through a forwarding proxy under a
 * host name that does not resolve.
 */
class ProxyCloneTest {
    private static final RemoteRepoSpec MAIN = new RemoteRepoSpec("main", null, null, null, false);
    @TempDir
    Path tmp;
    Process origin;
    ForwardProxy proxy;
    final List<String> log = new ArrayList<>();

    @BeforeEach
    void serve() throws Exception {
        GitCli.originWithReadme(tmp, "through the proxy\n");
        git(tmp.resolve("origin.git"), "update-server-info");
        // busybox httpd, not com.sun.net.httpserver: on this class path that API is served by the runner's
        // own server library, which waits for a body on requests without Content-Length.
        int port;
        try (ServerSocket free = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = free.getLocalPort();
        }
        origin = new ProcessBuilder("busybox", "httpd", "-f", "-p", "127.0.0.1:" + port, "-h", tmp.toString())
                .redirectErrorStream(true).redirectOutput(tmp.resolve("httpd.log").toFile()).start();
        await().atMost(Duration.ofSeconds(20)).until(() -> listening(port));
        proxy = new ForwardProxy(port);
    }

    @AfterEach
    void stop() throws Exception {
        proxy.close();
        origin.destroyForcibly().waitFor();
    }

    private static boolean listening(int port) {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private void clone(String url, Map<String, String> env) throws RepoSetupException {
        CloneProcess.run(tmp.resolve("repo"), new RepoCredentials(url, null, null), MAIN, null, null, log::add, env);
    }

    @Test
    void anHttpCloneGoesThroughHttpProxy() throws Exception {
        clone("http://git.example.test/origin.git", Map.of("http_proxy", "http://127.0.0.1:" + proxy.port()));
        assertThat(Files.readString(tmp.resolve("repo/README.md"))).isEqualTo("through the proxy\n");
        assertThat(proxy.seen()).anyMatch(l -> l.startsWith("GET http://git.example.test/origin.git/info/refs"));
    }

    @Test
    void theUpperCaseNameWinsAndAValueWithoutSchemeIsAnHttpProxy() throws Exception {
        clone("http://git.example.test/origin.git", Map.of("HTTP_PROXY", "127.0.0.1:" + proxy.port(),
                "http_proxy", "http://127.0.0.1:1"));
        assertThat(Files.readString(tmp.resolve("repo/README.md"))).isEqualTo("through the proxy\n");
        assertThat(proxy.seen()).isNotEmpty();
    }

    @Test
    void credentialsInTheProxyUrlAreSentAsBasicProxyAuthorization() throws Exception {
        proxy.requireBasic("jo", "p@ss:word");
        clone("http://git.example.test/origin.git", Map.of("http_proxy", "http://jo:p%40ss%3Aword@127.0.0.1:" + proxy.port()));
        assertThat(Files.readString(tmp.resolve("repo/README.md"))).isEqualTo("through the proxy\n");
        assertThat(proxy.seen()).anyMatch(l -> l.startsWith("authorized: GET http://git.example.test/"));
    }

    @Test
    void anHttpsCloneIssuesAConnectToHttpsProxy() {
        assertThatThrownBy(() -> clone("https://git.example.test/origin.git",
                Map.of("HTTPS_PROXY", "http://127.0.0.1:" + proxy.port(), "http_proxy", "http://127.0.0.1:1")))
                .isInstanceOf(RepoSetupException.class); // no TLS origin here: the tunnel is refused
        assertThat(proxy.seen()).anyMatch(l -> l.startsWith("CONNECT git.example.test:443 "));
    }

    @Test
    void aNoProxyHostGoesDirect() {
        assertThatThrownBy(() -> clone("http://git.example.test/origin.git",
                Map.of("http_proxy", "http://127.0.0.1:" + proxy.port(), "NO_PROXY", "other.test,example.test")))
                .isInstanceOf(RepoSetupException.class); // direct: the made-up name does not resolve
        assertThat(proxy.seen()).isEmpty();
    }
}
