package ai.dstack.agent.config;

/** The command line or environment does not make a valid configuration; the shim exits 1. */
public final class ConfigException extends Exception {
    public ConfigException(String message) {
        super(message);
    }
}
