package ai.dstack.agent.shell;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Quoted words go through a real {@code /bin/sh} unchanged, however hostile. */
class ShellWordsTest {
    static final List<String> HOSTILE = List.of("plain", "", " ", "two words", "it's", "'", "''", "\"double\"", "$HOME",
            "${HOME}", "$(id)", "`id`", "a\nb", "tab\there", "back\\slash", "*", "?", "[a]", "~", "~root", ";", "a;b", "a&&b",
            "|", ">out", "<in", "#comment", "!", "A=b", "-n", "--flag=value", "naïve ☃ 日本", "\u00a0", "'$(id)'\"`id`\"");

    /**
     * What sh prints for {@code printf '%s\0' <words>}: each word back, NUL-terminated. The command
     * line goes in on stdin as UTF-8 (as it reaches a container's shell), not through this JVM's
     * argument encoding.
     */
    private static List<String> throughSh(String commandLine) throws IOException, InterruptedException {
        Process p = new ProcessBuilder("/bin/sh").redirectErrorStream(true).start();
        try (var in = p.getOutputStream()) {
            in.write((commandLine + "\n").getBytes(StandardCharsets.UTF_8));
        }
        byte[] out = p.getInputStream().readAllBytes();
        assertThat(p.waitFor(10, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(new String(out, StandardCharsets.UTF_8)).isZero();
        List<String> words = new ArrayList<>();
        String all = new String(out, StandardCharsets.UTF_8);
        int start = 0;
        for (int i = 0; i < all.length(); i++) {
            if (all.charAt(i) == '\0') {
                words.add(all.substring(start, i));
                start = i + 1;
            }
        }
        return words;
    }

    @Test
    void everyHostileWordReachesTheCommandUnchanged() throws Exception {
        List<String> command = new ArrayList<>(List.of("printf", "%s\\0"));
        command.addAll(HOSTILE);
        assertThat(throughSh(ShellWords.join(command))).containsExactlyElementsOf(HOSTILE);
        for (String word : HOSTILE) {
            assertThat(throughSh("printf '%s\\0' " + ShellWords.quote(word))).containsExactly(word);
        }
    }

    @Test
    void plainWordsStayReadableAndTheRestIsSingleQuoted() {
        assertThat(ShellWords.join(List.of("echo", "hello world", "it's", "$HOME", "a/b.c", "7")))
                .isEqualTo("echo 'hello world' 'it'\\''s' '$HOME' a/b.c 7");
        assertThat(ShellWords.quote("")).isEqualTo("''");
        assertThat(ShellWords.quote("A=b")).isEqualTo("'A=b'");
    }

    @Test
    void anAssignmentLookingFirstWordIsStillTheCommand() throws Exception {
        // Unquoted, "A=b printf" would set A and run printf; quoted, sh looks for a command named A=b.
        Process p = new ProcessBuilder("/bin/sh").redirectErrorStream(true).start();
        try (var in = p.getOutputStream()) {
            in.write((ShellWords.join(List.of("A=b", "x")) + "\n").getBytes(StandardCharsets.UTF_8));
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(10, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).isEqualTo(127);
        assertThat(out).contains("A=b");
    }
}
