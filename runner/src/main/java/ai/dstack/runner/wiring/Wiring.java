package ai.dstack.runner.wiring;

import ai.dstack.runner.hooks.MetricsSource;
import ai.dstack.runner.job.JobHooks;
import ai.dstack.runner.job.JobIdentity;
import ai.dstack.runner.job.JobUserResolver;
import ai.dstack.runner.job.SetupException;
import ai.dstack.runner.metrics.MetricsCollector;
import ai.dstack.runner.metrics.MetricsUnavailableException;
import ai.dstack.runner.user.JobUser;
import ai.dstack.runner.user.JobUserException;
import ai.dstack.runner.user.JobUsers;
import ai.dstack.runner.user.UserSpec;
import java.nio.file.Path;
import java.util.Optional;

/** Connects the executor's hooks and the metrics endpoint to the runner's user and metrics packages. */
public final class Wiring {
    private Wiring() {
    }

    /** Job users from the image's /etc/passwd and /etc/group; the other hooks keep their defaults. */
    public static JobHooks hooks() {
        JobHooks defaults = JobHooks.defaults();
        return new JobHooks(users(Path.of("/")), defaults.remoteRepo(), defaults.home(), defaults.ssh());
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
