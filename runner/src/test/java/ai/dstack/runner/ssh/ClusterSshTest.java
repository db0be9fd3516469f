package ai.dstack.runner.ssh;

import static org.assertj.core.api.Assertions.assertThat;

import ai.dstack.runner.user.JobUser;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ClusterSshTest {
    @TempDir
    Path home;

    private JobUser user() {
        return new JobUser(1000, 1001, List.of(1001L), "app", home.toString());
    }

    @Test
    void writesTheKeyAndOneHostBlockPerNodeOwnedByUidAndGid() throws Exception {
        ClusterSsh.provision(user(), "-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n-----END OPENSSH PRIVATE KEY-----",
                List.of("10.0.0.1", "10.0.0.2"), 10022);
        Path ssh = home.resolve(".ssh");
        assertThat(Files.readString(ssh.resolve("dstack_job"))).endsWith("-----END OPENSSH PRIVATE KEY-----\n");
        assertThat(Files.readString(ssh.resolve("config"))).isEqualTo(ClusterSsh.BEGIN + "\n"
                + "Host 10.0.0.1\n    Port 10022\n    StrictHostKeyChecking no\n    UserKnownHostsFile /dev/null\n"
                + "    IdentityFile " + ssh.resolve("dstack_job") + "\n"
                + "Host 10.0.0.2\n    Port 10022\n    StrictHostKeyChecking no\n    UserKnownHostsFile /dev/null\n"
                + "    IdentityFile " + ssh.resolve("dstack_job") + "\n"
                + ClusterSsh.END + "\n");
        for (Path p : List.of(ssh, ssh.resolve("dstack_job"), ssh.resolve("config"))) {
            assertThat(Files.getAttribute(p, "unix:uid", LinkOption.NOFOLLOW_LINKS)).as(p.toString()).isEqualTo(1000);
            assertThat(Files.getAttribute(p, "unix:gid", LinkOption.NOFOLLOW_LINKS)).as(p.toString()).isEqualTo(1001);
        }
        assertThat(Files.getPosixFilePermissions(ssh)).isEqualTo(PosixFilePermissions.fromString("rwx------"));
        assertThat(Files.getPosixFilePermissions(ssh.resolve("dstack_job"))).isEqualTo(PosixFilePermissions.fromString("rw-------"));
        assertThat(Files.getPosixFilePermissions(ssh.resolve("config"))).isEqualTo(PosixFilePermissions.fromString("rw-------"));
    }

    @Test
    void reRunsReplaceTheBlockAndKeepTheUsersOwnConfig() throws Exception {
        Path config = Files.createDirectories(home.resolve(".ssh")).resolve("config");
        Files.writeString(config, "Host github.com\n    User git\n");
        ClusterSsh.provision(user(), "k", List.of("10.0.0.1", "10.0.0.2"), 10022);
        ClusterSsh.provision(user(), "k", List.of("10.0.0.3", "10.0.0.4"), 10022);
        String text = Files.readString(config);
        assertThat(text).startsWith("Host github.com\n    User git\n" + ClusterSsh.BEGIN);
        assertThat(Arrays.stream(text.split("\n")).filter(l -> l.startsWith("Host ")))
                .containsExactly("Host github.com", "Host 10.0.0.3", "Host 10.0.0.4");
    }

    @Test
    void onlyKeyedMultiNodeJobsNeedIt() {
        assertThat(ClusterSsh.needed("k", List.of("a", "b"))).isTrue();
        assertThat(ClusterSsh.needed("k", List.of("a"))).isFalse();
        assertThat(ClusterSsh.needed(null, List.of("a", "b"))).isFalse();
    }

    @Test
    void hostfileListsSlotsPerNode() throws Exception {
        Path file = home.resolve("dstack/mpi/hostfile");
        MpiHostfile.write(file, List.of("10.0.0.1", "10.0.0.2"), List.of(8, 0), 4);
        assertThat(Files.readString(file)).isEqualTo("10.0.0.1 slots=8\n10.0.0.2\n");
        assertThat(Files.getPosixFilePermissions(file)).isEqualTo(PosixFilePermissions.fromString("rw-r--r--"));
        assertThat(Files.getPosixFilePermissions(file.getParent())).isEqualTo(PosixFilePermissions.fromString("rwxr-xr-x"));
        MpiHostfile.write(file, List.of("10.0.0.1", "10.0.0.2"), null, 4);
        assertThat(Files.readString(file)).isEqualTo("10.0.0.1 slots=4\n10.0.0.2 slots=4\n");
        MpiHostfile.write(file, List.of("10.0.0.1", ""), List.of(1), 4);
        assertThat(Files.readString(file)).as("an unknown IP leaves it empty").isEmpty();
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> MpiHostfile.write(file, List.of("a", "b"), List.of(1), 4))
                .hasMessageContaining("1 GPU counts for 2 nodes");
    }
}
