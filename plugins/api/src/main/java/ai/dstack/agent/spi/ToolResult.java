package ai.dstack.agent.spi;

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
    /** Ran to completion with exit code 0. */
    public boolean ok() {
        return !notFound && !timedOut && exitCode == 0;
    }

    /** A short description of what went wrong, for logs and error fields. */
    public String describe(String command) {
        if (notFound) return command + ": not found on PATH";
        if (timedOut) return command + ": timed out";
        String err = stderr == null ? "" : stderr.strip();
        return command + ": exit code " + exitCode + (err.isEmpty() ? "" : ": " + err);
    }
}
