package ai.dstack.agent.config;

import java.util.Locale;
import java.util.logging.Level;

/** The log levels the Go shim and runner accept (docs/shim.md §1.2), mapped onto java.util.logging. */
public enum LogLevel {
    FATAL(Level.SEVERE), ERROR(Level.SEVERE), WARNING(Level.WARNING), INFO(Level.INFO), DEBUG(Level.FINE),
    TRACE(Level.FINEST);

    private final Level julLevel;

    LogLevel(Level julLevel) {
        this.julLevel = julLevel;
    }

    public Level julLevel() {
        return julLevel;
    }

    /** Parses a level name (any case) or a digit 1–6. */
    public static LogLevel parse(String value) throws ConfigException {
        String v = value == null ? "" : value.toLowerCase(Locale.ROOT);
        return switch (v) {
            case "fatal", "1" -> FATAL;
            case "error", "2" -> ERROR;
            case "warn", "warning", "3" -> WARNING;
            case "info", "4" -> INFO;
            case "debug", "5" -> DEBUG;
            case "trace", "6" -> TRACE;
            default -> throw new ConfigException("invalid log level: " + value);
        };
    }
}
