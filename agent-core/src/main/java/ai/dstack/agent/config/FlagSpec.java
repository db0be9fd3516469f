package ai.dstack.agent.config;

/**
 * One command-line flag of the shim and the environment variable that can give it instead.
 *
 * @param name         flag name without dashes, e.g. {@code shim-home}
 * @param env          environment variable, or null when the flag has none
 * @param kind         how the value is parsed
 * @param defaultValue default as text ("" when none)
 * @param help         what the flag does, for {@code --help} and the README table
 */
public record FlagSpec(String name, String env, Kind kind, String defaultValue, String help) {
    /** Value types, parsed as Go's flag package does. */
    public enum Kind { STRING, INT, BOOL, MILLIS }
}
