package ai.dstack.runner;

import ai.dstack.runner.logs.RunnerLog;
import java.util.ArrayList;
import java.util.List;

/**
 * The command line (docs/runner.md §1.1): {@code dstack-runner [--log-level L] start [flags]};
 * the global flag is accepted before or after {@code start}.
 *
 * @param action          what to do: start, version or help
 * @param logLevel        verbosity of the runner's own logs
 * @param tempDir         runtime dir for logs and uploads
 * @param httpAddress     bind address, "" = all interfaces
 * @param httpPort        API port
 * @param sshPort         port of the sshd the runner starts
 * @param authorizedKeys  one public key line per {@code --ssh-authorized-key} (never split on commas)
 * @param sshLogLevel     sshd's {@code LogLevel}
 */
public record RunnerOptions(Action action, RunnerLog.Level logLevel, String tempDir, String httpAddress, int httpPort,
                            int sshPort, List<String> authorizedKeys, String sshLogLevel) {
    /** What the command line asks for. */
    public enum Action { START, VERSION, HELP }

    /** A command-line error (→ exit 1). */
    public static final class UsageException extends Exception {
        public UsageException(String message) {
            super(message);
        }
    }

    public static final String USAGE = """
            Usage: dstack-runner [--log-level LEVEL] start [flags]
              --log-level LEVEL             fatal|error|warn|info|debug|trace or 1-6 (default info)
              --version, -v                 print the version and exit
            start flags:
              --temp-dir PATH               runtime dir for logs and uploads (default /tmp/runner)
              --http-address HOST           HTTP bind address (default: all interfaces)
              --http-port PORT              HTTP API port (default 10999)
              --ssh-port PORT               sshd port (default 10022)
              --ssh-authorized-key KEY      public key for sshd (repeatable)
              --ssh-log-level LEVEL         sshd LogLevel (default INFO)
            """;

    public static RunnerOptions parse(String[] args) throws UsageException {
        Action action = null;
        RunnerLog.Level level = RunnerLog.Level.INFO;
        String tempDir = "/tmp/runner";
        String address = "";
        int httpPort = 10999;
        int sshPort = 10022;
        List<String> keys = new ArrayList<>();
        String sshLogLevel = "INFO";
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            String name = arg;
            String inline = null;
            int eq = arg.indexOf('=');
            if (arg.startsWith("--") && eq > 0) {
                name = arg.substring(0, eq);
                inline = arg.substring(eq + 1);
            }
            switch (name) {
                case "--version", "-v" -> {
                    return new RunnerOptions(Action.VERSION, level, tempDir, address, httpPort, sshPort, keys, sshLogLevel);
                }
                case "--help", "-h" -> {
                    return new RunnerOptions(Action.HELP, level, tempDir, address, httpPort, sshPort, keys, sshLogLevel);
                }
                case "start" -> {
                    if (action != null) {
                        throw new UsageException("unexpected argument: start");
                    }
                    action = Action.START;
                }
                case "--log-level" -> {
                    String v = inline != null ? inline : value(args, ++i, name);
                    level = RunnerLog.parseLevel(v);
                    if (level == null) {
                        throw new UsageException("invalid log level: " + v);
                    }
                }
                case "--temp-dir", "--http-address", "--http-port", "--ssh-port", "--ssh-authorized-key",
                     "--ssh-log-level", "--home-dir" -> {
                    if (action != Action.START) {
                        throw new UsageException("unknown flag before the start command: " + name);
                    }
                    String v = inline != null ? inline : value(args, ++i, name);
                    switch (name) {
                        case "--temp-dir" -> tempDir = v;
                        case "--http-address" -> address = v;
                        case "--http-port" -> httpPort = port(v, name);
                        case "--ssh-port" -> sshPort = port(v, name);
                        case "--ssh-authorized-key" -> keys.add(v);
                        case "--ssh-log-level" -> sshLogLevel = v;
                        default -> { } // --home-dir: accepted for old shims, ignored
                    }
                }
                default -> throw new UsageException("unknown argument: " + arg);
            }
        }
        return new RunnerOptions(action == null ? Action.HELP : action, level, tempDir, address, httpPort, sshPort,
                List.copyOf(keys), sshLogLevel);
    }

    private static String value(String[] args, int i, String flag) throws UsageException {
        if (i >= args.length) {
            throw new UsageException("flag needs an argument: " + flag);
        }
        return args[i];
    }

    private static int port(String value, String flag) throws UsageException {
        try {
            int p = Integer.parseInt(value);
            if (p < 0 || p > 65535) {
                throw new NumberFormatException();
            }
            return p;
        } catch (NumberFormatException e) {
            throw new UsageException("invalid " + flag + ": " + value);
        }
    }
}
