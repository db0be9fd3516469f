package ai.dstack.agent.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Map;

/** Where the CLI finds the shim and a task's runner, as the dstack server does (docs/shim.md §9). */
final class Endpoints {
    static final String START_ADVICE = "is the agent running? Start it with `bin/dstack-shim` (or `systemctl start dstack-shim`)";

    private Endpoints() {
    }

    /** The shim's API on loopback: {@code --shim-http-port}, else {@code DSTACK_SHIM_HTTP_PORT}, else 10998. */
    static ApiClient shim(CliArgs args, Map<String, String> env) {
        String port = args.get("shim-http-port", env.getOrDefault("DSTACK_SHIM_HTTP_PORT", "10998"));
        return new ApiClient("http://localhost:" + port, "the shim");
    }

    /**
     * The runner of a running task: in bridge mode the host port published for the runner's port,
     * in host mode the runner port itself on localhost.
     */
    static ApiClient runner(JsonNode task, int runnerPort) {
        JsonNode ports = task.path("ports");
        for (JsonNode p : ports) {
            if (p.path("container").asInt() == runnerPort) {
                return new ApiClient("http://127.0.0.1:" + p.path("host").asInt(), "the runner");
            }
        }
        return new ApiClient("http://localhost:" + runnerPort, "the runner");
    }

    static int runnerPort(CliArgs args, Map<String, String> env) {
        return Integer.parseInt(args.get("runner-http-port", env.getOrDefault("DSTACK_RUNNER_HTTP_PORT", "10999")));
    }
}
