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

    @Test
    void renamedSettingsKeepTheirOldFlagAndEnvNamesAndTheCurrentNameWins() throws Exception {
        assertThat(ShimFlags.parse(List.of("--dcgm-exporter-interval", "100"), HOME).pluginValues())
                .containsEntry("dcgm-exporter-interval-ms", "100");
        assertThat(ShimFlags.parse(List.of("-dcgm-exporter-interval=150"), HOME).pluginValues())
                .containsEntry("dcgm-exporter-interval-ms", "150");
        assertThat(ShimFlags.parse(List.of(), Map.of("HOME", "/h", "DSTACK_DCGM_EXPORTER_INTERVAL", "200")).pluginValues())
                .containsEntry("dcgm-exporter-interval-ms", "200");
        assertThat(ShimFlags.parse(List.of(), Map.of("HOME", "/h", "DSTACK_DCGM_EXPORTER_INTERVAL", "200",
                "DSTACK_DCGM_EXPORTER_INTERVAL_MS", "300")).pluginValues()).containsEntry("dcgm-exporter-interval-ms", "300");
        assertThat(ShimFlags.parse(List.of(), Map.of("HOME", "/h", "DSTACK_SHIM_TOOL_TIMEOUT", "1500",
                "DSTACK_SHIM_FINGERPRINT_INTERVAL", "0")).waits()).satisfies(w -> {
                    assertThat(w.tool()).isEqualTo(Duration.ofMillis(1500));
                    assertThat(w.fingerprint()).isZero();
                });
        assertThat(ShimFlags.parse(List.of("--tool-timeout-ms", "10"), Map.of("HOME", "/h", "DSTACK_SHIM_TOOL_TIMEOUT", "1500"))
                .waits().tool()).isEqualTo(Duration.ofMillis(10));
    }

    @Test
    void declaredPluginSettingsAreReadFromTheEnvironmentWithTheSameChecks() throws Exception {
        List<FlagSpec> declared = List.of(
                new FlagSpec("volume-attach-timeout-ms", "DSTACK_SHIM_VOLUME_ATTACH_TIMEOUT_MS", FlagSpec.Kind.MILLIS, "30000", "wait")
                        .envOnly().formerly("DSTACK_SHIM_VOLUME_ATTACH_TIMEOUT"),
                new FlagSpec("volume-format-timeout-ms", "DSTACK_SHIM_VOLUME_FORMAT_TIMEOUT_MS", FlagSpec.Kind.MILLIS, "600000", "wait")
                        .envOnly());
        assertThat(ShimFlags.readDeclared(declared, Map.of("DSTACK_SHIM_VOLUME_ATTACH_TIMEOUT", "1234")))
                .containsExactly(Map.entry("volume-attach-timeout-ms", "1234"), Map.entry("volume-format-timeout-ms", "600000"));
        assertThatThrownBy(() -> ShimFlags.readDeclared(declared, Map.of("DSTACK_SHIM_VOLUME_FORMAT_TIMEOUT_MS", "-5")))
                .isInstanceOf(ConfigException.class).hasMessageContaining("DSTACK_SHIM_VOLUME_FORMAT_TIMEOUT_MS");
        // Environment only: no flag of that name.
        assertThatThrownBy(() -> ShimFlags.parse(List.of("--volume-attach-timeout-ms", "5"), HOME)).hasMessageContaining("not defined");
    }

    @Test
    void aPortOutOfRangeIsAConfigError() {
        assertThatThrownBy(() -> ShimFlags.parse(List.of(), Map.of("HOME", "/h", "DSTACK_DCGM_EXPORTER_HTTP_PORT", "70000")))
                .isInstanceOf(ConfigException.class).hasMessageContaining("DSTACK_DCGM_EXPORTER_HTTP_PORT");
    }

    @ParameterizedTest
    @ValueSource(strings = {"fatal", "ERROR", "warn", "Warning", "info", "debug", "TRACE", "1", "6"})
    void logLevelsAsGo(String level) throws Exception {
        assertThat(LogLevel.parse(level)).isNotNull();
    }
}
