package ai.dstack.runner.ssh;

import java.nio.file.Path;
import java.util.List;

/**
 * How the runner's sshd is laid out and started (docs/runner.md §8).
 *
 * @param dstackDir the {@code /dstack} dir; sshd files live in its {@code ssh/} subdir
 * @param systemRoot root under which {@code var/empty} and {@code run/sshd} are recreated ({@code /} in production)
 * @param sshdBinary the sshd executable ({@code /usr/sbin/sshd})
 * @param port {@code --ssh-port}
 * @param logLevel {@code --ssh-log-level}, copied verbatim into {@code LogLevel}
 * @param authorizedKeys {@code --ssh-authorized-key} values, one key line each, never split on commas
 */
public record SshdSettings(Path dstackDir, Path systemRoot, Path sshdBinary, int port, String logLevel,
                           List<String> authorizedKeys) {
    public SshdSettings {
        authorizedKeys = List.copyOf(authorizedKeys);
    }

    /** Production settings: {@code /dstack}, {@code /}, {@code /usr/sbin/sshd}. */
    public static SshdSettings standard(int port, String logLevel, List<String> authorizedKeys) {
        return new SshdSettings(Path.of("/dstack"), Path.of("/"), Path.of("/usr/sbin/sshd"), port, logLevel,
                authorizedKeys);
    }
}
