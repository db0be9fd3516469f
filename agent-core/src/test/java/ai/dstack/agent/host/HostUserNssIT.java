package ai.dstack.agent.host;

import static ai.dstack.agent.task.TaskCalls.awaitStatus;
import static ai.dstack.agent.task.TaskCalls.busybox;
import static ai.dstack.agent.task.TaskCalls.submit;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ai.dstack.agent.task.TaskCalls;
import ai.dstack.agent.testing.ApiClient;
import ai.dstack.agent.testing.Commands;
import ai.dstack.agent.testing.ShimProcess;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code host_ssh_user} is looked up through NSS, as sshd does: a user only an NSS module knows
 * (Debian's libnss-extrausers) gets the task's keys. The shim runs in a private mount namespace
 * where a bind-mounted nsswitch.conf names {@code extrausers} and a bind-mounted
 * /var/lib/extrausers holds the user; the machine's own files are untouched.
 */
class HostUserNssIT {
    private static final Path EXTRAUSERS = Path.of("/var/lib/extrausers");
    @TempDir
    Path tmp;

    @Test
    void aUserOnlyAnNssModuleKnowsGetsTheTaskKeys() throws Exception {
        assumeTrue(Commands.isRoot(), "needs root (mount namespace, file owners)");
        assumeTrue(Files.exists(Path.of("/usr/lib/x86_64-linux-gnu/libnss_extrausers.so.2"))
                   || Files.exists(Path.of("/usr/lib/libnss_extrausers.so.2")), "needs libnss-extrausers (bin/test installs it)");
        assumeTrue(Files.isDirectory(EXTRAUSERS) && Commands.succeeds("unshare", "--version"), "needs /var/lib/extrausers and unshare");
        String user = "dsnss" + Long.toHexString(System.nanoTime()).substring(0, 6);
        assertThat(Commands.succeeds("getent", "passwd", user)).as("the host knows no " + user).isFalse();
        Path home = Files.createDirectories(tmp.resolve("home-" + user));
        Path db = Files.createDirectories(tmp.resolve("extrausers"));
        Files.writeString(db.resolve("passwd"), user + ":x:4242:4343:nss user:" + home + ":/bin/sh\n");
        Files.writeString(db.resolve("group"), user + ":x:4343:\n");
        Files.writeString(db.resolve("shadow"), "");
        Path nsswitch = tmp.resolve("nsswitch.conf");
        Files.writeString(nsswitch, "passwd: files extrausers\ngroup: files extrausers\nshadow: files\nhosts: files dns\n");

        String mounts = "mount --bind '" + nsswitch + "' /etc/nsswitch.conf && mount --bind '" + db + "' " + EXTRAUSERS
                        + " && exec \"$@\"";
        try (ShimProcess shim = ShimProcess.builder(tmp).wrappedIn("unshare", "-m", "--propagation", "private",
                "sh", "-c", mounts, "sh").start()) {
            ApiClient api = shim.api();
            String key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAINssUserKey user@laptop";
            Map<String, Object> body = busybox("bridge");
            body.put("host_ssh_user", user);
            body.put("host_ssh_keys", List.of(key));
            String id = submit(api, body);
            awaitStatus(api, id, "running");
            Path keys = home.resolve(".ssh/authorized_keys");
            assertThat(Files.readAllLines(keys)).containsExactly(key);
            assertThat(Files.getAttribute(keys, "unix:uid")).isEqualTo(4242);
            assertThat(Files.getAttribute(keys, "unix:gid")).isEqualTo(4343);
            TaskCalls.terminateAndRemove(api, id);
            assertThat(Files.readAllLines(keys)).isEmpty();
        }
        assertThat(Commands.succeeds("getent", "passwd", user)).as("the machine's own files untouched").isFalse();
    }
}
