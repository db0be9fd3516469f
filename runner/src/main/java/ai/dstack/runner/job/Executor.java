package ai.dstack.runner.job;

import ai.dstack.runner.logs.LogQuota;
import ai.dstack.runner.logs.RunnerLog;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * The runner's state machine (docs/runner.md §2–§3): {@code wait_submit → wait_run → serve_logs →
 * wait_logs_finished}. State changes are serialised on this object; uploads stream to disk
 * outside the lock and are committed under it.
 */
public final class Executor {
    /** Runner states; internal names, never on the wire. */
    public enum State { WAIT_SUBMIT, WAIT_RUN, SERVE_LOGS, WAIT_LOGS_FINISHED }

    /** The request is not allowed in the current state (→ 409). */
    public static final class Conflict extends Exception {
        public Conflict(State state) {
            super("Conflict (runner state " + state.name().toLowerCase() + ")");
        }
    }

    /**
     * What {@code /api/run} answers once pre-run succeeded.
     *
     * @param workingDir the job's absolute working dir
     * @param username   the job user's name, "" when the uid has no passwd entry
     */
    public record RunInfo(String workingDir, String username) {
    }

    private final JobContext ctx;
    private final CountDownLatch runAccepted = new CountDownLatch(1);
    private final CountDownLatch finished = new CountDownLatch(1);
    private final CountDownLatch stoppedAfterFinish = new CountDownLatch(1);
    private State state = State.WAIT_SUBMIT;
    private Submission submission;
    private LogQuota quota = LogQuota.unlimited();
    private Path codeBlob;
    private JobRun job;

    public Executor(JobContext ctx) {
        this.ctx = ctx;
    }

    public synchronized State state() {
        return state;
    }

    /** Throws unless the state is one of {@code allowed} (checked before a body is read). */
    public synchronized void require(State... allowed) throws Conflict {
        for (State s : allowed) {
            if (s == state) {
                return;
            }
        }
        throw new Conflict(state);
    }

    public synchronized void submit(Submission body) throws Conflict {
        require(State.WAIT_SUBMIT, State.WAIT_RUN);
        if (state == State.WAIT_RUN) {
            ctx.log().warn("job re-submitted: replacing the previous submission");
        }
        submission = body;
        quota = new LogQuota(body.logQuotaHour() == null ? 0 : body.logQuotaHour(), System.currentTimeMillis());
        state = State.WAIT_RUN;
        ctx.log().info("job submitted: " + body.jobId());
    }

    /** Streams the code blob to {@code repo_blobs/<repo_id>} (replacing it) and remembers it. */
    public void receiveCode(InputStream body) throws Conflict, IOException {
        String repoId;
        synchronized (this) {
            require(State.WAIT_RUN);
            repoId = submission.repoId().isEmpty() ? "none" : submission.repoId();
        }
        Path target = ctx.tempDir().resolve("repo_blobs").resolve(Path.of(repoId).getFileName().toString());
        Path stored = store(body, target);
        synchronized (this) {
            codeBlob = stored;
        }
    }

    /** Streams a file archive to {@code file_archives/<id>} (replacing it). */
    public void receiveArchive(String id, InputStream content) throws Conflict, IOException {
        require(State.WAIT_RUN);
        store(content, ctx.tempDir().resolve("file_archives").resolve(id));
    }

