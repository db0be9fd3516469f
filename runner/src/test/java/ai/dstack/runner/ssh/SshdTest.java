package ai.dstack.runner.ssh;

import static org.assertj.core.api.Assertions.assertThat;

import ai.dstack.runner.user.JobUser;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SshdTest {
    private static final JobUser ROOT = new JobUser(0, 0, List.of(0L), "root", "/root");
    SshFixture fx;

    @BeforeEach
    void start() throws Exception {
        // a key option with commas: splitting the value on ',' (the Go quirk) would break this login
        fx = SshFixture.start("from=\"127.0.0.1,::1\",no-X11-forwarding");
    }

    @AfterEach
    void stop() throws Exception {
        fx.close();
    }

    @Test
    void theRealSshClientLogsInWithAGivenKeyAndSeesTheJobEnvThroughTheProfileChain() throws Exception {
        Path workDir = Files.createDirectories(fx.base.resolve("work dir"));
        Path profile = fx.base.resolve("dstack/profile");
        Path etcProfile = fx.base.resolve("sys/etc/profile");
        Profile.write(profile, etcProfile, Map.of("GREETING", "it's a \"test\" $HOME `x`",
                "DSTACK_WORKING_DIR", workDir.toString()), ROOT);
        // the host's login shells read the host's /etc/profile, so source the chain under the test root explicitly
        SshFixture.Result r = fx.ssh(fx.clientKey, ". '" + etcProfile + "'; echo \"[$GREETING]\"; pwd; id -u");
        assertThat(r.exit()).as(r.output()).isZero();
        assertThat(r.output().lines().toList()).containsExactly("[it's a \"test\" $HOME `x`]", workDir.toString(), "0");
    }

    @Test
    void keysAddedLaterAreAppendedAndWork() throws Exception {
        Path second = SshFixture.newKey(fx.base, "second");
        assertThat(fx.ssh(second, "true").exit()).isNotZero();
        fx.sshd.addAuthorizedKey(Files.readString(Path.of(second + ".pub")) + "\n");
        assertThat(fx.ssh(second, "echo ok").output()).isEqualTo("ok\n");
        assertThat(Files.readAllLines(fx.sshd.authorizedKeysFile())).hasSize(2);
        assertThat(Files.readAllLines(fx.sshd.authorizedKeysFile()).getFirst())
                .startsWith("from=\"127.0.0.1,::1\",no-X11-forwarding ssh-ed25519 ");
    }

    @Test
    void theLayoutHasFreshHostKeysAndTheConfigInOrder() throws Exception {
        Path conf = fx.base.resolve("dstack/ssh/conf");
        assertThat(Files.readAllLines(conf.resolve("sshd_config"))).containsExactly(
                "LogLevel DEBUG", "Port " + fx.port, "PidFile none", "Subsystem sftp internal-sftp",
                "PasswordAuthentication no", "KbdInteractiveAuthentication no", "UsePAM yes",
                "AuthorizedKeysFile " + conf.resolve("authorized_keys") + " .ssh/authorized_keys",
                "AcceptEnv LANG LC_* COLORTERM NO_COLOR", "ClientAliveInterval 30", "ClientAliveCountMax 4",
                "HostKey " + conf.resolve("ssh_host_ecdsa_key"), "HostKey " + conf.resolve("ssh_host_ed25519_key"));
        for (String type : List.of("ecdsa", "ed25519")) {
            assertThat(Files.getPosixFilePermissions(conf.resolve("ssh_host_" + type + "_key")))
                    .isEqualTo(PosixFilePermissions.fromString("rw-------"));
            assertThat(Files.getPosixFilePermissions(conf.resolve("ssh_host_" + type + "_key.pub")))
                    .isEqualTo(PosixFilePermissions.fromString("rw-r--r--"));
        }
        assertThat(conf.resolve("ssh_host_rsa_key")).doesNotExist();
        assertThat(Files.getPosixFilePermissions(conf.resolve("authorized_keys")))
                .isEqualTo(PosixFilePermissions.fromString("rw-r--r--"));
        assertThat(Files.readString(fx.base.resolve("dstack/ssh/log/sshd.log"))).contains("Server listening");
        assertThat(fx.base.resolve("sys/var/empty")).isEmptyDirectory();
        assertThat(fx.base.resolve("sys/run/sshd")).isEmptyDirectory();
    }

    @Test
    void aRestartRecreatesTheLayoutWithNewHostKeysAndStopEndsSshd() throws Exception {
        Path hostKey = fx.base.resolve("dstack/ssh/conf/ssh_host_ed25519_key.pub");
        String before = Files.readString(hostKey);
        fx.sshd.stop(Duration.ofSeconds(10));
        assertThat(fx.sshd.status()).startsWith("exited");
        assertThat(fx.ssh(fx.clientKey, "true").exit()).isNotZero();
        Files.writeString(fx.base.resolve("sys/run/sshd/stale"), "x");
        try (Sshd again = Sshd.start(new SshdSettings(fx.base.resolve("dstack"), fx.base.resolve("sys"),
                Path.of("/usr/sbin/sshd"), fx.port, "INFO", List.of(Files.readString(Path.of(fx.clientKey + ".pub")))))) {
            again.awaitListening(Duration.ofSeconds(20));
            assertThat(again.status()).isEqualTo("running");
            assertThat(Files.readString(hostKey)).isNotEqualTo(before);
            assertThat(fx.base.resolve("sys/run/sshd")).isEmptyDirectory();
            assertThat(fx.ssh(fx.clientKey, "echo again").output()).isEqualTo("again\n");
        }
    }

    @Test
    void withoutSshdItReportsNotAvailableInsteadOfFailing(@TempDir Path tmp) throws Exception {
        try (Sshd none = Sshd.start(new SshdSettings(tmp.resolve("dstack"), tmp, tmp.resolve("no/sshd"), 1, "INFO",
                List.of("ssh-ed25519 AAAA a,b,c")))) {
            assertThat(none.available()).isFalse();
            assertThat(none.status()).isEqualTo("sshd not available");
            assertThat(Files.readString(none.authorizedKeysFile())).isEqualTo("ssh-ed25519 AAAA a,b,c\n");
            none.awaitListening(Duration.ofMillis(1));
        }
    }
}
