package ai.dstack.runner;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.dstack.runner.logs.RunnerLog;
import java.util.List;
import org.junit.jupiter.api.Test;

class RunnerOptionsTest {
    @Test
    void theShimsCommandLineParses() throws Exception {
        RunnerOptions o = RunnerOptions.parse(new String[] {"--log-level", "5", "start", "--temp-dir", "/tmp/runner",
            "--http-port", "10999", "--ssh-port", "10022", "--http-address", "localhost",
            "--ssh-authorized-key", "ssh-ed25519 AAAA a,b@c", "--ssh-authorized-key=ssh-rsa BBBB", "--home-dir", "/x"});
        assertThat(o.action()).isEqualTo(RunnerOptions.Action.START);
        assertThat(o.logLevel()).isEqualTo(RunnerLog.Level.DEBUG);
        assertThat(o.httpAddress()).isEqualTo("localhost");
        assertThat(o.authorizedKeys()).as("never split on commas").containsExactly("ssh-ed25519 AAAA a,b@c", "ssh-rsa BBBB");
    }

    @Test
    void theLogLevelIsAcceptedAfterStartToo() throws Exception {
        assertThat(RunnerOptions.parse(new String[] {"start", "--log-level", "warning"}).logLevel())
                .isEqualTo(RunnerLog.Level.WARN);
    }

    @Test
    void badLevelsAndFlagsAreUsageErrors() {
        for (List<String> args : List.of(List.of("--log-level", "0", "start"), List.of("--log-level", "panic", "start"),
                List.of("start", "--http-port", "x"), List.of("start", "--nope"), List.of("start", "--temp-dir"))) {
            assertThatThrownBy(() -> RunnerOptions.parse(args.toArray(String[]::new)))
                    .isInstanceOf(RunnerOptions.UsageException.class);
        }
    }

    @Test
    void versionWins() throws Exception {
        assertThat(RunnerOptions.parse(new String[] {"--version"}).action()).isEqualTo(RunnerOptions.Action.VERSION);
        assertThat(RunnerOptions.parse(new String[] {"-v"}).action()).isEqualTo(RunnerOptions.Action.VERSION);
    }
}
