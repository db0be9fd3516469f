package ai.dstack.runner;

import ai.dstack.runner.api.RunnerServer;
import ai.dstack.runner.env.ImageEnvironment;
import ai.dstack.runner.hooks.MetricsSource;
import ai.dstack.runner.job.Executor;
import ai.dstack.runner.job.JobContext;
import ai.dstack.runner.job.JobHooks;
import ai.dstack.runner.job.JobIdentity;
import ai.dstack.runner.job.Posix;
import ai.dstack.runner.logs.LogBook;
import ai.dstack.runner.logs.RunnerLog;
import ai.dstack.runner.wiring.Wiring;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import java.util.Properties;

/**
 * {@code dstack-runner}: parses the command line (docs/runner.md §1.1), runs the startup sequence
 * (docs/runner.md §1.4) and the lifecycle (docs/runner.md §3.2) — start deadline, job, log barriers — then exits.
 */
public final class Main {
    private final RunnerOptions options;
    private final Settings settings;
    private final String version;
    private final JobHooks hooks;
    private final MetricsSource metrics;

    Main(RunnerOptions options, Settings settings, String version, JobHooks hooks, MetricsSource metrics) {
        this.options = options;
        this.settings = settings;
        this.version = version;
        this.hooks = hooks;
        this.metrics = metrics;
    }

    public static void main(String[] args) {
        RunnerOptions options;
        Settings settings;
        try {
            options = RunnerOptions.parse(args);
            settings = Settings.fromEnv(System.getenv());
        } catch (RunnerOptions.UsageException | IllegalArgumentException e) {
            System.err.println("Error: " + e.getMessage());
            System.err.print(RunnerOptions.USAGE);
            Runtime.getRuntime().halt(1);
            return;
        }
        String version = settings.reportedVersion() != null ? settings.reportedVersion() : buildVersion();
        switch (options.action()) {
            case VERSION -> {
                System.out.println("dstack-runner version " + version);
                System.exit(0);
            }
            case HELP -> {
                System.out.print(RunnerOptions.USAGE);
                System.exit(0);
            }
            case START -> {
                quietLibraryLogs(options.logLevel());
                int code = new Main(options, settings, version, Wiring.hooks(options), Wiring.metrics(settings)).start();
                System.out.flush();
                Runtime.getRuntime().halt(code);
            }
        }
    }

    /** The HTTP server logs through JUL; its INFO chatter is only shown at debug level and above. */
    private static void quietLibraryLogs(RunnerLog.Level level) {
        java.util.logging.Level jul = level.ordinal() >= RunnerLog.Level.DEBUG.ordinal()
                ? java.util.logging.Level.INFO : java.util.logging.Level.WARNING;
        java.util.logging.Logger.getLogger("").setLevel(jul);
        for (var handler : java.util.logging.Logger.getLogger("").getHandlers()) {
            handler.setLevel(jul);
        }
    }

    /** The build's version (the reported one unless {@code DSTACK_REPORTED_VERSION} says otherwise). */
    static String buildVersion() {
        try (InputStream in = Main.class.getResourceAsStream("build.properties")) {
            Properties p = new Properties();
            p.load(in);
            return p.getProperty("version", "latest");
        } catch (IOException | NullPointerException e) {
            return "latest";
        }
    }

    /** Runs the runner to the end; returns the exit code. */
    int start() {
        Path tempDir = Path.of(options.tempDir()).toAbsolutePath();
        RunnerLog log;
        try {
            Files.createDirectories(tempDir);
            log = RunnerLog.open(options.logLevel(), tempDir.resolve("default.log"));
        } catch (IOException e) {
            System.err.println("cannot prepare the temp dir " + tempDir + ": " + e.getMessage());
            return 1;
        }
        if (!runsAsRoot()) {
            log.error("must be root");
            return 1;
        }
        String home = rootHome();
        Map<String, String> env = ImageEnvironment.get();
        env.put("HOME", home);
        Path dstackDir = Path.of("/dstack");
        try {
            prepareDstackDir(dstackDir);
        } catch (IOException e) {
            log.error("cannot prepare " + dstackDir + ": " + e.getMessage());
            return 1;
        }
        try {
            log.debug("startup: sshd at " + sinceJvmStart() + " ms");
            hooks.ssh().start();
        } catch (Exception e) {
            log.error("cannot start sshd: " + e.getMessage());
            return 1;
        }
        if (hooks.ssh().unavailableReason() != null) {
            log.warn("SSH is unavailable: " + hooks.ssh().unavailableReason());
        }
        Path runtimeHome = System.getProperty("dstack.runner.home") == null ? null
                : Path.of(System.getProperty("dstack.runner.home"));
        try (LogBook book = new LogBook(tempDir.resolve("history"))) {
            book.noConnectionsSource(hooks.ssh()::noConnectionsSecs);
            JobContext ctx = new JobContext(tempDir, dstackDir, Path.of("/etc/profile"), runtimeHome, Map.copyOf(env),
                    Path.of("").toAbsolutePath(), JobIdentity.root(home), book, log, hooks, settings);
            Executor executor = new Executor(ctx);
            log.debug("startup: web server at " + sinceJvmStart() + " ms");
            RunnerServer server;
            try {
                server = new RunnerServer(options.httpAddress(), options.httpPort(), version, executor, book,
                        metrics, settings.submitMaxBytes(), settings.pullMaxBytes());
                server.start();
            } catch (RuntimeException e) {
                log.error("cannot listen on " + options.httpAddress() + ":" + options.httpPort() + ": " + e.getMessage());
                hooks.ssh().stop();
                return 1;
            }
            log.info("dstack-runner " + version + " listening on " + options.httpAddress() + ":" + server.port()
                    + " (" + sinceJvmStart() + " ms after JVM start)");
            Runtime.getRuntime().addShutdownHook(new Thread(() -> onSignal(executor, book, server, log)));
            return lifecycle(executor, book, server, log);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return 1;
        }
    }

