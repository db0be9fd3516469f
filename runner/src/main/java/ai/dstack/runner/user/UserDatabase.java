package ai.dstack.runner.user;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** Reads {@code /etc/passwd} and {@code /etc/group} as plain files (no NSS), like Go's pure-Go user lookup. */
final class UserDatabase {
    record PasswdEntry(String name, long uid, long gid, String home) {
    }

    record GroupEntry(String name, long gid, List<String> members) {
    }

    private final Path root;

    UserDatabase(Path root) {
        this.root = root;
    }

    Optional<PasswdEntry> userById(long uid) throws IOException {
        return passwd().stream().filter(e -> e.uid() == uid).findFirst();
    }

    Optional<PasswdEntry> userByName(String name) throws IOException {
        return passwd().stream().filter(e -> e.name().equals(name)).findFirst();
    }

    Optional<GroupEntry> groupByName(String name) throws IOException {
        return groups().stream().filter(e -> e.name().equals(name)).findFirst();
    }

    List<GroupEntry> groups() throws IOException {
        List<GroupEntry> out = new ArrayList<>();
        for (String[] f : records("etc/group", 4)) {
            Long gid = parseId(f[2]);
            if (gid != null) {
                List<String> members = f[3].isEmpty() ? List.of() : List.of(f[3].split(","));
                out.add(new GroupEntry(f[0], gid, members));
            }
        }
        return out;
    }

    private List<PasswdEntry> passwd() throws IOException {
        List<PasswdEntry> out = new ArrayList<>();
        for (String[] f : records("etc/passwd", 7)) {
            Long uid = parseId(f[2]);
            Long gid = parseId(f[3]);
            if (uid != null && gid != null) {
                out.add(new PasswdEntry(f[0], uid, gid, f[5]));
            }
        }
        return out;
    }

    /** Colon-separated records with at least {@code fields} fields; comments, blanks and short lines skipped. */
    private List<String[]> records(String relative, int fields) throws IOException {
        List<String[]> out = new ArrayList<>();
        for (String line : Files.readAllLines(root.resolve(relative))) {
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            String[] f = line.split(":", -1);
            if (f.length >= fields) {
                out.add(f);
            }
        }
        return out;
    }

    private static Long parseId(String s) {
        try {
            long v = Long.parseLong(s.trim());
            return v >= 0 && v <= 0xFFFF_FFFFL ? v : null;
        } catch (NumberFormatException e) {
            return null;
        }
    }
}
