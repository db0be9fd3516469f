package ai.dstack.runner.repo;

import ai.dstack.runner.user.JobUser;
import ai.dstack.runner.user.Ownership;
import java.io.IOException;
import java.net.URI;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;

/**
 * Git credentials left in the job user's home for the job's own git use (docs/runner.md §5.5.3): {@code ~/.config/gh/hosts.yml}
 * for an https token, {@code ~/.ssh/id_rsa} for an ssh key. Existing files are never overwritten; the files
 * written here are deleted by {@link #delete()} when the job ends. All failures are logged, never thrown.
 */
public final class GitCredentialFiles {
    private static final System.Logger LOG = System.getLogger(GitCredentialFiles.class.getName());

    private final List<Path> written;

    private GitCredentialFiles(List<Path> written) {
        this.written = List.copyOf(written);
    }

    /** Writes the credential file for {@code credentials} (null → nothing) into {@code user}'s home. */
    public static GitCredentialFiles write(RepoCredentials credentials, JobUser user) {
        List<Path> written = new ArrayList<>();
        if (credentials == null || credentials.cloneUrl() == null) {
            return new GitCredentialFiles(written);
        }
        Path home = Path.of(user.home());
        try {
            switch (credentials.scheme()) {
                case "https", "http" -> {
                    if (credentials.oauthToken() != null && !credentials.oauthToken().isEmpty()) {
                        String host = URI.create(credentials.cloneUrl()).getHost();
                        String yaml = host + ":\n  oauth_token: " + yamlQuoted(credentials.oauthToken()) + "\n";
                        write(home, home.resolve(".config/gh/hosts.yml"), yaml, user, written);
                    }
                }
                case "ssh" -> {
                    if (credentials.privateKey() != null && !credentials.privateKey().isEmpty()) {
                        write(home, home.resolve(".ssh/id_rsa"), credentials.privateKey(), user, written);
                    }
                }
                default -> LOG.log(System.Logger.Level.ERROR, "unsupported clone URL scheme for git credentials: {0}",
                        credentials.cloneUrl());
            }
        } catch (IOException | IllegalArgumentException e) {
            LOG.log(System.Logger.Level.ERROR, "cannot write git credentials: {0}", e.toString());
        }
        return new GitCredentialFiles(written);
    }

    /** The files this instance created. */
    public List<Path> files() {
        return written;
    }

    /** Deletes the files this instance created (not the directories). */
    public void delete() {
        for (Path p : written) {
            try {
                Files.deleteIfExists(p);
            } catch (IOException e) {
                LOG.log(System.Logger.Level.WARNING, "cannot delete {0}: {1}", p, e.toString());
            }
        }
    }

    private static void write(Path home, Path file, String content, JobUser user, List<Path> written)
            throws IOException {
        createPrivateDirs(home, file.getParent(), user);
        try {
            Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        } catch (FileAlreadyExistsException e) {
            LOG.log(System.Logger.Level.WARNING, "{0} already exists, not writing git credentials", file);
            return;
        }
        written.add(file);
        Files.writeString(file, content, StandardOpenOption.TRUNCATE_EXISTING);
        Ownership.chown(file, user);
    }

    /** Creates the missing directories from {@code home} down to {@code dir}, 0700 and owned by the user. */
    static void createPrivateDirs(Path home, Path dir, JobUser user) throws IOException {
        if (Files.isDirectory(dir)) {
            return;
        }
        createPrivateDirs(home, dir.getParent(), user);
        Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
        if (dir.startsWith(home)) {
            Ownership.chown(dir, user);
        }
    }

    private static String yamlQuoted(String s) {
        return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }
}