    private int lifecycle(Executor executor, LogBook book, RunnerServer server, RunnerLog log)
            throws InterruptedException {
        if (!executor.awaitRunAccepted(settings.startTimeoutMs())) {
            log.error("no job was started within " + settings.startTimeoutMs() + " ms: exiting");
            server.stop();
            hooks.ssh().stop();
            return 1;
        }
        executor.awaitFinished(Long.MAX_VALUE);
        drainLogs(executor, book, server, log, false);
        server.stop();
        hooks.ssh().stop();
        log.info("dstack-runner exits");
        return 0;
    }

    /**
     * docs/runner.md §3.2 step 3–4 with one shared budget ({@code DSTACK_RUNNER_LOGS_TIMEOUT_MS}): websocket streams
     * drain, and the runner lingers, still answering {@code /api/pull} (idempotently) and
     * {@code /api/healthcheck}, until {@code /api/stop} or the budget's end, so that a lost final
     * response can be pulled again (docs/runner-behaviour.md). After a signal the wait ends with the
     * final pull instead.
     */
    private void drainLogs(Executor executor, LogBook book, RunnerServer server, RunnerLog log, boolean signalled)
            throws InterruptedException {
        book.markShuttingDown();
        long deadline = System.currentTimeMillis() + settings.logsTimeoutMs();
        if (signalled) {
            if (!book.awaitFinalPull(settings.logsTimeoutMs())) {
                log.warn("the final logs were not pulled in time");
            }
        } else if (executor.awaitStopAfterFinish(settings.logsTimeoutMs())) {
            log.info("stopped after the job finished");
        } else {
            log.info("the log budget of " + settings.logsTimeoutMs() + " ms ended");
        }
        if (!book.awaitFinalPull(0)) {
            log.warn("the final logs were not pulled");
        }
        if (!server.wsClients().awaitDrained(Math.max(0, deadline - System.currentTimeMillis()))) {
            log.warn("websocket clients did not receive every log in time");
        }
    }

    /** SIGTERM/SIGINT/SIGQUIT: before a job exit 1; with a job behave as a stop, then drain. */
    private void onSignal(Executor executor, LogBook book, RunnerServer server, RunnerLog log) {
        if (!executor.runAccepted()) {
            log.info("signal received before a job started: exiting");
            Runtime.getRuntime().halt(1);
        }
        try {
            if (!executor.awaitFinished(0)) { // a finished job needs no stop (which would also end the linger)
                log.info("signal received: stopping the job");
                executor.stop();
                executor.awaitFinished(settings.stopGraceMs() + 2_000);
            }
            drainLogs(executor, book, server, log, true);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        hooks.ssh().stop();
        Runtime.getRuntime().halt(0);
    }

    private static long sinceJvmStart() {
        return ProcessHandle.current().info().startInstant()
                .map(t -> System.currentTimeMillis() - t.toEpochMilli()).orElse(-1L);
    }

    /** Effective uid 0, read from /proc (binding libc over FFM costs start-up time; jobs need it later). */
    private static boolean runsAsRoot() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("Uid:")) {
                    return line.split("\\s+")[2].equals("0");
                }
            }
        } catch (IOException ignored) {
            // no /proc: ask libc
        }
        return Posix.geteuid() == 0;
    }

    /** Home of uid 0 from /etc/passwd, "/root" when it has none. */
    private static String rootHome() {
        try {
            for (String line : Files.readAllLines(Path.of("/etc/passwd"))) {
                String[] f = line.split(":", -1);
                if (f.length >= 6 && f[2].equals("0") && !f[5].isEmpty()) {
                    return f[5];
                }
            }
        } catch (IOException ignored) {
            // fall through
        }
        return "/root";
    }

    /** {@code /dstack}: 0755, root-owned; {@code /dstack/ssh} removed (sshd StrictModes). */
    private static void prepareDstackDir(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            Files.createDirectories(dir);
        }
        Files.setAttribute(dir, "unix:uid", 0, LinkOption.NOFOLLOW_LINKS);
        Files.setAttribute(dir, "unix:gid", 0, LinkOption.NOFOLLOW_LINKS);
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path ssh = dir.resolve("ssh");
        if (Files.exists(ssh, LinkOption.NOFOLLOW_LINKS)) {
            try (var walk = Files.walk(ssh)) {
                for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                    Files.delete(p);
                }
            }
        }
    }
}
