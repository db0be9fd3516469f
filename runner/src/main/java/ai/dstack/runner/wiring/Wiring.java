package ai.dstack.runner.wiring;

import ai.dstack.runner.RunnerOptions;
import ai.dstack.runner.hooks.MetricsSource;
import ai.dstack.runner.job.JobHooks;
import ai.dstack.runner.job.JobIdentity;
import ai.dstack.runner.job.JobUserResolver;
import ai.dstack.runner.job.SetupException;
import ai.dstack.runner.job.SshServer;
import ai.dstack.runner.metrics.MetricsCollector;
import ai.dstack.runner.metrics.MetricsUnavailableException;
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
import java.util.Optional;

/** Connects the executor's hooks and the metrics endpoint to the runner's user and metrics packages. */
public final class Wiring {
    private Wiring() {
    }

    /**
     * Job users from the image's /etc/passwd and /etc/group, the runner's sshd; remote repos and
     * home files keep their defaults until wired in.
     */
    public static JobHooks hooks(RunnerOptions options) {
        JobHooks defaults = JobHooks.defaults();
        return new JobHooks(users(Path.of("/")), defaults.remoteRepo(), defaults.home(),
                new SshdServer(SshdSettings.standard(options.sshPort(), options.sshLogLevel(), options.authorizedKeys())));
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

    /** {@link Sshd} behind the executor's {@link SshServer} hook; connection tracking is not wired yet (0). */
    private static final class SshdServer implements SshServer {
        private final SshdSettings settings;
        private volatile Sshd sshd;

        SshdServer(SshdSettings settings) {
            this.settings = settings;
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
            if (sshd != null) {
                sshd.stop(Duration.ofSeconds(10));
            }
        }
    }

    /** cgroup (and GPU tool) figures; 404 where no cgroup hierarchy is found. */
    public static MetricsSource metrics() {
        MetricsCollector collector = MetricsCollector.forSystem();
        return () -> {
            try {
                return Optional.of(collector.collect());
            } catch (MetricsUnavailableException e) {
                return Optional.empty();
            }
        };
    }
}
