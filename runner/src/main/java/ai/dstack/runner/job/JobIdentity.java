package ai.dstack.runner.job;

import java.util.List;

/**
 * The Unix identity a job runs as.
 *
 * @param uid    user id
 * @param gid    primary group id
 * @param groups supplementary group ids (sorted, containing {@code gid})
 * @param name   user name, "" when the uid has no passwd entry
 * @param home   home directory ("/" when unusable)
 */
public record JobIdentity(long uid, long gid, List<Long> groups, String name, String home) {
    /** The runner's own identity, used when the job names no user. */
    public static JobIdentity root(String home) {
        return new JobIdentity(0, 0, List.of(0L), "root", home);
    }

    public boolean isRoot() {
        return uid == 0;
    }
}
