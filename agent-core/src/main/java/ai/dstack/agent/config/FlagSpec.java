package ai.dstack.agent.config;

import java.util.List;

/**
 * One row of the agent's configuration table: a setting, the command-line flag and the environment
 * variable that give it. The core's rows are {@link ShimFlags#ALL}; plugins declare theirs through the
 * SPI and the core adds them (environment only).
 *
 * @param name         setting name, kebab-case; also the flag name ({@code --name}) when {@code flag}
 * @param env          environment variable
 * @param kind         how the value is parsed
 * @param defaultValue default as text ("" when none)
 * @param help         what it does, for the README table
 * @param flag         whether {@code --name} is accepted on the command line
 * @param oldNames     earlier names that keep working: flags in lower case, environment variables in upper case
 */
public record FlagSpec(String name, String env, Kind kind, String defaultValue, String help, boolean flag,
                       List<String> oldNames) {
    /** Value types, parsed as Go's flag package does; {@code PORT} is an int from 0 to 65535. */
    public enum Kind { STRING, INT, PORT, BOOL, MILLIS }

    public FlagSpec {
        oldNames = List.copyOf(oldNames);
    }

    /** A flag with an env var and no earlier names. */
    public FlagSpec(String name, String env, Kind kind, String defaultValue, String help) {
        this(name, env, kind, defaultValue, help, true, List.of());
    }

    /** The same row with earlier names that keep working. */
    public FlagSpec formerly(String... names) {
        return new FlagSpec(name, env, kind, defaultValue, help, flag, List.of(names));
    }

    /** The same row without a command-line flag (environment only). */
    public FlagSpec envOnly() {
        return new FlagSpec(name, env, kind, defaultValue, help, false, oldNames);
    }

    /** Earlier flag names. */
    public List<String> oldFlags() {
        return oldNames.stream().filter(n -> !n.equals(n.toUpperCase(java.util.Locale.ROOT))).toList();
    }

    /** Earlier environment variable names. */
    public List<String> oldEnv() {
        return oldNames.stream().filter(n -> n.equals(n.toUpperCase(java.util.Locale.ROOT))).toList();
    }
}
