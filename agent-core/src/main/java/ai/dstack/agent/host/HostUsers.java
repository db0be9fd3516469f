package ai.dstack.agent.host;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * Host users by name (home, uid, gid) for {@code host_ssh_user} (docs/shim.md §4.9). The shim asks the
 * system user database through NSS ({@code getent passwd}), so users from LDAP, SSSD or
 * extrausers are found as sshd finds them; a file database is for tests.
 */
@FunctionalInterface
public interface HostUsers {
    /** A user's account. */
    record Account(Path home, int uid, int gid) {
    }

    /** The account of {@code user}, empty when the database has no such user. */
    Optional<Account> lookup(String user) throws IOException;

    /** Through NSS, as every other program on the host: {@code getent passwd USER} (exit 2: no such user). */
    static HostUsers nss() {
        return user -> {
            if (user.isEmpty() || user.startsWith("-") || user.contains(":") || user.contains("\n")) {
                return Optional.empty();
            }
            Process p = new ProcessBuilder("getent", "passwd", user).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            try {
                if (!p.waitFor(60, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                    throw new IOException("getent passwd " + user + " did not answer within 60 s");
                }
            } catch (InterruptedException e) {
                p.destroyForcibly();
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while looking up user " + user, e);
            }
            return switch (p.exitValue()) {
                case 0 -> parse(out.lines().toList(), user);
                case 2 -> Optional.empty();
                default -> throw new IOException("getent passwd " + user + " failed (exit " + p.exitValue() + "): " + out.strip());
            };
        };
    }

    /** A passwd(5) file (tests). */
    static HostUsers file(Path passwd) {
        return user -> parse(Files.readAllLines(passwd, StandardCharsets.UTF_8), user);
    }

    private static Optional<Account> parse(List<String> passwdLines, String user) {
        for (String line : passwdLines) {
            String[] f = line.split(":", -1);
            if (f.length >= 7 && f[0].equals(user)) {
                return Optional.of(new Account(Path.of(f[5].isEmpty() ? "/" : f[5]), Integer.parseInt(f[2]),
                        Integer.parseInt(f[3])));
            }
        }
        return Optional.empty();
    }
}
