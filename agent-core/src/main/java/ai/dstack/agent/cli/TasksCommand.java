package ai.dstack.agent.cli;

import ai.dstack.agent.cli.ApiClient.ApiException;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * {@code dstack-shim tasks} (id, status, ports, GPUs, container), {@code tasks logs ID} (from the
 * runner's pull API while it answers, else from the task's {@code job.log}), {@code tasks stop ID}.
 */
public final class TasksCommand {
    private static final Set<String> VALUED = Set.of("shim-http-port", "runner-http-port", "shim-home");

    private TasksCommand() {
    }

    /** Runs the command; returns the process exit code. */
    public static int run(List<String> argv, Map<String, String> env, PrintStream out, PrintStream err) {
        CliArgs args;
        try {
            args = CliArgs.parse(argv, VALUED, Set.of());
        } catch (IllegalArgumentException e) {
            err.println(e.getMessage());
            return 2;
        }
        ApiClient shim = Endpoints.shim(args, env);
        List<String> words = args.words();
        try {
            if (words.isEmpty()) {
                return list(shim, out);
            }
            if (words.size() == 2 && words.get(0).equals("logs")) {
                return logs(shim, words.get(1), args, env, out);
            }
            if (words.size() == 2 && words.get(0).equals("stop")) {
                return stop(shim, words.get(1), args, env, err);
            }
            err.println("usage: dstack-shim tasks [logs ID | stop ID] [--shim-http-port P]");
            return 2;
        } catch (ApiException e) {
            err.println("dstack-shim tasks: " + e.getMessage()
                    + (e.status() == 0 && e.getMessage().startsWith("the shim") ? "; " + Endpoints.START_ADVICE : ""));
            return 1;
        }
    }

    private static int list(ApiClient shim, PrintStream out) throws ApiException {
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"ID", "STATUS", "PORTS", "GPUS", "CONTAINER"});
        for (JsonNode t : shim.get("/api/tasks").path("tasks")) {
            JsonNode task = shim.get("/api/tasks/" + t.path("id").asText());
            List<String> ports = new ArrayList<>();
            task.path("ports").forEach(p -> ports.add(p.path("host").asText() + "->" + p.path("container").asText()));
            List<String> gpus = new ArrayList<>();
            task.path("gpus_ids").forEach(g -> gpus.add(g.asText()));
            String status = task.path("status").asText()
                    + (task.path("termination_reason").asText().isEmpty() ? "" : " (" + task.path("termination_reason").asText() + ")");
            rows.add(new String[] {task.path("id").asText(), status, String.join(",", ports),
                    String.join(",", gpus), task.path("container_name").asText()});
        }
        int[] widths = new int[rows.getFirst().length];
        for (String[] row : rows) {
            for (int i = 0; i < row.length; i++) {
                widths[i] = Math.max(widths[i], row[i].length());
            }
        }
        for (String[] row : rows) {
            StringBuilder line = new StringBuilder();
            for (int i = 0; i < row.length; i++) {
                line.append(String.format("%-" + (widths[i] + 2) + "s", row[i]));
            }
            out.println(line.toString().stripTrailing());
        }
        return 0;
    }

    private static int logs(ApiClient shim, String id, CliArgs args, Map<String, String> env, PrintStream out)
            throws ApiException {
        JsonNode task = shim.get("/api/tasks/" + id);
        ApiClient runner = Endpoints.runner(task, Endpoints.runnerPort(args, env));
        if (task.path("status").asText().equals("running") && runner.answers("/api/healthcheck")) {
            JsonNode pull = runner.get("/api/pull?timestamp=0");
            for (JsonNode log : pull.path("job_logs")) {
                out.writeBytes(Base64.getDecoder().decode(log.path("message").asText()));
            }
            return 0;
        }
        String home = args.get("shim-home", env.getOrDefault("DSTACK_SHIM_HOME",
                Path.of(System.getProperty("user.home"), ".dstack").toString()));
        Path jobLog = Path.of(home, "runners", task.path("container_name").asText(), "job.log");
        try {
            out.writeBytes(Files.readAllBytes(jobLog));
            return 0;
        } catch (IOException e) {
            throw new ApiException("no logs for task " + id + ": the runner does not answer and " + jobLog + " cannot be read");
        }
    }

    private static int stop(ApiClient shim, String id, CliArgs args, Map<String, String> env, PrintStream err)
            throws ApiException {
        JsonNode task = shim.get("/api/tasks/" + id);
        ApiClient runner = Endpoints.runner(task, Endpoints.runnerPort(args, env));
        if (task.path("status").asText().equals("running") && runner.answers("/api/healthcheck")) {
            runner.postBytes("/api/stop", new byte[0], null);
        }
        shim.postJson("/api/tasks/" + id + "/terminate", Map.of("termination_reason", "terminated_by_user",
                "termination_message", "stopped with dstack-shim tasks stop", "timeout", 10));
        err.println("task " + id + " terminated");
        return 0;
    }
}
