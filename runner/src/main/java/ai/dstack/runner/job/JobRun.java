package ai.dstack.runner.job;

import ai.dstack.runner.files.Trees;
import ai.dstack.runner.archive.TarExtractor;
import ai.dstack.runner.logs.JobOutput;
import ai.dstack.runner.logs.LogQuota;
import ai.dstack.runner.logs.RunnerLog;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * One job, from repo setup to its terminal state event (docs/runner.md §5.1, §5.10, §5.11).
 * Exactly one terminal event is recorded, then {@code onFinished} runs.
 */
final class JobRun implements Runnable {
    /** Why a job was cancelled. */
    enum Cancel { STOP, MAX_DURATION }

    /** A setup failure with the reason and message its state event carries. */
    static final class Failure extends Exception {
        final String reason;

        Failure(String reason, String message) {
            super(message);
            this.reason = reason;
        }
    }

    private final JobContext ctx;
    private final Submission sub;
    private final Path codeBlob;
    private final LogQuota quota;
    private final RunnerLog jobLog;
    private final JobIdentity user;
    private final Path workingDir;
    private final Runnable onFinished;
    private Cancel cancel;
    private JobProcess process;
    /** The thread setting up the repo and archives, while it does: a cancel interrupts it (a clone ends at once). */
    private Thread settingUp;

    JobRun(JobContext ctx, Submission sub, Path codeBlob, LogQuota quota, RunnerLog jobLog, JobIdentity user,
           Path workingDir, Runnable onFinished) {
        this.ctx = ctx;
        this.sub = sub;
        this.codeBlob = codeBlob;
        this.quota = quota;
        this.jobLog = jobLog;
        this.user = user;
        this.workingDir = workingDir;
        this.onFinished = onFinished;
    }

    /** Stop or deadline: the session gets the interrupt now and is killed after the grace. */
    synchronized void cancel(Cancel why) {
        if (cancel != null) {
            return;
        }
        cancel = why;
        jobLog.info("cancelling the job (" + (why == Cancel.STOP ? "stop requested" : "max duration exceeded") + ")");
        if (settingUp != null) {
            settingUp.interrupt();
        }
        if (process != null) {
            JobProcess p = process;
            Thread.ofPlatform().name("job-terminate").daemon().start(() -> {
                try {
                    p.terminateSession(ctx.settings().stopGraceMs());
                } catch (InterruptedException ignored) {
                    Thread.currentThread().interrupt();
                }
            });
        }
    }

    private synchronized void settingUp(Thread thread) {
        settingUp = thread;
    }

    private synchronized Cancel cancelled() {
        return cancel;
    }

    @Override
    public void run() {
        try {
            execute();
        } catch (Throwable t) { // OutOfMemoryError included: the job ends failed with a reason
            jobLog.error("job failed: " + t);
            record("failed", "executor_error", "Job failed (" + Executor.describe(t) + ")", null);
        } finally {
            ctx.hooks().home().cleanUp(user, jobLog::warn);
            jobLog.close();
            onFinished.run();
        }
    }

    private void record(String state, String reason, String message, Integer exit) {
        ctx.book().recordState(state, reason, message, exit);
    }

    private void execute() throws Exception {
        // job.log is the LogBook's terminal file, opened when the runner starts
        if (!user.home().equals("/")) {
            ctx.hooks().home().provision(sub, user, jobLog::warn);
        }
        Submission.SshKey key = sub.jobSpecOrEmpty().sshKey();
        if (key != null && key.publicKey() != null
                && Submission.orEmpty(sub.clusterInfoOrEmpty().jobIps()).size() >= 2) {
            ctx.hooks().ssh().authorize(key.publicKey()); // multi-node: nodes log into each other
        }
        Path repoDir;
        Failure failure = null;
        settingUp(Thread.currentThread());
        try {
            repoDir = setUpRepo();
            setUpArchives();
        } catch (Failure f) {
            repoDir = null;
            failure = f;
        } finally {
            settingUp(null);
            Thread.interrupted(); // a cancel's interrupt ends the setup, not what follows
        }
        if (cancelled() != null) {
            record("terminated", "", "", null);
            return;
        }
        if (failure != null) {
            jobLog.error(failure.getMessage());
            record("failed", failure.reason, failure.getMessage(), null);
            return;
        }
        ctx.hooks().ssh().trackConnections();
        record("running", "", "", null);
        runProcess(repoDir);
    }

