package ai.dstack.runner.ssh;

import ai.dstack.runner.env.Shell;
import ai.dstack.runner.user.JobUser;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * The job env for SSH login shells (docs/runner.md §5.7): {@code /dstack/profile} with one {@code export} per variable and a
 * final {@code cd}, sourced from {@code /etc/profile}. The profile holds secrets, so it is readable only by root and
 * the job user (mode 0600, owned by the job user, who may append to it like the server's default-image commands do).
 */
public final class Profile {
    /** Variables that describe the shell or session rather than the job; a login shell sets its own. */
    static final Set<String> SKIPPED = Set.of("HOSTNAME", "USER", "HOME", "SHELL", "SHLVL", "PWD", "_");
    private static final Pattern SHELL_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");

    private Profile() {
    }

    /**
     * Rewrites {@code profile} from {@code env} and makes sure {@code etcProfile} sources it (the line is appended
     * once, not on every job).
     */
    public static void write(Path profile, Path etcProfile, Map<String, String> env, JobUser user) throws IOException {
        Files.createDirectories(profile.getParent());
        PrivateFiles.write(profile, render(env), "rw-------", user);
        String source = ". " + Shell.quote(profile.toAbsolutePath().toString());
        if (Files.exists(etcProfile) && Files.readAllLines(etcProfile).contains(source)) {
            return;
        }
        if (!Files.exists(etcProfile)) {
            Files.createDirectories(etcProfile.getParent());
            Files.createFile(etcProfile, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-r--r--")));
        }
        Files.writeString(etcProfile, "\n" + source + "\n", StandardOpenOption.APPEND);
    }

    /** The profile text: sorted {@code export NAME='value'} lines, then {@code cd "$DSTACK_WORKING_DIR"}. */
    static String render(Map<String, String> env) {
        StringBuilder out = new StringBuilder();
        new TreeMap<>(env).forEach((name, value) -> {
            if (!SKIPPED.contains(name) && SHELL_NAME.matcher(name).matches()) {
                out.append("export ").append(name).append('=').append(Shell.quote(value)).append('\n');
            }
        });
        return out.append("cd \"$DSTACK_WORKING_DIR\"\n").toString();
    }
}
