package ai.dstack.runner.repo;

import ai.dstack.runner.files.Trees;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.Collection;
import java.util.List;
import java.util.stream.Stream;
import org.eclipse.jgit.api.CloneCommand;
import org.eclipse.jgit.api.Git;
import org.eclipse.jgit.api.ResetCommand;
import org.eclipse.jgit.api.errors.GitAPIException;
import org.eclipse.jgit.lib.Constants;
import org.eclipse.jgit.lib.ObjectId;
import org.eclipse.jgit.lib.Ref;
import org.eclipse.jgit.lib.Repository;
import org.eclipse.jgit.lib.StoredConfig;
import org.eclipse.jgit.patch.Patch;
import org.eclipse.jgit.patch.PatchApplier;
import org.eclipse.jgit.submodule.SubmoduleWalk;

/**
 * Sets up a {@code remote} repo in-process with JGit (docs/runner.md §5.5.2): clone with submodules, check out the
 * requested branch/commit, set the local identity, apply the uploaded {@code git diff --binary}.
 */
public final class RemoteRepo {
    private static final System.Logger LOG = System.getLogger(RemoteRepo.class.getName());

    static {
        IsolatedGitConfig.install();
    }

    private RemoteRepo() {
    }

    /**
     * Clones into {@code repoDir} (absent, empty, or holding only {@code lost+found}, which stays untouched).
     * Ownership is left to the caller ({@code Ownership.chownTree}).
     *
     * @param repoDir absolute repo dir
     * @param credentials {@code repo_credentials}; null is an error for a remote repo
     * @param spec branch, hash, identity and single-branch flag
     * @param diff the uploaded code blob (a git diff), or null / an empty file when there is none
     */
    public static void setUp(Path repoDir, RepoCredentials credentials, RemoteRepoSpec spec, Path diff)
            throws RepoSetupException {
        if (credentials == null) {
            throw new RepoSetupException("no repo credentials for a remote repo");
        }
        if (credentials.cloneUrl() == null || credentials.cloneUrl().isBlank()) {
            throw new RepoSetupException("no clone URL");
        }
        boolean keepLostFound = Files.isDirectory(repoDir, LinkOption.NOFOLLOW_LINKS)
                && RepoDir.isEffectivelyEmpty(repoDir)
                && Files.exists(repoDir.resolve(RepoDir.LOST_FOUND), LinkOption.NOFOLLOW_LINKS);
        Path target = repoDir;
        try {
            if (keepLostFound) {
                // clone beside lost+found on the same file system, then rename the entries up
                target = Files.createTempDirectory(repoDir, ".dstack-clone");
            }
            try (GitAuth auth = GitAuth.of(credentials)) {
                cloneAndApply(target, auth, spec, diff);
            }
            if (keepLostFound) {
                moveEntriesUp(target, repoDir);
            }
        } catch (IOException | GitAPIException e) {
            throw new RepoSetupException(message(e), e);
        } finally {
            if (keepLostFound && !target.equals(repoDir)) {
                deleteTree(target);
            }
        }
    }

    private static void cloneAndApply(Path target, GitAuth auth, RemoteRepoSpec spec, Path diff)
            throws IOException, GitAPIException, RepoSetupException {
        String ref = spec.hasBranch() ? Constants.R_HEADS + spec.branch()
                : spec.singleBranch() ? remoteHead(auth) : null;
        CloneCommand clone = Git.cloneRepository().setURI(auth.url()).setDirectory(target.toFile())
                .setCloneSubmodules(false);
        if (ref != null) {
            clone.setBranch(ref);
        }
        if (spec.singleBranch() && ref != null) {
            clone.setCloneAllBranches(false).setBranchesToClone(List.of(ref));
        } else {
            clone.setCloneAllBranches(true);
        }
        LOG.log(System.Logger.Level.INFO, "cloning {0} ({1}) into {2}", auth.url(), ref == null ? "HEAD" : ref, target);
        try (Git git = auth.configure(clone).call()) {
            Repository repo = git.getRepository();
            checkout(git, spec);
            updateSubmodules(repo, auth);
            // Only values that are set (as go-git): an empty one would override the user's own git config.
            StoredConfig config = repo.getConfig();
            if (spec.configName() != null && !spec.configName().isEmpty()) {
                config.setString("user", null, "name", spec.configName());
            }
            if (spec.configEmail() != null && !spec.configEmail().isEmpty()) {
                config.setString("user", null, "email", spec.configEmail());
            }
            config.save();
            if (diff != null && Files.exists(diff) && Files.size(diff) > 0) {
                applyDiff(git, diff);
            }
        }
    }

