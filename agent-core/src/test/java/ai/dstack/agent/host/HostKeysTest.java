package ai.dstack.agent.host;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HostKeysTest {
    private static final String OPERATOR = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOperatorKey operator@host";
    private static final String USER_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIUserKey user@laptop";
    private static final String OTHER = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABOther other@x";
    @TempDir
    Path tmp;
    Path home;
    Path passwd;

    @BeforeEach
    void user() throws Exception {
        home = Files.createDirectories(tmp.resolve("home/ubuntu"));
        passwd = tmp.resolve("passwd");
        int uid = (Integer) Files.getAttribute(tmp, "unix:uid");
        Files.writeString(passwd, "root:x:0:0:root:/root:/bin/sh\nubuntu:x:" + uid + ":" + uid + ":U:" + home + ":/bin/sh\n");
    }

    private HostKeys keys() {
        return new HostKeys(tmp.resolve("shim/host-keys.json"), HostUsers.file(passwd));
    }

    private Path authorizedKeys() {
        return home.resolve(".ssh/authorized_keys");
    }

    @Test
    void aMissingFileIsCreatedPrivateAndTheKeysGoAwayWithTheLastTask() throws Exception {
        keys().add("t1", "ubuntu", List.of(USER_KEY));
        assertThat(Files.readAllLines(authorizedKeys())).containsExactly(USER_KEY);
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(authorizedKeys()))).isEqualTo("rw-------");
        keys().add("t2", "ubuntu", List.of(USER_KEY, OTHER));
        assertThat(Files.readAllLines(authorizedKeys())).containsExactly(USER_KEY, OTHER);
        keys().remove("t1", "ubuntu", List.of(USER_KEY));
        assertThat(Files.readAllLines(authorizedKeys())).containsExactly(USER_KEY, OTHER);
        keys().remove("t2", "ubuntu", List.of(USER_KEY, OTHER));
        assertThat(Files.readAllLines(authorizedKeys())).isEmpty();
    }

    @Test
    void aKeyTheOperatorHadIsNeverRemovedAndModeIsKept() throws Exception {
        Files.createDirectories(authorizedKeys().getParent());
        Files.writeString(authorizedKeys(), OPERATOR + "\n# a comment\n" + "command=\"x\" " + USER_KEY + "\n");
        Files.setPosixFilePermissions(authorizedKeys(), PosixFilePermissions.fromString("rw-r-----"));
        keys().add("t1", "ubuntu", List.of(USER_KEY, OTHER));
        assertThat(Files.readAllLines(authorizedKeys())).containsExactly(OPERATOR, "# a comment", "command=\"x\" " + USER_KEY, OTHER);
        keys().remove("t1", "ubuntu", List.of(USER_KEY, OTHER));
        assertThat(Files.readAllLines(authorizedKeys())).containsExactly(OPERATOR, "# a comment", "command=\"x\" " + USER_KEY);
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(authorizedKeys()))).isEqualTo("rw-r-----");
        assertThat(home.resolve(".ssh/authorized_keys.bak")).exists();
    }

    @Test
    void holdersSurviveANewInstanceAndRepeatedCallsAreHarmless() throws Exception {
        keys().add("t1", "ubuntu", List.of(OTHER));
        keys().add("t1", "ubuntu", List.of(OTHER));
        keys().add("t2", "ubuntu", List.of(OTHER));
        keys().remove("t1", "ubuntu", List.of(OTHER));
        keys().remove("t1", "ubuntu", List.of(OTHER));
        assertThat(Files.readAllLines(authorizedKeys())).containsExactly(OTHER);
        keys().remove("t2", "ubuntu", List.of(OTHER));
        assertThat(Files.readAllLines(authorizedKeys())).isEmpty();
    }
}
