package ai.dstack.runner.env;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ShellTest {
    /** A real /bin/sh reads each quoted value back exactly. */
    @ParameterizedTest
    @ValueSource(strings = {"", "plain", "it's", "''", "'\\''", "a\"b", "$HOME ${X:-y} $(id) `id`", "back\\slash\\",
        "new\nline\n", "tab\there", "glob * ? [a]", "semi; rm -rf / &", "!bang !! #hash", "héllo zoë ✓", " lead trail ",
        "-n", "-e \\n", "'; echo pwned; '", "\"; echo pwned; \""})
    void aRealShellReadsTheQuotedValueBackExactly(String hostile) throws Exception {
        Process p = new ProcessBuilder("/bin/sh", "-c", "printf %s " + Shell.quote(hostile)).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor()).isZero();
        assertThat(out).isEqualTo(hostile);
    }

    @ParameterizedTest
    @ValueSource(strings = {"it's", "$HOME", "new\nline", "héllo"})
    void anExportLineSetsTheValueExactly(String hostile) throws Exception {
        Process p = new ProcessBuilder("/bin/sh", "-c", "export V=" + Shell.quote(hostile) + "; printf %s \"$V\"")
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor()).isZero();
        assertThat(out).isEqualTo(hostile);
    }
}
