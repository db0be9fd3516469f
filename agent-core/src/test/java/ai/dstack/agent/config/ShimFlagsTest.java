package ai.dstack.agent.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ShimFlagsTest {
    private static final Map<String, String> HOME = Map.of("HOME", "/home/u");

    @Test
    void defaultsMatchTheGoShim() throws Exception {
        ShimConfig c = ShimFlags.parse(List.of(), HOME);
        assertThat(c.home()).isEqualTo(Path.of("/home/u/.dstack"));
        assertThat(c.httpPort()).isEqualTo(10998);
        assertThat(c.runnerBinaryPath()).isEqualTo(Path.of("/usr/local/bin/dstack-runner"));
        assertThat(c.shimBinaryPath()).isEqualTo(Path.of("/usr/local/bin/dstack-shim"));
        assertThat(c.runnerHttpPort()).isEqualTo(10999);
        assertThat(c.runnerSshPort()).isEqualTo(10022);
        assertThat(c.runnerLogLevel()).isEqualTo("info");
        assertThat(c.passEnv()).containsExactly("http_proxy", "https_proxy", "no_proxy", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY");
        assertThat(c.privileged()).isFalse();
        assertThat(c.runnerRuntimeDir()).isEmpty();
        assertThat(c.waits().pullDeadline()).isEqualTo(Duration.ZERO);
        assertThat(c.waits().pullStall()).isEqualTo(Duration.ofMinutes(5));
        assertThat(c.waits().removeWait()).isEqualTo(Duration.ofSeconds(5));
    }

    @Test
    void flagsInEveryGoSpellingWinOverEnv() throws Exception {
        Map<String, String> env = Map.of("HOME", "/h", "DSTACK_SHIM_HTTP_PORT", "1", "DSTACK_SERVICE_MODE", "1",
                "DSTACK_SHIM_REMOVE_WAIT_MS", "250", "DSTACK_RUNNER_RUNTIME_DIR", "/rt");
        ShimConfig c = ShimFlags.parse(List.of("--shim-http-port=2", "-privileged", "--shim-home", "/x", "-pass-env", "A,B"), env);
        assertThat(c.httpPort()).isEqualTo(2);
        assertThat(c.privileged()).isTrue();
        assertThat(c.serviceMode()).isTrue();
        assertThat(c.home()).isEqualTo(Path.of("/x"));
        assertThat(c.passEnv()).containsExactly("A", "B");
        assertThat(c.waits().removeWait()).isEqualTo(Duration.ofMillis(250));
        assertThat(c.runnerRuntimeDir()).contains(Path.of("/rt"));
        assertThat(ShimFlags.parse(List.of("--privileged=false"), Map.of("HOME", "/h", "DSTACK_DOCKER_PRIVILEGED", "true"))
                .privileged()).isFalse();
    }

    @Test
    void emptyIntEnvKeepsTheDefault() throws Exception {
        assertThat(ShimFlags.parse(List.of(), Map.of("HOME", "/h", "DSTACK_SHIM_HTTP_PORT", "")).httpPort()).isEqualTo(10998);
    }

    @ParameterizedTest
    @ValueSource(strings = {"tRue", "yes", "2"})
    void boolsAcceptOnlyGoSpellings(String value) {
        assertThatThrownBy(() -> ShimFlags.parse(List.of(), Map.of("HOME", "/h", "DSTACK_DOCKER_PRIVILEGED", value)))
                .isInstanceOf(ConfigException.class);
    }

    @ParameterizedTest
    @ValueSource(strings = {"1", "t", "T", "true", "TRUE", "True"})
    void goTrueSpellings(String value) throws Exception {
        assertThat(ShimFlags.parse(List.of(), Map.of("HOME", "/h", "DSTACK_DOCKER_PRIVILEGED", value)).privileged()).isTrue();
    }

    @Test
    void badValuesAreConfigErrors() {
        assertThatThrownBy(() -> ShimFlags.parse(List.of("--shim-http-port", "x"), HOME)).hasMessageContaining("shim-http-port");
        assertThatThrownBy(() -> ShimFlags.parse(List.of("--nope"), HOME)).hasMessageContaining("not defined");
        assertThatThrownBy(() -> ShimFlags.parse(List.of("--shim-log-level", "panic"), HOME)).hasMessage("invalid log level: panic");
        assertThatThrownBy(() -> ShimFlags.parse(List.of("--runner-log-level", "7"), HOME)).hasMessage("invalid log level: 7");
        assertThatThrownBy(() -> ShimFlags.parse(List.of("--shim-log-level="), HOME)).hasMessage("invalid log level: ");
    }

    @ParameterizedTest
    @ValueSource(strings = {"fatal", "ERROR", "warn", "Warning", "info", "debug", "TRACE", "1", "6"})
    void logLevelsAsGo(String level) throws Exception {
        assertThat(LogLevel.parse(level)).isNotNull();
    }
}
