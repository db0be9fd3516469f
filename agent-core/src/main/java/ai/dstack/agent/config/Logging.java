package ai.dstack.agent.config;

import java.io.FileOutputStream;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.logging.ConsoleHandler;
import java.util.logging.Formatter;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.logging.StreamHandler;

/** Logs to stderr and appends to {@code <home>/shim.log} (0644), one line per record (docs/shim.md §1.2). */
public final class Logging {
    private Logging() {
    }

    public static void setup(Path logFile, LogLevel level) throws IOException {
        Files.createDirectories(logFile.getParent());
        if (!Files.exists(logFile)) {
            Files.createFile(logFile, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-r--r--")));
        }
        Logger root = Logger.getLogger("");
        for (Handler h : root.getHandlers()) {
            root.removeHandler(h);
        }
        Formatter format = new LineFormat();
        Handler console = new ConsoleHandler();
        // A plain appending stream: FileHandler would leave a shim.log.lck beside the log.
        Handler file = new StreamHandler(new FileOutputStream(logFile.toFile(), true), format) {
            @Override
            public synchronized void publish(LogRecord r) {
                super.publish(r);
                flush();
            }
        };
        for (Handler h : new Handler[] {console, file}) {
            h.setFormatter(format);
            h.setLevel(level.julLevel());
            root.addHandler(h);
        }
        root.setLevel(level.julLevel());
        // Libraries chatter at INFO about connections; keep them to warnings unless tracing.
        Level libraries = level.julLevel().intValue() <= Level.FINEST.intValue() ? Level.FINEST : Level.WARNING;
        Logger.getLogger("io.helidon").setLevel(libraries);
        Logger.getLogger("com.github.dockerjava").setLevel(libraries);
    }

    private static final class LineFormat extends Formatter {
        @Override
        public String format(LogRecord r) {
            StringBuilder line = new StringBuilder()
                    .append(Instant.ofEpochMilli(r.getMillis())).append(' ')
                    .append(r.getLevel().getName()).append(' ')
                    .append(formatMessage(r)).append('\n');
            if (r.getThrown() != null) {
                StringWriter trace = new StringWriter();
                r.getThrown().printStackTrace(new PrintWriter(trace));
                line.append(trace);
            }
            return line.toString();
        }
    }
}