    private Path setUpRepo() throws Failure {
        Submission.JobSpec spec = sub.jobSpecOrEmpty();
        try {
            if (spec.repoDir() == null) {
                throw new SetupException("repo_dir is not set");
            }
            Path repoDir = JobPaths.expand(spec.repoDir(), user.home(), workingDir);
            if (!repoDirReady(repoDir, spec.repoExistsAction())) {
                jobLog.info("repo dir " + repoDir + " is not empty: repo setup skipped");
                return repoDir;
            }
            Submission.RepoData data = sub.repoData();
            String type = data == null || data.repoType() == null ? "" : data.repoType();
            switch (type) {
                case "remote" -> {
                    if (sub.repoCredentials() == null) {
                        throw new SetupException("no repo_credentials for a remote repo");
                    }
                    ctx.hooks().remoteRepo().setUp(sub, user, repoDir, codeBlob, jobLog::info);
                }
                case "local", "virtual" -> {
                    if (codeBlob != null && Files.exists(codeBlob)) {
                        try (InputStream in = Files.newInputStream(codeBlob)) {
                            TarExtractor.extract(in, repoDir, null, jobLog::warn);
                        }
                    }
                }
                default -> throw new SetupException("unknown RepoType " + type);
            }
            JobPaths.makeDirs(repoDir, user);
            JobPaths.chownTree(repoDir, user, jobLog::warn);
            Trees.delete(ctx.tempDir().resolve("repo_blobs"));
            return repoDir;
        } catch (SetupException | IOException | RuntimeException e) {
            throw new Failure("container_exited_with_error", "Failed to set up the repo (" + e.getMessage() + ")");
        }
    }

    /** True when the repo step should run: the dir is missing, empty or holds only lost+found. */
    private static boolean repoDirReady(Path repoDir, String existsAction) throws IOException, SetupException {
        if (!Files.exists(repoDir, LinkOption.NOFOLLOW_LINKS)) {
            return true;
        }
        if (!Files.isDirectory(repoDir)) {
            throw new SetupException("repo dir is not a directory: " + repoDir);
        }
        try (Stream<Path> entries = Files.list(repoDir)) {
            List<String> names = entries.map(p -> p.getFileName().toString()).toList();
            if (names.isEmpty() || names.equals(List.of("lost+found"))) {
                return true;
            }
        }
        if (existsAction == null || existsAction.equals("skip")) {
            return false;
        }
        if (existsAction.equals("error")) {
            throw new SetupException("repo dir is not empty: " + repoDir);
        }
        throw new SetupException("unknown repo_exists_action " + existsAction);
    }

    private void setUpArchives() throws Failure {
        List<Submission.FileArchive> archives = Submission.orEmpty(sub.jobSpecOrEmpty().fileArchives());
        Path stored = ctx.tempDir().resolve("file_archives");
        try {
            for (Submission.FileArchive archive : archives) {
                if (archive == null || archive.id() == null || archive.path() == null) {
                    throw new SetupException("file archive without id or path");
                }
                Path dest = JobPaths.expand(archive.path(), user.home(), workingDir);
                Path parent = dest.getParent();
                if (parent == null) {
                    throw new SetupException("cannot extract onto /");
                }
                Path blob = stored.resolve(StoredNames.of(archive.id()));
                if (!Files.isRegularFile(blob)) {
                    throw new SetupException("archive " + archive.id() + " was not uploaded");
                }
                JobPaths.makeDirs(parent, user);
                Trees.delete(dest);
                List<Path> written;
                try (InputStream in = Files.newInputStream(blob)) {
                    written = TarExtractor.extract(in, parent, dest.getFileName().toString(), jobLog::warn);
                }
                for (Path p : written) {
                    try {
                        JobPaths.chown(p, user);
                    } catch (IOException e) {
                        jobLog.warn("cannot chown " + p + ": " + e.getMessage());
                    }
                }
                jobLog.info("extracted archive " + archive.id() + " to " + dest);
            }
            Trees.delete(stored);
        } catch (SetupException | IOException | RuntimeException e) {
            throw new Failure("executor_error", "Failed to set up files (" + e.getMessage() + ")");
        }
    }

