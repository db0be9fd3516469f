package ai.dstack.runner.repo;

import static ai.dstack.runner.repo.GitCli.git;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.dstack.runner.ssh.SshFixture;
import com.sun.net.httpserver.BasicAuthenticator;
import com.sun.net.httpserver.HttpContext;
import com.sun.net.httpserver.HttpServer;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Clones that need credentials: ssh with a private key, http with a token. */
class RepoAccessTest {
    @TempDir
    Path tmp;
    Path origin;

    @BeforeEach
    void origin() throws Exception {
        Path work = GitCli.originAndWorkClone(tmp);
        origin = tmp.resolve("origin.git");
        Files.writeString(work.resolve("hello.txt"), "over the wire\n");
        GitCli.commitAndPush(work, "one");
        git(origin, "update-server-info");
    }

    private static RemoteRepoSpec main() {
        return new RemoteRepoSpec("main", null, "n", "e", true);
    }

    @Test
    void clonesOverSshWithThePrivateKeyAndUncheckedHostKey() throws Exception {
        try (SshFixture fx = SshFixture.start("")) {
            String key = Files.readString(fx.clientKey);
            Path dir = tmp.resolve("repo");
            RemoteRepo.setUp(dir, new RepoCredentials("ssh://root@127.0.0.1:" + fx.port + origin, key, null), main(), null);
            assertThat(Files.readString(dir.resolve("hello.txt"))).isEqualTo("over the wire\n");

            Path other = SshFixture.newKey(fx.base, "not-authorised");
            assertThatThrownBy(() -> RemoteRepo.setUp(tmp.resolve("denied"),
                    new RepoCredentials("ssh://root@127.0.0.1:" + fx.port + origin, Files.readString(other), null), main(), null))
                    .isInstanceOf(RepoSetupException.class).hasMessageStartingWith("Failed to set up the repo (");
        }
    }

    @Test
    void httpSendsTheTokenAsBasicAuthPasswordAndNoTokenMeansAnonymous() throws Exception {
        List<String> seen = new CopyOnWriteArrayList<>();
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        HttpContext ctx = server.createContext("/repo.git", exchange -> {
            Path file = origin.resolve(exchange.getRequestURI().getPath().substring("/repo.git/".length()));
            byte[] body = Files.isRegularFile(file) ? Files.readAllBytes(file) : null;
            exchange.sendResponseHeaders(body == null ? 404 : 200, body == null ? -1 : body.length);
            if (body != null) {
                exchange.getResponseBody().write(body);
            }
            exchange.close();
        });
        ctx.setAuthenticator(new BasicAuthenticator("git") {
            @Override
            public boolean checkCredentials(String user, String password) {
                seen.add(password);
                return password.equals("s3cret-token");
            }
        });
        server.start();
        try {
            String url = "http://127.0.0.1:" + server.getAddress().getPort() + "/repo.git";
            Path dir = tmp.resolve("repo");
            RemoteRepo.setUp(dir, new RepoCredentials(url, null, "s3cret-token"), main(), null);
            assertThat(Files.readString(dir.resolve("hello.txt"))).isEqualTo("over the wire\n");
            assertThat(seen).contains("s3cret-token");

            seen.clear();
            assertThatThrownBy(() -> RemoteRepo.setUp(tmp.resolve("anon"), new RepoCredentials(url, null, null), main(), null))
                    .isInstanceOf(RepoSetupException.class);
            assertThat(seen).as("anonymous: no credentials offered").isEmpty();
        } finally {
            server.stop(0);
        }
    }
}
