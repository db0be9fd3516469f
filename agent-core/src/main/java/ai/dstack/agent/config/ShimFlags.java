package ai.dstack.agent.config;

import ai.dstack.agent.config.FlagSpec.Kind;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The shim's one configuration table: its flags and their environment variables, parsed as the Go
 * shim does: {@code -flag}, {@code --flag}, {@code --flag=value}, {@code --flag value} (bool flags take
 * no separate value); a flag wins over its env var, the current env var over an earlier name; booleans
 * accept only Go's {@code strconv.ParseBool} spellings. Read once at start; plugins' declared settings
 * are read by {@link #readDeclared} the same way.
 */
public final class ShimFlags {
    /** Every core setting, in the order the README lists them; plugins' settings are added after these. */
    public static final List<FlagSpec> ALL = List.of(
            new FlagSpec("shim-home", "DSTACK_SHIM_HOME", Kind.STRING, "$HOME/.dstack", "Home directory (logs, task files, runner dirs, host_info.json)"),
            new FlagSpec("shim-binary-path", "DSTACK_SHIM_BINARY_PATH", Kind.STRING, "/usr/local/bin/dstack-shim", "Path of the dstack-shim component (the launcher; bin/dstack-shim exports its own path)"),
            new FlagSpec("shim-http-port", "DSTACK_SHIM_HTTP_PORT", Kind.PORT, "10998", "API port (loopback only)"),
            new FlagSpec("shim-log-level", "DSTACK_SHIM_LOG_LEVEL", Kind.STRING, "info", "Log level: fatal, error, warn, info, debug, trace or 1-6"),
            new FlagSpec("runner-download-url", "DSTACK_RUNNER_DOWNLOAD_URL", Kind.STRING, "", "Download the runner from here at startup when the runner binary is absent"),
            new FlagSpec("runner-binary-path", "DSTACK_RUNNER_BINARY_PATH", Kind.STRING, "/usr/local/bin/dstack-runner", "Host path of the runner binary"),
            new FlagSpec("runner-runtime-dir", "DSTACK_RUNNER_RUNTIME_DIR", Kind.STRING, "", "Java runner runtime directory mounted read-only at /opt/dstack-runner (bin/dstack-shim sets the source tree's)"),
            new FlagSpec("runner-http-port", "DSTACK_RUNNER_HTTP_PORT", Kind.PORT, "10999", "Runner API port inside the container"),
            new FlagSpec("runner-ssh-port", "DSTACK_RUNNER_SSH_PORT", Kind.PORT, "10022", "Runner sshd port inside the container"),
            new FlagSpec("runner-ssh-log-level", "DSTACK_RUNNER_SSH_LOG_LEVEL", Kind.STRING, "", "Forwarded to the runner's --ssh-log-level (omitted when empty)"),
            new FlagSpec("runner-log-level", "DSTACK_RUNNER_LOG_LEVEL", Kind.STRING, "info", "Forwarded to the runner's --log-level; validated at startup"),
            new FlagSpec("dcgm-exporter-http-port", "DSTACK_DCGM_EXPORTER_HTTP_PORT", Kind.PORT, "10997", "Port of the spawned dcgm-exporter"),
            new FlagSpec("dcgm-exporter-interval-ms", "DSTACK_DCGM_EXPORTER_INTERVAL_MS", Kind.MILLIS, "5000", "dcgm-exporter collect interval (also the Go shim's --dcgm-exporter-interval, DSTACK_DCGM_EXPORTER_INTERVAL)")
                    .formerly("dcgm-exporter-interval", "DSTACK_DCGM_EXPORTER_INTERVAL"),
            new FlagSpec("dcgm-address", "DSTACK_DCGM_ADDRESS", Kind.STRING, "", "nv-hostengine address (empty: embedded)"),
            new FlagSpec("pass-env", "DSTACK_DOCKER_PASS_ENV", Kind.STRING, "http_proxy,https_proxy,no_proxy,HTTP_PROXY,HTTPS_PROXY,NO_PROXY", "Comma-separated names of shim env vars copied into every container"),
            new FlagSpec("privileged", "DSTACK_DOCKER_PRIVILEGED", Kind.BOOL, "false", "Run every container privileged"),
            new FlagSpec("pjrt-device", "PJRT_DEVICE", Kind.STRING, "", "Set PJRT_DEVICE=<value> in containers (GCP TPU: TPU)"),
            new FlagSpec("service", "DSTACK_SERVICE_MODE", Kind.BOOL, "false", "Write host_info.json at startup"),
            new FlagSpec("api-peer-check", "DSTACK_SHIM_API_PEER_CHECK", Kind.BOOL, "true", "Refuse the API (403) to processes of task containers (host-network jobs share the host's loopback)"),
            new FlagSpec("plugins-dir", "DSTACK_SHIM_PLUGINS_DIR", Kind.STRING, "", "Folder of plugin zips (default: the install's plugins/, in the source tree plugins/target/plugins)"),
            new FlagSpec("plugins", "DSTACK_SHIM_PLUGINS", Kind.STRING, "", "Comma-separated plugin ids to load (default: all in the plugins folder)"),
            new FlagSpec("host-root", "DSTACK_SHIM_HOST_ROOT", Kind.STRING, "/", "Where plugins read host paths (/dev, /sys) from; tools and Docker still get the logical paths"),
            new FlagSpec("tool-timeout-ms", "DSTACK_SHIM_TOOL_TIMEOUT_MS", Kind.MILLIS, "120000", "Longest a vendor tool may run before it is killed with its children (formerly DSTACK_SHIM_TOOL_TIMEOUT)")
                    .formerly("DSTACK_SHIM_TOOL_TIMEOUT"),
            new FlagSpec("fingerprint-interval-ms", "DSTACK_SHIM_FINGERPRINT_INTERVAL_MS", Kind.MILLIS, "60000", "How often devices are looked for again; 0: only at start (formerly DSTACK_SHIM_FINGERPRINT_INTERVAL)")
                    .formerly("DSTACK_SHIM_FINGERPRINT_INTERVAL"),
            new FlagSpec("pull-deadline-ms", "DSTACK_SHIM_PULL_DEADLINE_MS", Kind.MILLIS, "0", "Longest an image pull may take in all (0: no limit; pulls fail on a stall instead)"),
            new FlagSpec("pull-stall-ms", "DSTACK_SHIM_PULL_STALL_MS", Kind.MILLIS, "300000", "A pull fails when no layer has made progress for this long"),
            new FlagSpec("sync-stop-limit-ms", "DSTACK_SHIM_SYNC_STOP_LIMIT_MS", Kind.MILLIS, "5000", "A terminate whose grace is at most this stops the container inside the request; longer ones reply at once"),
            new FlagSpec("remove-wait-ms", "DSTACK_SHIM_REMOVE_WAIT_MS", Kind.MILLIS, "5000", "How long a remove waits for a stopping task before 409 'still stopping'"),
            new FlagSpec("component-install-timeout-ms", "DSTACK_SHIM_COMPONENT_INSTALL_TIMEOUT_MS", Kind.MILLIS, "600000", "Longest a component download may take"),
            new FlagSpec("shutdown-grace-ms", "DSTACK_SHIM_SHUTDOWN_GRACE_MS", Kind.MILLIS, "5000", "Grace for in-flight requests and jobs at shutdown"),
            new FlagSpec("memory-trim-interval-ms", "DSTACK_SHIM_MEMORY_TRIM_INTERVAL_MS", Kind.MILLIS, "30000", "How often heap freed by past work is given back to the system (a full GC, only after the heap was used); 0: never"),
            new FlagSpec("docker-call-timeout-ms", "DSTACK_SHIM_DOCKER_CALL_TIMEOUT_MS", Kind.MILLIS, "120000", "Longest one ordinary engine call (create, start, inspect, …) may take"),
            new FlagSpec("health-interval-ms", "DSTACK_SHIM_HEALTH_INTERVAL_MS", Kind.MILLIS, "60000", "How often device health is checked in the background; the health endpoint answers from the last check"),
            new FlagSpec("engine-retry-ms", "DSTACK_SHIM_ENGINE_RETRY_MS", Kind.MILLIS, "2000", "How often an unreachable Docker engine is asked again"),
            new FlagSpec("docker-host", "DOCKER_HOST", Kind.STRING, "unix:///var/run/docker.sock", "Docker engine endpoint").envOnly());

    /** Core settings plugins may read by name ({@code HostContext.setting}): the Go shim's DCGM flags. */
    public static final List<String> PASSED_TO_PLUGINS = List.of("dcgm-exporter-http-port", "dcgm-exporter-interval-ms",
            "dcgm-address");

    private static final Set<String> TRUE = Set.of("1", "t", "T", "true", "TRUE", "True");
    private static final Set<String> FALSE = Set.of("0", "f", "F", "false", "FALSE", "False");

    private ShimFlags() {
    }

    /** Parses {@code args} (without subcommand) and {@code env} into a configuration. */
    public static ShimConfig parse(List<String> args, Map<String, String> env) throws ConfigException {
        Map<String, FlagSpec> byFlag = new HashMap<>();
        for (FlagSpec f : ALL) {
            if (f.flag()) {
                byFlag.put(f.name(), f);
                f.oldFlags().forEach(old -> byFlag.put(old, f));
            }
        }
        Map<String, Given> given = fromEnv(ALL, env);
        for (int i = 0; i < args.size(); i++) {
            String arg = args.get(i);
            if (arg.equals("--") || !arg.startsWith("-") || arg.equals("-")) {
                throw new ConfigException("unexpected argument: " + arg);
            }
            String body = arg.startsWith("--") ? arg.substring(2) : arg.substring(1);
            int eq = body.indexOf('=');
            String name = eq < 0 ? body : body.substring(0, eq);
            FlagSpec f = byFlag.get(name);
            if (f == null) {
                throw new ConfigException("flag provided but not defined: -" + name);
            }
            String value;
            if (eq >= 0) {
                value = body.substring(eq + 1);
            } else if (f.kind() == Kind.BOOL) {
                value = "true";
            } else if (i + 1 < args.size()) {
                value = args.get(++i);
            } else {
                throw new ConfigException("flag needs an argument: -" + name);
            }
            given.put(f.name(), new Given(value, "flag -" + name));
        }
        return build(new Values(resolve(ALL, given), env));
    }

    /**
     * Reads settings that plugins declared (environment only) from the same environment, with the same
     * parsing and checks as the core's; returns each one's value (or default) by name.
     */
    public static Map<String, String> readDeclared(List<FlagSpec> declared, Map<String, String> env) throws ConfigException {
        return resolve(declared, fromEnv(declared, env));
    }

    /** A value and where it came from (a flag or an environment variable), for error messages. */
    private record Given(String value, String source) {
    }

    /** The values the environment gives, by setting name: the current variable, else the first earlier name set. */
    private static Map<String, Given> fromEnv(List<FlagSpec> specs, Map<String, String> env) {
        Map<String, Given> values = new LinkedHashMap<>();
        for (FlagSpec f : specs) {
            List<String> names = new ArrayList<>();
            names.add(f.env());
            names.addAll(f.oldEnv());
            for (String name : names) {
                String fromEnv = env.get(name);
                if (fromEnv != null && (!fromEnv.isEmpty() || f.kind() == Kind.BOOL)) {
                    values.put(f.name(), new Given(fromEnv, name));
                    break;
                }
            }
        }
        return values;
    }

    /** Every setting's value (given, else its default), each checked against its kind. */
    private static Map<String, String> resolve(List<FlagSpec> specs, Map<String, Given> given) throws ConfigException {
        Map<String, String> values = new LinkedHashMap<>();
        for (FlagSpec f : specs) {
            Given g = given.getOrDefault(f.name(), new Given(f.defaultValue(), "flag -" + f.name()));
            String value = g.value();
            if (value.isEmpty() && f.kind() != Kind.STRING && f.kind() != Kind.BOOL) {
                value = f.defaultValue();
            }
            check(f.kind(), value, g.source());
            values.put(f.name(), value);
        }
        return values;
    }

    /** Checks a value against its kind; the message names the flag or variable it came from. */
    private static void check(Kind kind, String value, String source) throws ConfigException {
        switch (kind) {
            case STRING -> {
            }
            case BOOL -> {
                if (!value.isEmpty() && !TRUE.contains(value) && !FALSE.contains(value)) {
                    throw new ConfigException("invalid boolean value \"" + value + "\" for " + source);
                }
            }
            case INT, PORT, MILLIS -> {
                long n;
                try {
                    n = Integer.parseInt(value);
                } catch (NumberFormatException e) {
                    throw new ConfigException("invalid value \"" + value + "\" for " + source + ": parse error");
                }
                if (kind == Kind.PORT && (n < 0 || n > 65535)) {
                    throw new ConfigException("invalid value \"" + value + "\" for " + source + ": not a port (0-65535)");
                }
                if (kind == Kind.MILLIS && n < 0) {
                    throw new ConfigException("invalid value \"" + value + "\" for " + source + ": must not be negative");
                }
            }
        }
    }

    private static ShimConfig build(Values v) throws ConfigException {
        // Order as the Go shim: the runner level first, then the shim level.
        LogLevel.parse(v.string("runner-log-level"));
        LogLevel shimLevel = LogLevel.parse(v.string("shim-log-level"));
        String home = v.string("shim-home");
        Path homePath = home.equals("$HOME/.dstack")
                ? Path.of(v.env.getOrDefault("HOME", System.getProperty("user.home")), ".dstack")
                : Path.of(home);
        String runtime = v.string("runner-runtime-dir");
        Waits waits = new Waits(v.millis("pull-deadline-ms"), v.millis("pull-stall-ms"), v.millis("sync-stop-limit-ms"),
                v.millis("remove-wait-ms"), v.millis("component-install-timeout-ms"), v.millis("shutdown-grace-ms"),
                v.millis("docker-call-timeout-ms"), v.millis("tool-timeout-ms"), v.millis("fingerprint-interval-ms"),
                v.millis("engine-retry-ms"), v.millis("health-interval-ms"), v.millis("memory-trim-interval-ms"));
        List<String> passEnv = Arrays.stream(v.string("pass-env").split(","))
                .map(String::strip).filter(s -> !s.isEmpty()).toList();
        Map<String, String> forPlugins = new LinkedHashMap<>();
        PASSED_TO_PLUGINS.forEach(name -> forPlugins.put(name, v.string(name)));
        String hostRoot = v.string("host-root");
        return new ShimConfig(homePath.toAbsolutePath().normalize(), Path.of(v.string("shim-binary-path")).toAbsolutePath(),
                v.integer("shim-http-port"), shimLevel, v.string("runner-download-url"),
                Path.of(v.string("runner-binary-path")).toAbsolutePath(),
                v.integer("runner-http-port"), v.integer("runner-ssh-port"), v.string("runner-ssh-log-level"),
                v.string("runner-log-level"), passEnv, v.bool("privileged"), v.string("pjrt-device"), v.bool("service"),
                runtime.isEmpty() ? Optional.empty() : Optional.of(Path.of(runtime).toAbsolutePath().normalize()),
                v.string("plugins-dir"), v.string("plugins"), Path.of(hostRoot.isEmpty() ? "/" : hostRoot),
                v.string("docker-host"), forPlugins, waits, v.bool("api-peer-check"));
    }

    /** Parses Go's boolean spellings; empty is false. */
    public static boolean parseBool(String name, String value) throws ConfigException {
        if (value.isEmpty() || FALSE.contains(value)) {
            return false;
        }
        if (TRUE.contains(value)) {
            return true;
        }
        throw new ConfigException("invalid boolean value \"" + value + "\" for flag -" + name);
    }

    /** Checked values by setting name. */
    private record Values(Map<String, String> values, Map<String, String> env) {
        String string(String name) {
            return values.get(name);
        }

        int integer(String name) {
            return Integer.parseInt(values.get(name));
        }

        Duration millis(String name) {
            return Duration.ofMillis(integer(name));
        }

        boolean bool(String name) throws ConfigException {
            return parseBool(name, string(name));
        }
    }
}
