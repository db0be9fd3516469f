package ai.dstack.runner.user;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JobUsersTest {
    @TempDir
    Path root;

    @BeforeEach
    void image() throws IOException {
        Files.createDirectories(root.resolve("etc"));
        Files.createDirectories(root.resolve("home/app"));
        Files.createDirectories(root.resolve("root"));
        Files.writeString(root.resolve("home/file"), "not a dir");
        Files.writeString(root.resolve("etc/passwd"), """
                root:x:0:0:root:/root:/bin/bash
                # a comment line
                daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin
                app:x:1000:1000:App:/home/app:/bin/sh
                nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
                ghost:x:1001:1001::/home/ghost:/bin/sh
                rel:x:1002:1002::home/app:/bin/sh
                filehome:x:1003:1003::/home/file:/bin/sh
                nohome:x:1004:1004:::/bin/sh
                """);
        Files.writeString(root.resolve("etc/group"), """
                root:x:0:
                daemon:x:1:
                app:x:1000:
                video:x:44:app,other
                audio:x:29:other,app
                docker:x:999:
                users:x:100:nobody
                """);
    }

    private JobUser resolve(Long uid, Long gid, String username, String groupname) throws JobUserException {
        return JobUsers.resolve(new UserSpec(uid, gid, username, groupname), root);
    }

    @Test
    void uidAndGidGiveExactlyThatGroup() throws Exception {
        assertThat(resolve(1000L, 1000L, null, null))
                .isEqualTo(new JobUser(1000, 1000, List.of(1000L), "app", "/home/app"));
    }

    @Test
    void uidOnlyTakesPrimaryGroupAndMembershipsSortedFromTheFiles() throws Exception {
        assertThat(resolve(1000L, null, "ignored", null))
                .isEqualTo(new JobUser(1000, 1000, List.of(29L, 44L, 1000L), "app", "/home/app"));
    }

    @Test
    void usernameOnlyIsLookedUp() throws Exception {
        assertThat(resolve(null, null, "app", null).groups()).containsExactly(29L, 44L, 1000L);
        assertThat(resolve(null, null, "app", null).uid()).isEqualTo(1000);
    }

    @Test
    void groupnameGivesThatGroupOnly() throws Exception {
        assertThat(resolve(null, null, "app", "docker"))
                .isEqualTo(new JobUser(1000, 999, List.of(999L), "app", "/home/app"));
    }

    @Test
    void gidWinsOverGroupname() throws Exception {
        assertThat(resolve(1000L, 5L, null, "docker").groups()).containsExactly(5L);
    }

    @Test
    void unknownUidIsAcceptedWithRootGroupAndNoName() throws Exception {
        assertThat(resolve(4242L, null, null, null)).isEqualTo(new JobUser(4242, 0, List.of(0L), "", "/"));
        assertThat(resolve(4242L, 77L, null, null)).isEqualTo(new JobUser(4242, 77, List.of(77L), "", "/"));
    }

    @Test
    void unknownUsernameUnknownGroupOrNeitherAreErrors() {
        assertThatThrownBy(() -> resolve(null, null, "nosuch", null))
                .isInstanceOf(JobUserException.class).hasMessage("Failed to set job user (unknown user nosuch)");
        assertThatThrownBy(() -> resolve(1000L, null, null, "nosuch"))
                .hasMessage("Failed to set job user (unknown group nosuch)");
        assertThatThrownBy(() -> resolve(null, 1000L, null, "app"))
                .hasMessage("Failed to set job user (neither uid nor username is set)");
    }

    @Test
    void missingPasswdFailsEvenForUidOnly() throws Exception {
        Files.delete(root.resolve("etc/passwd"));
        assertThatThrownBy(() -> resolve(1000L, 1000L, null, null))
                .isInstanceOf(JobUserException.class).hasMessageStartingWith("Failed to set job user (cannot read /etc/passwd");
    }

    @Test
    void missingGroupFileMeansNoSupplementaryGroupsButFailsAGroupnameLookup() throws Exception {
        Files.delete(root.resolve("etc/group"));
        assertThat(resolve(1000L, null, null, null).groups()).containsExactly(1000L);
        assertThatThrownBy(() -> resolve(1000L, null, null, "docker"))
                .hasMessageStartingWith("Failed to set job user (cannot read /etc/group");
    }

    @Test
    void unusableHomesBecomeRoot() throws Exception {
        assertThat(resolve(65534L, null, null, null).home()).as("nonexistent").isEqualTo("/");
        assertThat(resolve(65534L, null, null, null).groups()).containsExactly(100L, 65534L);
        assertThat(resolve(1001L, null, null, null).home()).as("missing but plausible").isEqualTo("/home/ghost");
        assertThat(resolve(1002L, null, null, null).home()).as("relative").isEqualTo("/");
        assertThat(resolve(1003L, null, null, null).home()).as("a file").isEqualTo("/");
        assertThat(resolve(1004L, null, null, null).home()).as("empty").isEqualTo("/");
    }

    @Test
    void unstatableHomeBecomesRoot() throws Exception {
        Path home = root.resolve("home");
        Files.createSymbolicLink(home.resolve("loop1"), home.resolve("loop2"));
        Files.createSymbolicLink(home.resolve("loop2"), home.resolve("loop1"));
        Files.writeString(root.resolve("etc/passwd"), "looped:x:1005:1005::/home/loop1:/bin/sh\n");
        // ELOOP is a stat failure other than "does not exist"
        assertThat(resolve(1005L, null, null, null).home()).isEqualTo("/");
        // so is ENOTDIR: a component of the path is a file
        Files.writeString(root.resolve("etc/passwd"), "under:x:1006:1006::/home/file/sub/x:/bin/sh\n"
                + "missing:x:1007:1007::/home/missing/x:/bin/sh\n");
        assertThat(resolve(1006L, null, null, null).home()).isEqualTo("/");
        assertThat(resolve(1007L, null, null, null).home()).isEqualTo("/home/missing/x");
    }

    @Test
    void nullSpecIsTheRunnersOwnIdentity() throws Exception {
        JobUser self = JobUsers.resolve(null, root);
        assertThat(self.uid()).isZero();
        assertThat(self.username()).isEqualTo("root");
        assertThat(self.home()).isEqualTo("/root");
        assertThat(self.groups()).contains(0L);
    }

    @Test
    void ownershipChangesSymlinksNotTheirTargets() throws Exception {
        Path outside = Files.writeString(root.resolve("outside"), "secret");
        Path tree = Files.createDirectories(root.resolve("tree/sub"));
        Files.writeString(tree.resolve("f"), "x");
        Path link = Files.createSymbolicLink(tree.resolve("link"), outside);
        Files.createSymbolicLink(root.resolve("tree/dirlink"), root.resolve("etc"));

        assertThat(Ownership.chownTree(root.resolve("tree"), 1234, 4321)).isZero();

        assertThat(uid(root.resolve("tree"))).isEqualTo(1234);
        assertThat(uid(tree.resolve("f"))).isEqualTo(1234);
        assertThat(Files.getAttribute(tree.resolve("f"), "unix:gid")).isEqualTo(4321);
        assertThat(uid(link)).isEqualTo(1234);
        assertThat(uid(outside)).isZero();
        assertThat(uid(root.resolve("etc/passwd"))).isZero();
        assertThat(Files.getPosixFilePermissions(outside)).isEqualTo(PosixFilePermissions.fromString("rw-r--r--"));
    }

    private static int uid(Path p) throws IOException {
        return (int) Files.getAttribute(p, "unix:uid", java.nio.file.LinkOption.NOFOLLOW_LINKS);
    }
}
