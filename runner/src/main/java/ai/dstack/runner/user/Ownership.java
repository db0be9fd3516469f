package ai.dstack.runner.user;

import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;

/** Hands files to the job user without ever following symlinks (lchown semantics, docs/runner.md §5.5.2, §5.6). */
public final class Ownership {
    private static final System.Logger LOG = System.getLogger(Ownership.class.getName());

    private Ownership() {
    }

    /** Changes the owner of {@code path} itself (a symlink, not its target). */
    public static void chown(Path path, long uid, long gid) throws IOException {
        Files.setAttribute(path, "unix:uid", (int) uid, LinkOption.NOFOLLOW_LINKS);
        Files.setAttribute(path, "unix:gid", (int) gid, LinkOption.NOFOLLOW_LINKS);
    }

    /** {@link #chown} for {@code path} of {@code user}. */
    public static void chown(Path path, JobUser user) throws IOException {
        chown(path, user.uid(), user.gid());
    }

    /**
     * Chowns {@code top} and everything below it; symlinks are changed themselves and never descended into.
     * Per-entry failures are logged, not thrown (docs/runner.md §5.5.2).
     *
     * @return the number of entries that could not be chowned
     */
    public static int chownTree(Path top, long uid, long gid) {
        int[] failures = {0};
        try {
            Files.walkFileTree(top, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) {
                    visit(dir);
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
                    visit(file);
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFileFailed(Path file, IOException e) {
                    failures[0]++;
                    LOG.log(System.Logger.Level.WARNING, "cannot chown {0}: {1}", file, e.toString());
                    return FileVisitResult.CONTINUE;
                }

                private void visit(Path p) {
                    try {
                        chown(p, uid, gid);
                    } catch (IOException | RuntimeException e) {
                        failures[0]++;
                        LOG.log(System.Logger.Level.WARNING, "cannot chown {0}: {1}", p, e.toString());
                    }
                }
            });
        } catch (IOException e) {
            failures[0]++;
            LOG.log(System.Logger.Level.WARNING, "cannot walk {0}: {1}", top, e.toString());
        }
        return failures[0];
    }
}