    private Path store(InputStream content, Path target) throws Conflict, IOException {
        Files.createDirectories(target.getParent());
        Path tmp = Files.createTempFile(target.getParent(), ".upload-", ".part");
        try {
            Files.copy(content, tmp, StandardCopyOption.REPLACE_EXISTING);
            synchronized (this) {
                require(State.WAIT_RUN);
                Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            }
            return target;
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /**
     * Accepts the job: pre-run (user, working dir) now, the rest asynchronously. Empty when
     * pre-run failed (the failure is already recorded).
     */
    public synchronized Optional<RunInfo> run() throws Conflict {
        require(State.WAIT_RUN);
        state = State.SERVE_LOGS;
        runAccepted.countDown();
        RunnerLog jobLog;
        try {
            jobLog = ctx.log().forJob(ctx.tempDir().resolve("runner.log"), ctx.book());
        } catch (IOException e) {
            ctx.log().error("cannot open runner.log: " + e.getMessage());
            ctx.book().recordState("failed", "executor_error", "Cannot open runner.log (" + e.getMessage() + ")", null);
            finish();
            return Optional.empty();
        }
        String sshProblem = ctx.hooks().ssh().unavailableReason();
        if (sshProblem != null) {
            jobLog.warn("SSH is unavailable: " + sshProblem);
        }
        JobIdentity user;
        Path workingDir;
        try {
            user = ctx.hooks().users().resolve(submission.jobSpecOrEmpty().user(), ctx.runner());
        } catch (SetupException | RuntimeException e) {
            return preRunFailed(jobLog, "Failed to set job user (" + describe(e) + ")");
        }
        try {
            String wd = submission.jobSpecOrEmpty().workingDir();
            workingDir = wd == null ? ctx.cwd() : JobPaths.expand(wd, user.home(), null);
        } catch (SetupException | RuntimeException e) {
            return preRunFailed(jobLog, "Failed to set job working dir (" + describe(e) + ")");
        }
        // The state has moved on: whatever fails from here is the job's failed state, never a 500.
        try {
            jobLog.info("job user " + (user.name().isEmpty() ? "uid " + user.uid() : user.name())
                    + ", working dir " + workingDir);
            job = new JobRun(ctx, submission, codeBlob, quota, jobLog, user, workingDir, this::finish);
            Thread.ofPlatform().name("job").start(job);
            return Optional.of(new RunInfo(workingDir.toString(), user.name()));
        } catch (RuntimeException | Error e) {
            job = null;
            return preRunFailed(jobLog, "Failed to start the job (" + describe(e) + ")");
        }
    }

    /** A one-line description of an unexpected failure: its message, else its type. */
    static String describe(Throwable t) {
        String m = t.getMessage();
        return m == null || m.isBlank() ? t.getClass().getSimpleName() : m;
    }

    private Optional<RunInfo> preRunFailed(RunnerLog jobLog, String message) {
        jobLog.error(message);
        ctx.book().recordState("failed", "executor_error", message, null);
        jobLog.close();
        finish();
        return Optional.empty();
    }

    /**
     * {@code /api/stop}: cancels a running job (the state follows when its terminal event is
     * recorded); in any other state goes straight to {@code wait_logs_finished}. A stop once the job
     * has finished ends the runner's linger (docs/runner-behaviour.md).
     */
    public synchronized void stop() {
        if (state == State.SERVE_LOGS && job != null) {
            job.cancel(JobRun.Cancel.STOP);
            return;
        }
        if (state == State.WAIT_LOGS_FINISHED) {
            stoppedAfterFinish.countDown();
        }
        if (state != State.SERVE_LOGS) {
            finish();
        }
    }

    private synchronized void finish() {
        state = State.WAIT_LOGS_FINISHED;
        ctx.book().markFinished();
        finished.countDown();
    }

    public boolean awaitRunAccepted(long millis) throws InterruptedException {
        return runAccepted.await(millis, TimeUnit.MILLISECONDS);
    }

    public boolean awaitFinished(long millis) throws InterruptedException {
        return finished.await(millis, TimeUnit.MILLISECONDS);
    }

    /** Waits until {@code /api/stop} arrives after the job finished; true if it did. */
    public boolean awaitStopAfterFinish(long millis) throws InterruptedException {
        return stoppedAfterFinish.await(millis, TimeUnit.MILLISECONDS);
    }

    public boolean runAccepted() {
        return runAccepted.getCount() == 0;
    }
}
