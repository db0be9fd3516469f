package ai.dstack.agent.config;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Map;
import java.util.Properties;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The dstack release this agent reports (healthcheck, {@code --version}, components). The server
 * compares it with its own, so it is a dstack version, not our Maven version: the build constant,
 * overridable only by {@code DSTACK_REPORTED_VERSION}.
 */
public final class ReportedVersion {
    /** Env var that overrides the build constant, for the shim and (passed through) the runner. */
    public static final String ENV = "DSTACK_REPORTED_VERSION";
    /** The oldest final release the dstack server drives with the API we serve (docs/shim.md §2.2). */
    static final int[] MINIMUM = {0, 20, 30};
    private static final Pattern FINAL_RELEASE = Pattern.compile("v?(\\d+)\\.(\\d+)(?:\\.(\\d+))?(?:\\.post\\d+)?");

    private ReportedVersion() {
    }

    /** The version to report, given the process environment. */
    public static String resolve(Map<String, String> env) {
        String override = env.get(ENV);
        return override == null || override.isBlank() ? buildDefault() : override.strip();
    }

    /** The version compiled in ({@code dstack.reported.version} of the build). */
    public static String buildDefault() {
        return buildProperties().getProperty("reported.version", "latest");
    }

    /** Our own Maven version, for logs. */
    public static String projectVersion() {
        return buildProperties().getProperty("project.version", "unknown");
    }

    /**
     * Null when the server would drive this version with the current API; otherwise why not. A final
     * release below 0.20.30 would make the server use endpoints we do not serve. Non-final strings
     * ({@code latest}, {@code 0.21.0rc1}, a CI build number) count as newest, as the server treats them.
     */
    public static String problem(String version) {
        Matcher m = FINAL_RELEASE.matcher(version);
        if (!m.matches()) {
            return null;
        }
        int[] parts = {Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2)),
                m.group(3) == null ? 0 : Integer.parseInt(m.group(3))};
        for (int i = 0; i < 3; i++) {
            if (parts[i] != MINIMUM[i]) {
                return parts[i] > MINIMUM[i] ? null
                        : "reported version " + version + " is below 0.20.30, the oldest release whose server"
                          + " drives this agent's API; unset " + ENV + " or set it to 0.20.30 or newer";
            }
        }
        return null;
    }

    private static Properties buildProperties() {
        Properties props = new Properties();
        try (InputStream in = ReportedVersion.class.getResourceAsStream("/ai/dstack/agent/build.properties")) {
            if (in != null) {
                props.load(in);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return props;
    }
}
