package ai.dstack.runner.repo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.dstack.runner.user.JobUser;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RepoDirTest {
    @TempDir
    Path tmp;

    @Test
    void absentEmptyOrLostAndFoundOnlyProceeds() throws Exception {
        assertThat(RepoDir.check(tmp.resolve("absent"), "error")).isEqualTo(RepoDir.Action.PROCEED);
        Path empty = Files.createDirectories(tmp.resolve("empty"));
        assertThat(RepoDir.check(empty, "error")).isEqualTo(RepoDir.Action.PROCEED);
        Files.createDirectories(empty.resolve("lost+found"));
        assertThat(RepoDir.check(empty, "error")).isEqualTo(RepoDir.Action.PROCEED);
    }

    @Test
    void aNonEmptyDirIsSkippedOrAnErrorByTheAction() throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("full"));
        Files.writeString(dir.resolve("x"), "");
        assertThat(RepoDir.check(dir, null)).isEqualTo(RepoDir.Action.SKIP);
        assertThat(RepoDir.check(dir, "skip")).isEqualTo(RepoDir.Action.SKIP);
        assertThatThrownBy(() -> RepoDir.check(dir, "error"))
                .hasMessage("Failed to set up the repo (repo dir is not empty: " + dir + ")");
        assertThatThrownBy(() -> RepoDir.check(dir, "merge")).hasMessageContaining("unknown repo_exists_action");
        assertThatThrownBy(() -> RepoDir.check(dir.resolve("x"), null)).hasMessageContaining("is not a directory");
    }

    @Test
    void credentialFilesAreWrittenPrivatelyNeverOverwrittenAndDeletedAtJobEnd() throws Exception {
        JobUser user = new JobUser(1000, 1001, List.of(1001L), "app", tmp.resolve("home").toString());
        GitCredentialFiles https = GitCredentialFiles.write(
                new RepoCredentials("https://gitlab.example.com/a/b.git", null, "tok\"en"), user);
        Path hosts = tmp.resolve("home/.config/gh/hosts.yml");
        assertThat(https.files()).containsExactly(hosts);
        assertThat(Files.readString(hosts)).isEqualTo("gitlab.example.com:\n  oauth_token: \"tok\\\"en\"\n");
        assertThat(Files.getPosixFilePermissions(hosts)).isEqualTo(PosixFilePermissions.fromString("rw-------"));
        assertThat(Files.getPosixFilePermissions(hosts.getParent())).isEqualTo(PosixFilePermissions.fromString("rwx------"));
        assertThat(Files.getAttribute(hosts, "unix:uid", LinkOption.NOFOLLOW_LINKS)).isEqualTo(1000);
        assertThat(Files.getAttribute(hosts.getParent(), "unix:gid", LinkOption.NOFOLLOW_LINKS)).isEqualTo(1001);

        GitCredentialFiles again = GitCredentialFiles.write(
                new RepoCredentials("https://gitlab.example.com/a/b.git", null, "other"), user);
        assertThat(again.files()).as("refused, the file exists").isEmpty();
        again.delete();
        assertThat(hosts).exists();
        https.delete();
        assertThat(hosts).doesNotExist();

        GitCredentialFiles ssh = GitCredentialFiles.write(
                new RepoCredentials("ssh://git@github.com/a/b.git", "PRIVATE", null), user);
        assertThat(Files.readString(tmp.resolve("home/.ssh/id_rsa"))).isEqualTo("PRIVATE");
        ssh.delete();
        assertThat(tmp.resolve("home/.ssh/id_rsa")).doesNotExist();

        assertThat(GitCredentialFiles.write(new RepoCredentials("https://h/x", null, null), user).files()).isEmpty();
        assertThat(GitCredentialFiles.write(null, user).files()).isEmpty();
    }
}