    /** The branch the remote HEAD points to, for a single-branch clone without a branch. */
    private static String remoteHead(GitAuth auth) throws GitAPIException {
        var refs = auth.configure(Git.lsRemoteRepository().setRemote(auth.url())).callAsMap();
        Ref head = refs.get(Constants.HEAD);
        if (head == null) {
            return null;
        }
        if (head.isSymbolic()) {
            return head.getTarget().getName();
        }
        return refs.values().stream()
                .filter(r -> r.getName().startsWith(Constants.R_HEADS) && head.getObjectId().equals(r.getObjectId()))
                .map(Ref::getName).findFirst().orElse(null);
    }

    /** Branch, plus a hash that is not its tip → that hash (detached); no branch → the hash if given, else HEAD. */
    private static void checkout(Git git, RemoteRepoSpec spec) throws IOException, GitAPIException, RepoSetupException {
        Repository repo = git.getRepository();
        ObjectId tip = null;
        if (spec.hasBranch()) {
            tip = repo.resolve(Constants.R_HEADS + spec.branch());
            if (tip == null) {
                throw new RepoSetupException("branch " + spec.branch() + " not found");
            }
        }
        if (!spec.hasHash()) {
            return;
        }
        ObjectId commit;
        try {
            commit = repo.resolve(spec.hash() + "^{commit}");
        } catch (org.eclipse.jgit.errors.MissingObjectException | org.eclipse.jgit.errors.RevisionSyntaxException e) {
            commit = null;
        }
        if (commit == null) {
            throw new RepoSetupException("commit " + spec.hash() + " not found");
        }
        if (!commit.equals(tip)) {
            git.checkout().setName(commit.name()).call();
        }
    }

    /** {@code git submodule update --init --recursive} with the same auth. */
    private static void updateSubmodules(Repository repo, GitAuth auth) throws IOException, GitAPIException {
        try (Git git = new Git(repo)) {
            Collection<String> initialised = git.submoduleInit().call();
            if (initialised.isEmpty()) {
                return;
            }
            auth.configure(git.submoduleUpdate()).call();
        }
        try (SubmoduleWalk walk = SubmoduleWalk.forIndex(repo)) {
            while (walk.next()) {
                try (Repository sub = walk.getRepository()) {
                    if (sub != null) {
                        updateSubmodules(sub, auth);
                    }
                }
            }
        }
    }

    /**
     * Applies the uploaded diff to the working tree (text and binary hunks, adds, deletes, renames, modes) and
     * leaves the index at the checked-out commit, so the changes show as local modifications like with git apply.
     */
    private static void applyDiff(Git git, Path diff) throws IOException, GitAPIException, RepoSetupException {
        Patch patch = new Patch();
        try (InputStream in = Files.newInputStream(diff)) {
            patch.parse(in);
        }
        if (!patch.getErrors().isEmpty()) {
            throw new RepoSetupException("cannot parse the diff: " + patch.getErrors().getFirst().getMessage());
        }
        PatchApplier.Result result = new PatchApplier(git.getRepository()).applyPatch(patch);
        if (!result.getErrors().isEmpty()) {
            throw new RepoSetupException("the diff does not apply: " + result.getErrors().getFirst());
        }
        if (git.getRepository().resolve(Constants.HEAD) != null && !result.getPaths().isEmpty()) {
            ResetCommand reset = git.reset();
            result.getPaths().forEach(reset::addPath);
            reset.call();
        }
        LOG.log(System.Logger.Level.INFO, "applied the diff to {0} files", result.getPaths().size());
    }

    private static void moveEntriesUp(Path from, Path to) throws IOException {
        try (Stream<Path> entries = Files.list(from)) {
            for (Path p : entries.toList()) {
                Files.move(p, to.resolve(p.getFileName().toString()));
            }
        }
    }

    private static void deleteTree(Path top) {
        try {
            Trees.delete(top);
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "cannot remove {0}: {1}", top, e.toString());
        }
    }

    /** The innermost message, which says what went wrong (JGit wraps transport errors several times). */
    private static String message(Throwable e) {
        String top = e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
        String inner = null;
        for (Throwable t = e.getCause(); t != null; t = t.getCause()) {
            if (t.getMessage() != null && !t.getMessage().isBlank() && !top.contains(t.getMessage())) {
                inner = t.getMessage();
            }
        }
        return inner == null ? top : top + ": " + inner;
    }
}
