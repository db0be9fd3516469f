package ai.dstack.agent.spi;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The outcome of running a vendor tool.
 *
 * @param exitCode  process exit code; -1 when it did not run or was killed
 * @param stdout    standard output
 * @param stderr    standard error
 * @param notFound  the executable is not on {@code PATH} (or could not be started)
 * @param timedOut  the run was killed at its timeout
 */
public record ToolResult(int exitCode, String stdout, String stderr, boolean notFound, boolean timedOut) {
    public ToolResult {
        stdout = stdout == null ? "" : stdout;
        stderr = stderr == null ? "" : stderr;
    }

    /** Ran to completion with exit code 0. */
    public boolean ok() {
        return !notFound && !timedOut && exitCode == 0;
    }

    /** Ran to completion (whatever its exit code): not missing, not killed. */
    public boolean ran() {
        return !notFound && !timedOut;
    }

    /** A short description of what went wrong, for logs and error fields. */
    public String describe(String command) {
        if (notFound) return command + ": not found on PATH";
        if (timedOut) return command + ": timed out";
        String err = stderr.strip();
        return command + ": exit code " + exitCode + (err.isEmpty() ? "" : ": " + err);
    }

    /**
     * Standard output as comma-separated records of exactly {@code fields} trimmed fields (blank lines
     * skipped), stopping at the first record of another width, as {@code nvidia-smi}/{@code hl-smi}
     * {@code --format=csv,noheader,nounits} print them.
     */
    public CsvRecords csv(int fields) {
        List<List<String>> records = new ArrayList<>();
        String[] lines = stdout.split("\n");
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i].strip();
            if (line.isEmpty()) {
                continue;
            }
            String[] parts = line.split(",", -1);
            if (parts.length != fields) {
                return new CsvRecords(records, "line " + (i + 1) + " has " + parts.length + " fields, expected " + fields + ": " + line);
            }
            records.add(Arrays.stream(parts).map(String::strip).toList());
        }
        return new CsvRecords(records, null);
    }

    /**
     * Parsed CSV output.
     *
     * @param records the well-formed records before the first bad one
     * @param error   what was wrong with the first bad record, null when there was none
     */
    public record CsvRecords(List<List<String>> records, String error) {
        public CsvRecords {
            records = List.copyOf(records);
        }
    }
}
