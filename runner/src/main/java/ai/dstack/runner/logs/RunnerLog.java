package ai.dstack.runner.logs;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;

/**
 * A line logger in logrus' text shape ({@code time=… level=… msg=…}) writing to stdout and
 * files. The process logger writes {@code default.log}; a job logger additionally feeds the
 * {@code runner_logs} history (control characters other than TAB stripped).
 */
public final class RunnerLog {
    /** Verbosity, most severe first; the digit form 1–6 maps onto the same order. */
    public enum Level { FATAL, ERROR, WARN, INFO, DEBUG, TRACE }

    private final Level threshold;
    private final PrintStream stdout;
    private final List<OutputStream> files = new ArrayList<>();
    private final Consumer<String> stream;

    private RunnerLog(Level threshold, PrintStream stdout, Consumer<String> stream) {
        this.threshold = threshold;
        this.stdout = stdout;
        this.stream = stream;
    }

    /** The process logger: stdout and {@code file} (appended, 0644). */
    public static RunnerLog open(Level threshold, Path file) throws IOException {
        RunnerLog log = new RunnerLog(threshold, System.out, null);
        log.files.add(openAppend(file));
        return log;
    }

    /** A job logger: stdout, {@code file} and the {@code runner_logs} stream of {@code book}. */
    public RunnerLog forJob(Path file, LogBook book) throws IOException {
        RunnerLog log = new RunnerLog(threshold, stdout, line -> book.appendRunnerLog(strip(line)));
        log.files.add(openAppend(file));
        return log;
    }

    private static OutputStream openAppend(Path file) throws IOException {
        return Files.newOutputStream(file, StandardOpenOption.CREATE, StandardOpenOption.APPEND,
                StandardOpenOption.WRITE);
    }

    /** Parses {@code fatal…trace}, {@code warning} or a digit 1–6; null when invalid. */
    public static Level parseLevel(String value) {
        String v = value.toLowerCase(Locale.ROOT);
        if (v.length() == 1 && v.charAt(0) >= '1' && v.charAt(0) <= '6') {
            return Level.values()[v.charAt(0) - '1'];
        }
        return switch (v) {
            case "fatal" -> Level.FATAL;
            case "error" -> Level.ERROR;
            case "warn", "warning" -> Level.WARN;
            case "info" -> Level.INFO;
            case "debug" -> Level.DEBUG;
            case "trace" -> Level.TRACE;
            default -> null;
        };
    }

    public boolean enabled(Level level) {
        return level.ordinal() <= threshold.ordinal();
    }

    public void error(String msg) {
        log(Level.ERROR, msg);
    }

    public void warn(String msg) {
        log(Level.WARN, msg);
    }

    public void info(String msg) {
        log(Level.INFO, msg);
    }

    public void debug(String msg) {
        log(Level.DEBUG, msg);
    }

    public synchronized void log(Level level, String msg) {
        if (!enabled(level)) {
            return;
        }
        String line = "time=" + Instant.now().truncatedTo(ChronoUnit.MICROS) + " level="
                + level.name().toLowerCase(Locale.ROOT) + " msg=" + msg + "\n";
        stdout.print(line);
        stdout.flush();
        byte[] bytes = line.getBytes(StandardCharsets.UTF_8);
        for (OutputStream file : files) {
            try {
                file.write(bytes);
                file.flush();
            } catch (IOException ignored) {
                // stdout still has it
            }
        }
        if (stream != null) {
            stream.accept(line);
        }
    }

    /** Closes the files of a job logger (the process logger lives as long as the process). */
    public synchronized void close() {
        for (OutputStream file : files) {
            try {
                file.close();
            } catch (IOException ignored) {
                // nothing to keep
            }
        }
        files.clear();
    }

    private static byte[] strip(String line) {
        StringBuilder out = new StringBuilder(line.length());
        for (int i = 0; i < line.length(); i++) {
            char c = line.charAt(i);
            if (c >= 0x20 || c == '\t' || c == '\n') {
                out.append(c);
            }
        }
        return out.toString().getBytes(StandardCharsets.UTF_8);
    }
}
