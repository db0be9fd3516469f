package ai.dstack.runner.logs;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class TerminalRendererTest {
    private static String render(String... writes) {
        TerminalRenderer r = new TerminalRenderer();
        StringBuilder out = new StringBuilder();
        for (String w : writes) {
            byte[] b = w.getBytes(StandardCharsets.UTF_8);
            r.write(b, 0, b.length);
        }
        r.flushAll().forEach(m -> out.append(new String(m, StandardCharsets.UTF_8)));
        return out.toString();
    }

    @Test
    void progressBarsCollapseToTheirLastState() {
        assertThat(render("10%\r50%\r100%\r\ndone\r\n")).isEqualTo("100%\ndone\n");
    }

    @Test
    void coloursAreDroppedAndTabsKept() {
        assertThat(render("\u001b[31mred\u001b[0m\tx\r\n")).isEqualTo("red\tx\n");
    }

    @Test
    void eraseLineAndCursorMovesApply() {
        assertThat(render("abcdef\u001b[3D\u001b[K!\r\n")).isEqualTo("abc!\n");
        assertThat(render("one\r\ntwo\r\n\u001b[2A\u001b[2Kuno\r\n")).isEqualTo("uno\ntwo\n");
    }

    @Test
    void multiByteCharactersSplitAcrossWritesSurvive() {
        byte[] euro = "€\n".getBytes(StandardCharsets.UTF_8);
        TerminalRenderer r = new TerminalRenderer();
        r.write(euro, 0, 1);
        r.write(euro, 1, euro.length - 1);
        assertThat(new String(r.flushAll().getFirst(), StandardCharsets.UTF_8)).isEqualTo("€\n");
    }

    @Test
    void aLongUnfinishedLineIsEmittedInBoundedPieces() {
        TerminalRenderer r = new TerminalRenderer();
        byte[] chunk = "x".repeat(40_000).getBytes(StandardCharsets.UTF_8);
        r.write(chunk, 0, chunk.length);
        var batches = r.flushCompleted();
        assertThat(batches).hasSize(1);
        assertThat(batches.getFirst().length).isLessThanOrEqualTo(TerminalRenderer.MAX_BATCH);
        assertThat(new String(batches.getFirst(), StandardCharsets.UTF_8)).doesNotContain("\n");
    }
}
