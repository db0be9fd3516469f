package ai.dstack.runner.user;

import java.util.List;

/**
 * The Unix identity a job runs as.
 *
 * @param uid user id
 * @param gid primary group id
 * @param groups supplementary group ids, sorted ascending, unique, always containing {@code gid}
 * @param username passwd name, or {@code ""} when the uid has no passwd entry
 * @param home validated home directory ({@code "/"} when the passwd home is unusable)
 */
public record JobUser(long uid, long gid, List<Long> groups, String username, String home) {
    public JobUser {
        groups = List.copyOf(groups);
    }

    /** Whether this is the superuser (no identity switch needed). */
    public boolean isRoot() {
        return uid == 0;
    }
}
