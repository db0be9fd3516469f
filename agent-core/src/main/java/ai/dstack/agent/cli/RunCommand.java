package ai.dstack.agent.cli;

import ai.dstack.agent.cli.ApiClient.ApiException;
import ai.dstack.agent.shell.ShellWords;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * {@code dstack-shim run --image IMG [--gpu N] [--cpu C] [--memory M] [--network host|bridge]
 * [--code DIR] [--shim-http-port P] -- CMD…}: runs one job through the shim's and the runner's
 * HTTP APIs exactly as the dstack server does, streams its logs, and exits with its exit code.
 * Ctrl-C stops the job and removes the task.
 */
public final class RunCommand {
    static final Set<String> VALUED = Set.of("image", "gpu", "cpu", "memory", "network", "code",
            "shim-http-port", "runner-http-port", "name", "user", "max-duration");
    private static final long POLL_MS = 300;
    private static final long RUNNER_WAIT_MS = 120_000;

    private final PrintStream out;
    private final PrintStream err;

    private RunCommand(PrintStream out, PrintStream err) {
        this.out = out;
        this.err = err;
    }

    /** Runs the command; returns the process exit code. */
    public static int run(List<String> argv, Map<String, String> env, PrintStream out, PrintStream err) {
        CliArgs args;
        try {
            args = CliArgs.parse(argv, VALUED, Set.of());
            if (args.get("image", "").isEmpty() || args.words().isEmpty()) {
                throw new IllegalArgumentException("usage: dstack-shim run --image IMG [--gpu N] [--cpu C] [--memory M]"
                        + " [--network host|bridge] [--code DIR] [--shim-http-port P] -- CMD...");
            }
        } catch (IllegalArgumentException e) {
            err.println(e.getMessage());
            return 2;
        }
        return new RunCommand(out, err).execute(args, env);
    }

