package ai.dstack.runner.logs;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Plain lines skip the renderer and are stored as references into the raw stream: what the job
 * logs say must be exactly what the renderer alone makes of the same bytes, wherever the pty's
 * blocks split a line, a CR-LF pair, a UTF-8 sequence or an escape sequence.
 */
class JobOutputTest {
    private static final String ESC = "\u001b";

    @TempDir
    Path dir;

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /** What the renderer alone stores for {@code input} (no flush before the end). */
    private static String rendered(byte[] input) {
        TerminalRenderer r = new TerminalRenderer();
        r.write(input, 0, input.length);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        r.flushAll().forEach(out::writeBytes);
        return out.toString(StandardCharsets.UTF_8);
    }

    /** Feeds {@code input} to a JobOutput in blocks cut at {@code cuts}; returns the job logs and the book. */
    private String throughJobOutput(LogBook book, byte[] input, List<Integer> cuts) {
        JobOutput out = new JobOutput(book, LogQuota.unlimited(), () -> { });
        int from = 0;
        for (int cut : cuts) {
            feed(out, input, from, cut);
            from = cut;
        }
        feed(out, input, from, input.length);
        out.finish();
        ByteArrayOutputStream logs = new ByteArrayOutputStream();
        book.pull(0, Long.MAX_VALUE).jobLogs().forEach(e -> {
            assertThat(e.message().length).as("one job-log event").isLessThanOrEqualTo(TerminalRenderer.MAX_BATCH);
            logs.writeBytes(e.message());
        });
        return logs.toString(StandardCharsets.UTF_8);
    }

    private static void feed(JobOutput out, byte[] input, int from, int to) {
        if (to > from) {
            byte[] block = new byte[64 * 1024]; // the pump reuses one buffer
            System.arraycopy(input, from, block, 0, to - from);
            out.accept(block, to - from);
        }
    }

    /**
     * Each sample ends the output, so a plain run it opens is stored at the end rather than
     * handed back to the renderer by a later non-plain byte.
     */
    private static final List<byte[]> SAMPLES = List.of(
            utf8("plain\r\nlines\r\n\r\nwith a blank one\r\n"),
            utf8("bare LF\nand CR-LF\r\nmixed\n"),
            utf8("unfinished last line"),
            utf8("tabs\tstay\t\r\n"),
            utf8("trailing spaces go   \r\nnext\r\n  \r\n"),
            utf8("€uro ✓ 𝄞 ünïcödé\r\n€€€\r\n"),
            utf8("10%\r50%\r100%\r\ndone\r\n"),
            utf8("a\r\nb\r\nc\r\n" + ESC + "[2A" + ESC + "[2KB\r\n\r\n"),
            utf8("one\r\ntwo\r\n" + ESC + "[1A" + ESC + "[K2\r\n"),
            utf8(ESC + "[31mred" + ESC + "[0m\tx\r\nplain after colour\r\n"),
            utf8("cr\r\rcr\r\n"),
            utf8("back\bspace\r\n"),
            utf8("nul\u0000byte\r\n"),
            utf8("del\u007fete\r\n"),
            utf8(ESC + "]0;title\u0007rest\r\n"),
            utf8("x".repeat(PlainLines.MAX_LINE + 5) + "\r\nafter a long line\r\n"),
            utf8("z".repeat(TerminalRenderer.MAX_BATCH + 5) + "\r\nafter a very long line\r\n"),
            bytes("stray ", 0xff, " byte\r\nok\r\n"),
            bytes("surrogate ", 0xed, 0xa0, 0x80, "\r\nok\r\n"),
            bytes("truncated ", 0xe2, 0x82, " x\r\nok\r\n"),
            bytes("overlong ", 0xc0, 0xaf, "\r\nok\r\n"),
            bytes("overlong3 ", 0xe0, 0x80, 0xaf, "\r\nok\r\n"),
            bytes("overlong4 ", 0xf0, 0x80, 0x80, 0xaf, "\r\nok\r\n"),
            bytes("beyond U+10FFFF ", 0xf4, 0x90, 0x80, 0x80, "\r\nok\r\n"),
            bytes("continuation ", 0x80, " without lead\r\nok\r\n"),
            bytes("no such lead ", 0xf8, "\r\nok\r\n"),
            bytes("C1 control ", 0xc2, 0x85, " and U+FEFF ", 0xef, 0xbb, 0xbf, "\r\nok\r\n"));