    private void runProcess(Path repoDir) throws InterruptedException {
        Submission.JobSpec spec = sub.jobSpecOrEmpty();
        List<String> commands = Submission.orEmpty(spec.commands());
        if (commands.isEmpty()) {
            jobLog.error("the job has no commands");
            record("failed", "executor_error", "The job has no commands", null);
            return;
        }
        Map<String, String> env = JobEnvironment.build(ctx.runnerEnv(), sub, user, repoDir, workingDir);
        JobOutput output = new JobOutput(ctx.book(), quota, this::quotaExceeded);
        ScheduledExecutorService timers = Executors.newSingleThreadScheduledExecutor(
                Thread.ofPlatform().name("job-timers").daemon().factory());
        try {
            try {
                JobEnvironment.writeHostfile(ctx.dstackDir().resolve("mpi/hostfile"), sub);
                JobPaths.makeDirs(workingDir, user);
            } catch (IOException | SetupException e) {
                jobLog.error("cannot prepare the job: " + e.getMessage());
                record("failed", "executor_error", "Cannot prepare the job (" + e.getMessage() + ")", null);
                return;
            }
            try {
                JobEnvironment.writeProfile(ctx.dstackDir(), ctx.etcProfile(), env, user);
            } catch (IOException e) {
                jobLog.warn("cannot write the job profile: " + e.getMessage());
            }
            JobProcess p;
            synchronized (this) {
                if (cancel != null) {
                    record("terminated", "", "", null);
                    return;
                }
                try {
                    p = JobProcess.start(commands, env, workingDir, user, ctx.runtimeHome());
                } catch (IOException | Posix.NativeException e) {
                    jobLog.error("cannot start the job: " + e.getMessage());
                    record("failed", "executor_error", "Cannot start the job (" + e.getMessage() + ")", null);
                    return;
                }
                process = p;
            }
            jobLog.info("job started, pid " + p.pid);
            Long maxDuration = spec.maxDuration();
            if (maxDuration != null && maxDuration > 0) {
                timers.schedule(() -> cancel(Cancel.MAX_DURATION), maxDuration, TimeUnit.SECONDS);
            }
            timers.scheduleWithFixedDelay(output::tick, 100, 100, TimeUnit.MILLISECONDS);
            Thread pump = Thread.ofPlatform().name("job-output").daemon().start(() -> {
                try {
                    p.pump(output);
                } catch (Posix.NativeException e) {
                    jobLog.error("reading the terminal failed: " + e.getMessage());
                }
            });
            int status;
            try {
                status = p.waitFor();
            } catch (Posix.NativeException e) {
                jobLog.error("waiting for the job failed: " + e.getMessage());
                status = -1;
            }
            pump.join();
            timers.shutdownNow();
            output.finish();
            recordOutcome(status, output);
        } finally {
            timers.shutdownNow();
        }
    }

    private void quotaExceeded() {
        JobProcess p;
        synchronized (this) {
            p = process;
        }
        jobLog.error("job log quota of " + quota.bytesPerHour() + " bytes per hour exceeded: killing the job");
        if (p != null) {
            p.kill(Posix.SIGKILL);
            p.killSession();
        }
    }

    private void recordOutcome(int status, JobOutput output) {
        Cancel why = cancelled();
        int exit = status == -1 ? -1 : Posix.exitCode(status);
        jobLog.info("job exited with status " + exit);
        if (why == Cancel.STOP) {
            record("terminated", "", "", null);
        } else if (why == Cancel.MAX_DURATION) {
            record("terminated", "max_duration_exceeded", "Max duration exceeded", null);
        } else if (output.quotaExceeded()) {
            record("failed", "log_quota_exceeded",
                    "Job log output exceeded the hourly quota of " + quota.bytesPerHour() + " bytes", null);
        } else if (exit == 0) {
            record("done", "", "", 0);
        } else {
            record("failed", "container_exited_with_error", "", exit);
        }
    }
}
