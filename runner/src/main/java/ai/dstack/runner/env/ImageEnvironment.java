package ai.dstack.runner.env;

import java.util.HashMap;
import java.util.Map;

/**
 * The container's environment as the image set it. The launcher runs the JVM under the bundled
 * C.UTF-8 locale ({@code LC_ALL}, {@code LOCPATH}) so that file names, environment values and
 * arguments are decoded as UTF-8 whatever the image's locale; it passes the image's own values as
 * {@code -Ddstack.runner.image.<NAME>} ({@code unset} or {@code =value}), and every process the runner
 * starts gets them back from here.
 */
public final class ImageEnvironment {
    private static final String[] LOCALE_VARS = {"LC_ALL", "LOCPATH"};

    private ImageEnvironment() {
    }

    /** The runner's environment with the launcher's locale variables undone. */
    public static Map<String, String> get() {
        Map<String, String> env = new HashMap<>(System.getenv());
        restore(env);
        return env;
    }

    /** Undoes the launcher's locale variables in {@code env} (e.g. a {@link ProcessBuilder}'s). */
    public static void restore(Map<String, String> env) {
        for (String name : LOCALE_VARS) {
            String image = System.getProperty("dstack.runner.image." + name);
            if (image == null) {
                continue; // not started by the launcher: nothing was changed
            }
            if (image.startsWith("=")) {
                env.put(name, image.substring(1));
            } else {
                env.remove(name);
            }
        }
    }
}
