package ai.dstack.runner.repo;

/**
 * Git coordinates of a {@code remote} repo ({@code repo_data} plus {@code job_spec.single_branch}).
 *
 * @param branch branch to clone and check out, or null/empty for the remote HEAD
 * @param hash commit to check out, or null/empty
 * @param configName local {@code user.name}; null or empty: not written (the user's own config applies)
 * @param configEmail local {@code user.email}; null or empty: not written
 * @param singleBranch fetch only the cloned branch
 */
public record RemoteRepoSpec(String branch, String hash, String configName, String configEmail,
                             boolean singleBranch) {
    boolean hasBranch() {
        return branch != null && !branch.isEmpty();
    }

    boolean hasHash() {
        return hash != null && !hash.isEmpty();
    }
}