    private int execute(CliArgs args, Map<String, String> env) {
        ApiClient shim = Endpoints.shim(args, env);
        String taskId = UUID.randomUUID().toString();
        AtomicBoolean interrupted = new AtomicBoolean();
        JobSession session = new JobSession(shim, taskId);
        Thread hook = new Thread(() -> {
            interrupted.set(true);
            session.stop(err);
        }, "dstack-run-interrupt");
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            shim.get("/api/healthcheck");
            JsonNode task = startTask(shim, taskId, args);
            if (task == null) {
                return 1;
            }
            ApiClient runner = Endpoints.runner(task, Endpoints.runnerPort(args, env));
            session.attach(runner);
            waitForRunner(runner);
            runner.postJson("/api/submit", submitBody(args, taskId));
            if (args.options().containsKey("code")) {
                runner.postBytes("/api/upload_code", Tar.of(Path.of(args.get("code", "."))), "application/octet-stream");
            }
            runner.postBytes("/api/run", new byte[0], null);
            int code = followLogs(runner, interrupted);
            session.finish(err, code == 0 ? "done_by_runner" : "container_exited_with_error");
            return code;
        } catch (ApiException e) {
            err.println("dstack-shim run: " + e.getMessage()
                    + (e.status() == 0 && e.getMessage().startsWith("the shim") ? "; " + Endpoints.START_ADVICE : ""));
            session.finish(err, "executor_error");
            return interrupted.get() ? 130 : 1;
        } catch (IOException e) {
            err.println("dstack-shim run: " + e.getMessage());
            session.finish(err, "executor_error");
            return 1;
        } finally {
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException ignored) {
                // already shutting down: the hook is running
            }
        }
    }

    /** Submits the task and waits until it runs with its ports known; null when it terminated. */
    private JsonNode startTask(ApiClient shim, String taskId, CliArgs args) throws ApiException {
        ObjectNode submit = ApiClient.JSON.createObjectNode()
                .put("id", taskId)
                .put("name", args.get("name", "cli-" + taskId.substring(0, 8)))
                .put("image_name", args.get("image", ""))
                .put("container_user", "root")
                .put("gpu", args.intValue("gpu", 0))
                .put("cpu", Double.parseDouble(args.get("cpu", "0")))
                .put("memory", Sizes.parseBytes(args.get("memory", "0")))
                .put("network_mode", args.get("network", "bridge"));
        submit.putArray("container_ssh_keys");
        shim.postJson("/api/tasks", submit);
        ProgressBar progress = new ProgressBar(err, args.get("image", ""));
        while (true) {
            JsonNode task = shim.get("/api/tasks/" + taskId);
            progress.update(task.path("image_pull_progress"));
            String status = task.path("status").asText();
            if (status.equals("terminated")) {
                progress.done();
                err.println("task terminated: " + task.path("termination_reason").asText()
                        + " " + task.path("termination_message").asText());
                return null;
            }
            if (status.equals("running") && !task.path("ports").isNull() && !task.path("ports").isMissingNode()) {
                progress.done();
                return task;
            }
            sleep(POLL_MS);
        }
    }

    private void waitForRunner(ApiClient runner) throws ApiException {
        long deadline = System.currentTimeMillis() + RUNNER_WAIT_MS;
        while (!runner.answers("/api/healthcheck")) {
            if (System.currentTimeMillis() > deadline) {
                throw new ApiException("the runner did not answer at " + runner.base() + " within "
                        + RUNNER_WAIT_MS / 1000 + " s");
            }
            sleep(POLL_MS);
        }
    }

    /** Pulls logs until the runner has nothing more; returns the job's exit code. */
    private int followLogs(ApiClient runner, AtomicBoolean interrupted) throws ApiException {
        long timestamp = 0;
        JsonNode lastState = null;
        while (true) {
            JsonNode pull = runner.get("/api/pull?timestamp=" + timestamp);
            for (JsonNode log : pull.path("job_logs")) {
                out.writeBytes(Base64.getDecoder().decode(log.path("message").asText()));
            }
            out.flush();
            for (JsonNode state : pull.path("job_states")) {
                lastState = state;
            }
            timestamp = pull.path("last_updated").asLong(timestamp);
            if (!pull.path("has_more").asBoolean(true) && lastState != null && isFinal(lastState)) {
                return exitCode(lastState);
            }
            if (interrupted.get()) {
                return 130;
            }
            if (pull.path("job_logs").isEmpty()) {
                sleep(POLL_MS);
            }
        }
    }

    private static boolean isFinal(JsonNode state) {
        return Set.of("done", "failed", "terminated").contains(state.path("state").asText());
    }

    private int exitCode(JsonNode state) {
        String s = state.path("state").asText();
        if (s.equals("done")) {
            return 0;
        }
        String reason = state.path("termination_reason").asText();
        JsonNode status = state.path("exit_status");
        if (!reason.isEmpty()) {
            err.println(("job " + s + ": " + reason + " " + state.path("termination_message").asText()).strip()
                    + (status.isInt() ? " (exit status " + status.asInt() + ")" : ""));
        }
        if (status.isInt() && status.asInt() > 0 && status.asInt() < 256) {
            return status.asInt();
        }
        return s.equals("terminated") ? 143 : 1;
    }

    private static ObjectNode submitBody(CliArgs args, String taskId) {
        var json = ApiClient.JSON;
        boolean code = args.options().containsKey("code");
        ObjectNode body = json.createObjectNode();
        ObjectNode run = body.putObject("run").put("id", taskId);
        ObjectNode runSpec = run.putObject("run_spec").put("run_name", "cli-" + taskId.substring(0, 8))
                .put("repo_id", code ? "cli-code" : "none");
        runSpec.putObject("repo_data").put("repo_type", code ? "local" : "virtual");
        ObjectNode job = body.putObject("job_spec").put("job_num", 0).put("jobs_per_replica", 1)
                .put("repo_dir", "/workflow");
        ArrayNode commands = job.putArray("commands");
        commands.add("/bin/sh").add("-i").add("-c").add(ShellWords.join(args.words()));
        job.putObject("env");
        job.putObject("repo_data").put("repo_type", code ? "local" : "virtual");
        if (code) {
            job.put("working_dir", "/workflow");
        } else {
            job.putNull("working_dir");
        }
        String maxDuration = args.get("max-duration", null);
        if (maxDuration != null) {
            job.put("max_duration", Integer.parseInt(maxDuration));
        }
        job.putArray("file_archives");
        body.putObject("job_submission").put("id", UUID.randomUUID().toString());
        ObjectNode cluster = body.putObject("cluster_info").put("master_job_ip", "").put("gpus_per_job", 0);
        cluster.putArray("job_ips").add("");
        body.putObject("secrets");
        body.putNull("repo_credentials");
        return body;
    }

    static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
