package ai.dstack.agent.testing;

import com.github.dockerjava.api.DockerClient;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * A real registry with basic auth on loopback: Debian's {@code docker-registry} with a bcrypt
 * htpasswd file. The engine treats {@code 127.0.0.1:<port>} as an insecure registry it may use.
 */
public final class LocalRegistry implements AutoCloseable {
    private final Process process;
    private final int port;
    private final Path dir;
    private final String user;
    private final String password;

    private LocalRegistry(Process process, int port, Path dir, String user, String password) {
        this.process = process;
        this.port = port;
        this.dir = dir;
        this.user = user;
        this.password = password;
    }

    /** Starts a registry storing under {@code dir} that accepts {@code user}/{@code password}. */
    public static LocalRegistry start(Path dir, String user, String password) {
        try {
            Files.createDirectories(dir);
            int port = FreePorts.next();
            Path htpasswd = dir.resolve("htpasswd");
            run(List.of("htpasswd", "-Bbc", htpasswd.toString(), user, password), dir);
            Path config = dir.resolve("config.yml");
            Files.writeString(config, """
                    version: 0.1
                    log:
                      level: warn
                    storage:
                      filesystem:
                        rootdirectory: %s
                    http:
                      addr: 127.0.0.1:%d
                    auth:
                      htpasswd:
                        realm: test
                        path: %s
                    """.formatted(dir.resolve("data"), port, htpasswd));
            Process p = new ProcessBuilder("docker-registry", "serve", config.toString()).redirectErrorStream(true)
                    .redirectOutput(dir.resolve("registry.log").toFile()).start();
            LocalRegistry registry = new LocalRegistry(p, port, dir, user, password);
            long until = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (!registry.listening()) {
                if (!p.isAlive() || System.nanoTime() > until) {
                    registry.close();
                    throw new IllegalStateException("docker-registry did not start: " + Files.readString(dir.resolve("registry.log")));
                }
                Thread.sleep(100);
            }
            return registry;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** The loopback port it listens on. */
    public int port() {
        return port;
    }

    /** {@code 127.0.0.1:<port>}. */
    public String address() {
        return "127.0.0.1:" + port;
    }

    /**
     * Builds a small image with a layer of random bytes (so no engine has it), pushes it here and
     * removes it from the local engine; returns its reference {@code <address>/it/<name>:v1}.
     */
    public String pushUniqueImage(String baseImage, int layerBytes) {
        DockerClient docker = Docker.client();
        String repo = address() + "/it/img-" + UUID.randomUUID().toString().substring(0, 8);
        String ref = repo + ":v1";
        String builder = docker.createContainerCmd(baseImage)
                .withCmd("/bin/sh", "-c", "head -c " + layerBytes + " /dev/urandom > /blob")
                .withLabels(Map.of("ai.dstack.agent.test", "true")).exec().getId();
        try {
            docker.startContainerCmd(builder).exec();
            docker.waitContainerCmd(builder).start().awaitStatusCode(60, TimeUnit.SECONDS);
            docker.commitCmd(builder).withRepository(repo).withTag("v1").exec();
        } finally {
            docker.removeContainerCmd(builder).withForce(true).exec();
        }
        Path config = dir.resolve("docker-config");
        try {
            Files.createDirectories(config);
            Process login = new ProcessBuilder("docker", "--config", config.toString(), "login", "-u", user,
                    "--password-stdin", address()).redirectErrorStream(true).start();
            login.getOutputStream().write(password.getBytes(StandardCharsets.UTF_8));
            login.getOutputStream().close();
            String out = new String(login.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (login.waitFor() != 0) {
                throw new IllegalStateException("docker login failed: " + out);
            }
            run(List.of("docker", "--config", config.toString(), "push", ref), dir);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        } finally {
            docker.removeImageCmd(ref).withForce(true).exec();
        }
        return ref;
    }

    private boolean listening() {
        try (Socket s = new Socket("127.0.0.1", port)) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private static void run(List<String> cmd, Path dir) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (p.waitFor() != 0) {
            throw new IllegalStateException(String.join(" ", cmd) + " failed: " + out);
        }
    }

    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
