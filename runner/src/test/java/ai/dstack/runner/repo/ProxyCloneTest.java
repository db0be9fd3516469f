package ai.dstack.runner.repo;

import static ai.dstack.runner.repo.GitCli.git;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpServer;
import com.sun.net.httpserver.SimpleFileServer;
import java.net.InetAddress;
import java.net.InetSocketAddress;
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
    HttpServer origin;
    ForwardProxy proxy;
    final List<String> log = new ArrayList<>();

    @BeforeEach
    void serve() throws Exception {
        Path work = GitCli.originAndWorkClone(tmp);
        Files.writeString(work.resolve("README.md"), "through the proxy\n");
        GitCli.commitAndPush(work, "first");
        git(tmp.resolve("origin.git"), "update-server-info");
        origin = SimpleFileServer.createFileServer(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), tmp,
                SimpleFileServer.OutputLevel.NONE);
        origin.start();
        proxy = new ForwardProxy(origin.getAddress().getPort());
    }

    @AfterEach
    void stop() throws Exception {
        proxy.close();
        origin.stop(0);
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
