package ai.dstack.agent;

import ai.dstack.agent.config.ReportedVersion;
import io.helidon.webserver.WebServer;
import java.net.InetAddress;
import java.util.List;
import java.util.Map;

/** Entry point of {@code dstack-shim}. */
public final class Main {
    private Main() {
    }

    public static void main(String[] args) {
        Map<String, String> env = System.getenv();
        String version = ReportedVersion.resolve(env);
        List<String> argv = List.of(args);
        if (argv.contains("--version") || argv.contains("-v")) {
            System.out.println("dstack-shim version " + version);
            return;
        }
        String problem = ReportedVersion.problem(version);
        if (problem != null) {
            System.err.println("dstack-shim: " + problem);
            System.exit(1);
        }
        int port = Integer.parseInt(env.getOrDefault("DSTACK_SHIM_HTTP_PORT", "10998"));
        WebServer server = WebServer.builder()
                .address(InetAddress.getLoopbackAddress())
                .port(port)
                .routing(r -> r.get("/api/healthcheck", (req, res) -> {
                    res.header("Content-Type", "application/json");
                    res.send("{\"service\":\"dstack-shim\",\"version\":\"" + version + "\"}\n");
                }))
                .build()
                .start();
        System.err.println("dstack-shim " + version + " listening on localhost:" + server.port());
    }
}
