package ai.dstack.runner.wiring;

import ai.dstack.runner.RunnerOptions;
import ai.dstack.runner.Settings;
import ai.dstack.runner.activity.SshActivity;
import ai.dstack.runner.hooks.MetricsSource;
import ai.dstack.runner.job.HomeSetup;
import ai.dstack.runner.job.JobHooks;
import ai.dstack.runner.job.JobIdentity;
import ai.dstack.runner.job.JobUserResolver;
import ai.dstack.runner.job.SetupException;
import ai.dstack.runner.job.SshServer;
import ai.dstack.runner.job.Submission;
import ai.dstack.runner.metrics.MetricsCollector;
import ai.dstack.runner.metrics.MetricsUnavailableException;
import ai.dstack.runner.repo.GitCredentialFiles;
import ai.dstack.runner.repo.CloneProcess;
import ai.dstack.runner.repo.RemoteRepoSpec;
import ai.dstack.runner.repo.RepoCredentials;
import ai.dstack.runner.repo.RepoSetupException;
import ai.dstack.runner.ssh.ClusterSsh;
import ai.dstack.runner.ssh.Sshd;
import ai.dstack.runner.ssh.SshdSettings;
import ai.dstack.runner.user.JobUser;
import ai.dstack.runner.user.JobUserException;
import ai.dstack.runner.user.JobUsers;
import ai.dstack.runner.user.UserSpec;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;

/** Connects the executor's hooks and the metrics endpoint to the runner's user and metrics packages. */
public final class Wiring {
    private Wiring() {
    }

    /**
     * Job users from the image's /etc/passwd and /etc/group, JGit for remote repos, git credential
     * files and cluster SSH in the user's home, and the runner's sshd.
     */
    public static JobHooks hooks(RunnerOptions options) {
        return new JobHooks(users(Path.of("/")), Wiring::setUpRemoteRepo, new HomeFiles(options.sshPort()),
                new SshdServer(SshdSettings.standard(options.sshPort(), options.sshLogLevel(), options.authorizedKeys())));
    }

    private static JobUser jobUser(JobIdentity id) {
        return new JobUser(id.uid(), id.gid(), id.groups(), id.name(), id.home());
    }

    private static RepoCredentials credentials(Submission sub) {
        Submission.RepoCredentials c = sub.repoCredentials();
        return c == null ? null : new RepoCredentials(c.cloneUrl(), c.privateKey(), c.oauthToken());
    }

    /** The runner runtime the launcher started us from; null outside it (tests on the host). */
    private static Path runtimeHome() {
        String home = System.getProperty("dstack.runner.home");
        return home == null ? null : Path.of(home);
    }

    private static void setUpRemoteRepo(Submission sub, JobIdentity user, Path repoDir, Path diff, Consumer<String> log)
            throws SetupException {
        Submission.RepoData d = sub.repoData();
        RemoteRepoSpec spec = new RemoteRepoSpec(d.repoBranch(), d.repoHash(), d.repoConfigName(), d.repoConfigEmail(),
                Boolean.TRUE.equals(sub.jobSpecOrEmpty().singleBranch()));
        try {
            CloneProcess.run(repoDir, credentials(sub), spec, diff, runtimeHome(), log);
            log.accept("cloned " + sub.repoCredentials().cloneUrl() + " into " + repoDir);
        } catch (RepoSetupException e) {
            throw new SetupException(e.detail(), e); // JobRun adds "Failed to set up the repo (…)"
        }
    }

    /** Git credential files and cluster SSH config for one job; removed again when it ends. */
    private static final class HomeFiles implements HomeSetup {
        private final int sshPort;
        private volatile GitCredentialFiles credentialFiles;

        HomeFiles(int sshPort) {
            this.sshPort = sshPort;
        }

        @Override
        public void provision(Submission sub, JobIdentity user, Consumer<String> log) {
            credentialFiles = GitCredentialFiles.write(credentials(sub), jobUser(user));
            Submission.SshKey key = sub.jobSpecOrEmpty().sshKey();
            List<String> ips = sub.clusterInfoOrEmpty().jobIps();
            if (key != null && ClusterSsh.needed(key.privateKey(), ips)) {
                try {
                    ClusterSsh.provision(jobUser(user), key.privateKey(), ips, sshPort);
                } catch (IOException e) {
                    log.accept("cannot set up cluster SSH: " + e.getMessage());
                }
            }
        }

        @Override
        public void cleanUp(JobIdentity user, Consumer<String> log) {
            if (credentialFiles != null) {
                credentialFiles.delete();
            }
        }
    }

    static JobUserResolver users(Path root) {
        return (requested, runner) -> {
            UserSpec spec = requested == null ? null
                    : new UserSpec(requested.uid(), requested.gid(), requested.username(), requested.groupname());
            try {
                JobUser u = JobUsers.resolve(spec, root);
                return new JobIdentity(u.uid(), u.gid(), u.groups(), u.username(), u.home());
            } catch (JobUserException e) {
                throw new SetupException(e.getMessage(), e);
            }
        };
    }

    /** {@link Sshd} and {@link SshActivity} behind the executor's {@link SshServer} hook. */
    private static final class SshdServer implements SshServer {
        private final SshdSettings settings;
        private final SshActivity activity;
        private volatile Sshd sshd;

        SshdServer(SshdSettings settings) {
            this.settings = settings;
            this.activity = new SshActivity(Path.of("/proc/net"), settings.port());
        }

        @Override
        public void trackConnections() {
            activity.start();
        }

        @Override
        public long noConnectionsSecs() {
            return activity.noConnectionsSecs();
        }

        @Override
        public void start() throws IOException {
            sshd = Sshd.start(settings);
        }

        @Override
        public String unavailableReason() {
            Sshd s = sshd;
            return s != null && s.available() ? null : "no sshd in the image (" + settings.sshdBinary() + ")";
        }

        @Override
        public void authorize(String publicKey) {
            try {
                if (sshd != null) {
                    sshd.addAuthorizedKey(publicKey);
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        @Override
        public void stop() {
            activity.stop();
            if (sshd != null) {
                sshd.stop(Duration.ofSeconds(10));
            }
        }
    }

    /** cgroup (and GPU tool) figures; 404 where no cgroup hierarchy is found. */
    public static MetricsSource metrics(Settings settings) {
        MetricsCollector collector = MetricsCollector.forSystem(Duration.ofMillis(settings.gpuToolTimeoutMs()),
                Duration.ofMillis(settings.gpuMetricsCacheMs()));
        return () -> {
            try {
                return Optional.of(collector.collect());
            } catch (MetricsUnavailableException e) {
                return Optional.empty();
            }
        };
    }
}
