package ai.dstack.runner.user;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.TreeSet;

/**
 * Resolves {@code job_spec.user} into a {@link JobUser} (docs/runner.md §5.2) from the passwd and group files under a root
 * directory ({@code /} in production).
 */
public final class JobUsers {
    private static final System.Logger LOG = System.getLogger(JobUsers.class.getName());

    private JobUsers() {
    }

    /**
     * The job user for {@code spec}; {@code null} means the runner's own identity.
     *
     * @param root directory holding {@code etc/passwd}, {@code etc/group} and the homes to validate
     */
    public static JobUser resolve(UserSpec spec, Path root) throws JobUserException {
        if (spec == null) {
            return current(root);
        }
        UserDatabase db = new UserDatabase(root);
        Optional<UserDatabase.PasswdEntry> entry;
        long uid;
        if (spec.uid() != null) {
            uid = spec.uid();
            entry = read(() -> db.userById(uid), "cannot read /etc/passwd");
        } else if (spec.username() != null) {
            entry = read(() -> db.userByName(spec.username()), "cannot read /etc/passwd");
            if (entry.isEmpty()) {
                throw new JobUserException("unknown user " + spec.username());
            }
            uid = entry.get().uid();
        } else {
            throw new JobUserException("neither uid nor username is set");
        }

        long gid;
        TreeSet<Long> groups = new TreeSet<>();
        if (spec.gid() != null) {
            gid = spec.gid();
        } else if (spec.groupname() != null) {
            gid = read(() -> db.groupByName(spec.groupname()), "cannot read /etc/group")
                    .orElseThrow(() -> new JobUserException("unknown group " + spec.groupname()))
                    .gid();
        } else if (entry.isPresent()) {
            gid = entry.get().gid();
            groups.addAll(memberships(db, entry.get().name()));
        } else {
            gid = 0;
        }
        groups.add(gid);
        String username = entry.map(UserDatabase.PasswdEntry::name).orElse("");
        String home = validHome(entry.map(UserDatabase.PasswdEntry::home).orElse(""), root);
        return new JobUser(uid, gid, new ArrayList<>(groups), username, home);
    }

    /** The runner's own identity: ids from {@code /proc/self/status}, name and home from passwd (home default {@code /root}). */
    static JobUser current(Path root) throws JobUserException {
        long uid;
        long gid;
        TreeSet<Long> groups = new TreeSet<>();
        try {
            List<String> status = Files.readAllLines(Path.of("/proc/self/status"));
            uid = firstId(status, "Uid:");
            gid = firstId(status, "Gid:");
            for (String line : status) {
                if (line.startsWith("Groups:")) {
                    for (String g : line.substring(7).trim().split("\\s+")) {
                        if (!g.isEmpty()) {
                            groups.add(Long.parseLong(g));
                        }
                    }
                }
            }
        } catch (IOException | RuntimeException e) {
            throw new JobUserException("cannot read the runner's identity: " + e.getMessage());
        }
        groups.add(gid);
        Optional<UserDatabase.PasswdEntry> entry = read(() -> new UserDatabase(root).userById(uid),
                "cannot read /etc/passwd");
        String home = entry.map(UserDatabase.PasswdEntry::home).filter(h -> !h.isEmpty()).orElse("/root");
        return new JobUser(uid, gid, new ArrayList<>(groups),
                entry.map(UserDatabase.PasswdEntry::name).orElse(""), validHome(home, root));
    }

    private static long firstId(List<String> status, String key) {
        return status.stream().filter(l -> l.startsWith(key)).findFirst()
                .map(l -> Long.parseLong(l.substring(key.length()).trim().split("\\s+")[0]))
                .orElseThrow(() -> new IllegalStateException("no " + key + " line"));
    }

    /** Groups listing the user as a member; an unreadable group file means none (ruling on a Go quirk). */
    private static List<Long> memberships(UserDatabase db, String username) {
        try {
            return db.groups().stream().filter(g -> g.members().contains(username))
                    .map(UserDatabase.GroupEntry::gid).toList();
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "cannot read /etc/group, no supplementary groups: {0}", e.toString());
            return List.of();
        }
    }

    /** docs/runner.md §5.2 home validation: unusable homes become {@code /}. */
    static String validHome(String home, Path root) {
        if (home.isEmpty() || !home.startsWith("/")) {
            return warnRoot(home, "empty or relative");
        }
        try {
            BasicFileAttributes attrs = Files.readAttributes(root.resolve(home.substring(1)), BasicFileAttributes.class);
            return attrs.isDirectory() ? home : warnRoot(home, "not a directory");
        } catch (NoSuchFileException e) {
            if (underAFile(root.resolve(home.substring(1)))) {
                return warnRoot(home, "a parent is not a directory");
            }
            return home.contains("nonexistent") ? warnRoot(home, "does not exist") : home;
        } catch (IOException e) {
            return warnRoot(home, "cannot stat: " + e.getMessage());
        }
    }

    /** The JDK reports ENOTDIR as "no such file"; stat(2) callers such as Go's treat it as a stat failure. */
    private static boolean underAFile(Path path) {
        for (Path p = path.getParent(); p != null; p = p.getParent()) {
            if (Files.exists(p)) {
                return !Files.isDirectory(p);
            }
        }
        return false;
    }

    private static String warnRoot(String home, String why) {
        LOG.log(System.Logger.Level.WARNING, "home dir {0} is unusable ({1}), using /", home, why);
        return "/";
    }

    private interface Lookup<T> {
        T get() throws IOException;
    }

    private static <T> T read(Lookup<T> lookup, String what) throws JobUserException {
        try {
            return lookup.get();
        } catch (IOException e) {
            throw new JobUserException(what + ": " + e);
        }
    }
}
