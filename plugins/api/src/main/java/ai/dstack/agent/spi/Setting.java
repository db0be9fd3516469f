package ai.dstack.agent.spi;

import java.util.List;
import java.util.Locale;

/**
 * A setting a plugin reads with {@link HostContext#setting}, declared by the plugin so that the agent
 * reads it with its own configuration (once, at start, validated the same way: a bad value stops
 * the agent with exit code 1) and lists it in its configuration table. Plugin settings are
 * environment variables only: {@code DSTACK_SHIM_<NAME>} (upper case, dashes as underscores).
 *
 * @param name         kebab-case name, e.g. {@code volume-attach-timeout-ms}; a duration ends in {@code -ms}
 * @param kind         how the value is parsed
 * @param defaultValue value when the operator sets none, as text
 * @param meaning      what it changes, one line for the table
 * @param oldEnv       earlier names of the environment variable that keep working
 */
public record Setting(String name, Kind kind, String defaultValue, String meaning, List<String> oldEnv) {
    /** Value types, parsed as the agent parses its flags. */
    public enum Kind { STRING, INT, PORT, BOOL, MILLIS }

    public Setting {
        if (name == null || !name.matches("[a-z][a-z0-9]*(-[a-z0-9]+)*")) {
            throw new IllegalArgumentException("setting name must be kebab-case: " + name);
        }
        if ((kind == Kind.MILLIS) != name.endsWith("-ms")) {
            throw new IllegalArgumentException("a duration in milliseconds, and only that, ends in -ms: " + name);
        }
        defaultValue = defaultValue == null ? "" : defaultValue;
        oldEnv = List.copyOf(oldEnv);
    }

    /** A duration in milliseconds. */
    public static Setting millis(String name, long defaultMs, String meaning, String... oldEnv) {
        return new Setting(name, Kind.MILLIS, String.valueOf(defaultMs), meaning, List.of(oldEnv));
    }

    /** The environment variable that sets it. */
    public String env() {
        return "DSTACK_SHIM_" + name.toUpperCase(Locale.ROOT).replace('-', '_');
    }
}