    /** Strings as UTF-8 and ints as single raw bytes, concatenated. */
    private static byte[] bytes(Object... parts) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        for (Object p : parts) {
            if (p instanceof String s) {
                b.writeBytes(utf8(s));
            } else {
                b.write((Integer) p);
            }
        }
        return b.toByteArray();
    }

    @Test
    void jobLogsEqualTheRenderersOutputForEveryWayTheBlocksAreCut() {
        Random random = new Random(16);
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        SAMPLES.forEach(all::writeBytes);
        List<byte[]> inputs = new ArrayList<>(SAMPLES);
        inputs.add(all.toByteArray());
        int round = 0;
        for (byte[] input : inputs) {
            String expected = rendered(input);
            String name = new String(input, 0, Math.min(20, input.length), StandardCharsets.UTF_8);
            for (int cut = 0; cut <= Math.min(input.length, 120); cut++) {
                try (LogBook book = new LogBook(dir.resolve("one-cut-" + round++))) {
                    assertThat(throughJobOutput(book, input, List.of(cut))).as("%s… cut at %d", name, cut).isEqualTo(expected);
                }
            }
            for (int n = 0; n < 20; n++) {
                List<Integer> cuts = new ArrayList<>();
                for (int at = random.nextInt(7) + 1; at < input.length; at += random.nextInt(9) + 1) {
                    cuts.add(at);
                }
                try (LogBook book = new LogBook(dir.resolve("random-" + round++))) {
                    assertThat(throughJobOutput(book, input, cuts)).as("%s… cut at %s", name, cuts).isEqualTo(expected);
                }
            }
        }
    }

    @Test
    void plainLinesAreStoredAsReferencesIntoTheRawStreamNotCopied() throws IOException {
        StringBuilder text = new StringBuilder();
        StringBuilder expected = new StringBuilder();
        for (int i = 0; i < 20_000; i++) {
            String line = String.format("%09d %s", i, "y".repeat(100 + i % 17));
            text.append(line).append("\r\n");
            expected.append(line).append('\n');
        }
        byte[] input = utf8(text.toString());
        List<Integer> cuts = new ArrayList<>();
        for (int at = 4095; at < input.length; at += 4095) {
            cuts.add(at);
        }
        try (LogBook book = new LogBook(dir)) {
            assertThat(throughJobOutput(book, input, cuts)).isEqualTo(expected.toString());
            assertThat(Files.size(dir.resolve("terminal.events"))).isEqualTo(input.length);
            assertThat(Files.size(dir.resolve("job_logs.events"))).as("plain lines need no copy").isZero();
            LogBook.Page page = book.pull(0, Long.MAX_VALUE);
            assertThat(page.jobLogs()).allSatisfy(e -> {
                assertThat(e.message().length).isLessThanOrEqualTo(TerminalRenderer.MAX_BATCH);
                assertThat(e.message()[e.message().length - 1]).as("pieces end at a line end").isEqualTo((byte) '\n');
            });
        }
    }

    @Test
    void theQuotaCountsRenderedBytesOfPlainLines() {
        byte[] input = utf8("0123456789\r\n".repeat(10_000)); // 110 000 rendered bytes
        boolean[] exceeded = new boolean[1];
        try (LogBook book = new LogBook(dir)) {
            JobOutput out = new JobOutput(book, new LogQuota(100_000, System.currentTimeMillis()), () -> exceeded[0] = true);
            out.accept(input, input.length);
            out.finish();
            long stored = book.pull(0, Long.MAX_VALUE).jobLogs().stream().mapToLong(e -> e.message().length).sum();
            assertThat(exceeded[0]).isTrue();
            assertThat(out.quotaExceeded()).isTrue();
            assertThat(stored).isLessThanOrEqualTo(100_000).isGreaterThan(60_000);
        }
    }
}
