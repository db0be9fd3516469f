package ai.dstack.runner.repo;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/** What to do with the repo dir before the repo step (docs/runner.md §5.5.1). */
public final class RepoDir {
    /** Outcome of {@link #check}. */
    public enum Action {
        /** The dir is absent, empty or holds only {@code lost+found}: set the repo up. */
        PROCEED,
        /** The dir holds files and {@code repo_exists_action} is {@code skip} or null: skip the repo step. */
        SKIP
    }

    static final String LOST_FOUND = "lost+found";

    private RepoDir() {
    }

    /**
     * Decides the repo step for {@code repoDir} (already expanded and absolute).
     *
     * @param existsAction {@code job_spec.repo_exists_action}: {@code "error"}, {@code "skip"} or null
     */
    public static Action check(Path repoDir, String existsAction) throws RepoSetupException {
        if (!Files.exists(repoDir, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            return Action.PROCEED;
        }
        if (!Files.isDirectory(repoDir)) {
            throw new RepoSetupException("repo dir is not a directory: " + repoDir);
        }
        if (isEffectivelyEmpty(repoDir)) {
            return Action.PROCEED;
        }
        if (existsAction == null || existsAction.equals("skip")) {
            return Action.SKIP;
        }
        if (existsAction.equals("error")) {
            throw new RepoSetupException("repo dir is not empty: " + repoDir);
        }
        throw new RepoSetupException("unknown repo_exists_action: " + existsAction);
    }

    /** Empty, or holding nothing but {@code lost+found} (a freshly formatted volume). */
    static boolean isEffectivelyEmpty(Path dir) throws RepoSetupException {
        try (Stream<Path> entries = Files.list(dir)) {
            List<String> names = entries.map(p -> p.getFileName().toString()).limit(2).toList();
            return names.isEmpty() || names.equals(List.of(LOST_FOUND));
        } catch (IOException e) {
            throw new RepoSetupException("cannot list repo dir " + dir + ": " + e.getMessage(), e);
        }
    }
}
