package ai.dstack.agent.testing;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.core.DefaultDockerClientConfig;
import com.github.dockerjava.core.DockerClientImpl;
import com.github.dockerjava.zerodep.ZerodepDockerHttpClient;
import java.time.Duration;

/** Docker clients for tests: the main engine (from {@code DOCKER_HOST}) or any socket. */
public final class Docker {
    private static volatile DockerClient main;

    private Docker() {
    }

    /** The engine the project's scripts started ({@code DOCKER_HOST}, default the local socket). */
    public static DockerClient client() {
        if (main == null) {
            synchronized (Docker.class) {
                if (main == null) {
                    main = client(host());
                }
            }
        }
        return main;
    }

    /** The endpoint of the main engine. */
    public static String host() {
        String env = System.getenv("DOCKER_HOST");
        return env == null || env.isBlank() ? "unix:///var/run/docker.sock" : env;
    }

    /** A client for the engine at {@code dockerHost}, e.g. {@code unix:///tmp/x/docker.sock}. */
    public static DockerClient client(String dockerHost) {
        var config = DefaultDockerClientConfig.createDefaultConfigBuilder().withDockerHost(dockerHost).build();
        var http = new ZerodepDockerHttpClient.Builder()
                .dockerHost(config.getDockerHost())
                .connectionTimeout(Duration.ofSeconds(10))
                .responseTimeout(Duration.ofMinutes(5))
                .build();
        return DockerClientImpl.getInstance(config, http);
    }
}
