package ai.dstack.runner.activity;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SshActivityTest {
    private static final String HEADER = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n";
    // 0x2726 = 10022; st 01 = ESTABLISHED, 0A = LISTEN
    private static final String LISTEN = "   0: 00000000:2726 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1\n";
    private static final String USER = "   1: 0100007F:2726 0100007F:C350 01 00000000:00000000 00:00000000 00000000     0        0 2\n";
    private static final String OTHER_PORT = "   2: 0100007F:1F90 0100007F:C351 01 00000000:00000000 00:00000000 00000000     0        0 3\n";

    @TempDir
    Path net;

    private void proc(String tcp) throws IOException {
        Files.writeString(net.resolve("tcp"), HEADER + tcp);
        Files.writeString(net.resolve("tcp6"), HEADER);
    }

    @Test
    void countsTimeSinceTheLastLongLivedSshConnection() throws IOException {
        SshActivity activity = new SshActivity(net, 10022);
        assertThat(activity.noConnectionsSecs()).isZero();
        proc(LISTEN + OTHER_PORT);
        activity.tick(0);
        activity.tick(30_000);
        assertThat(activity.noConnectionsSecs()).as("no ssh connection for 30 s").isEqualTo(30);
        proc(LISTEN + USER);
        activity.tick(32_000);
        assertThat(activity.noConnectionsSecs()).as("a fresh connection may be a tunnel").isEqualTo(32);
        activity.tick(44_000);
        assertThat(activity.noConnectionsSecs()).as("open for 12 s: a user").isZero();
        proc(LISTEN);
        activity.tick(50_000);
        assertThat(activity.noConnectionsSecs()).isEqualTo(6);
    }

    @Test
    void anUnreadableTableSkipsTheTick() throws IOException {
        SshActivity activity = new SshActivity(net, 10022);
        Files.writeString(net.resolve("tcp"), HEADER);
        activity.tick(0);
        activity.tick(20_000);
        assertThat(activity.noConnectionsSecs()).as("tcp6 missing: ticks skipped").isZero();
    }
}
