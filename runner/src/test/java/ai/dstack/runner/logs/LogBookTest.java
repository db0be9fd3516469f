package ai.dstack.runner.logs;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LogBookTest {
    @TempDir
    Path dir;

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void timestampsAreStrictlyIncreasingAcrossStreams() {
        try (LogBook book = new LogBook(dir)) {
            for (int i = 0; i < 3000; i++) {
                book.appendJobLog(bytes("j" + i));
                book.appendRunnerLog(bytes("r" + i));
            }
            LogBook.Page page = book.pull(0, Long.MAX_VALUE);
            long last = 0;
            for (int i = 0; i < page.jobLogs().size(); i++) {
                assertThat(page.jobLogs().get(i).timestamp()).isGreaterThan(last);
                assertThat(page.runnerLogs().get(i).timestamp()).isGreaterThan(page.jobLogs().get(i).timestamp());
                last = page.runnerLogs().get(i).timestamp();
            }
            assertThat(page.jobLogs()).hasSize(3000);
        }
    }

    @Test
    void cappedPullsReturnEveryEventExactlyOnceAndInOrder() {
        try (LogBook book = new LogBook(dir)) {
            book.recordState("running", "", "", null);
            for (int i = 0; i < 500; i++) {
                book.appendJobLog(bytes("line " + i + "\n"));
                if (i % 7 == 0) {
                    book.appendRunnerLog(bytes("runner " + i + "\n"));
                }
            }
            book.recordState("done", "", "", 0);
            book.markFinished();
            StringBuilder job = new StringBuilder();
            int states = 0;
            int runner = 0;
            long ts = 0;
            int pulls = 0;
            while (true) {
                LogBook.Page page = book.pull(ts, 600);
                pulls++;
                page.jobLogs().forEach(e -> job.append(new String(e.message(), StandardCharsets.UTF_8)));
                states += page.jobStates().size();
                runner += page.runnerLogs().size();
                assertThat(page.lastUpdated()).isGreaterThanOrEqualTo(ts);
                ts = page.lastUpdated();
                if (!page.hasMore()) {
                    break;
                }
            }
            StringBuilder expected = new StringBuilder();
            for (int i = 0; i < 500; i++) {
                expected.append("line ").append(i).append('\n');
            }
            assertThat(job.toString()).isEqualTo(expected.toString());
            assertThat(states).isEqualTo(2);
            assertThat(runner).isEqualTo(72);
            assertThat(pulls).isGreaterThan(10);
        }
    }

    @Test
    void hasMoreStaysTrueUntilFinishedAndTheBarrierIsIdempotent() throws InterruptedException {
        try (LogBook book = new LogBook(dir)) {
            book.recordState("done", "", "", 0);
            assertThat(book.pull(0, 1 << 20).hasMore()).isTrue();
            assertThat(book.awaitFinalPull(0)).isFalse();
            book.markFinished();
            assertThat(book.pull(0, 1 << 20).hasMore()).isFalse();
            assertThat(book.pull(0, 1 << 20).hasMore()).as("a second final pull answers normally").isFalse();
            assertThat(book.awaitFinalPull(0)).isTrue();
        }
    }
    @Test
    void terminalBlocksJoinIntoLargeEventsThatReadersSeeOnceSealed() {
        try (LogBook book = new LogBook(dir)) {
            java.io.ByteArrayOutputStream written = new java.io.ByteArrayOutputStream();
            for (int i = 0; i < 600; i++) {
                byte[] block = bytes(String.format("block %05d %s%n", i, "z".repeat(i % 300)));
                long at = book.appendTerminal(block, block.length);
                assertThat(at).as("where the block starts in the terminal file").isEqualTo(written.size());
                written.writeBytes(block);
            }
            book.sealTerminal();
            EventLog terminal = book.terminal();
            java.io.ByteArrayOutputStream read = new java.io.ByteArrayOutputStream();
            long last = 0;
            for (int i = 0; i < terminal.size(); i++) {
                EventLog.Event e = terminal.read(i);
                assertThat(e.message().length).isLessThanOrEqualTo(LogBook.TERMINAL_JOIN_BYTES);
                assertThat(e.timestamp()).isGreaterThan(last);
                last = e.timestamp();
                read.writeBytes(e.message());
            }
            assertThat(read.toByteArray()).isEqualTo(written.toByteArray());
            assertThat(terminal.size()).as("events, for 600 blocks").isLessThan(600);
            byte[] more = bytes("after the seal\n");
            book.appendTerminal(more, more.length);
            int sealed = terminal.size();
            book.markShuttingDown();
            assertThat(terminal.size()).as("shutting down seals what is open").isEqualTo(sealed + 1);
        }
    }
}
