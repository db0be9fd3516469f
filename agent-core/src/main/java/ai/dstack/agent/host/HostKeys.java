package ai.dstack.agent.host;

import ai.dstack.agent.files.AtomicFiles;
import ai.dstack.agent.json.StrictJson;
import com.fasterxml.jackson.core.type.TypeReference;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * A host user's {@code ~/.ssh/authorized_keys} edited for tasks (docs/shim.md §4.9, done better): one
 * edit at a time, each an atomic rewrite keeping mode and owner; a missing file is created 0600
 * owned by the user; which tasks hold each key is persisted, so a key another task still needs,
 * or one that was there before any task, is never removed — also across agent restarts.
 */
public final class HostKeys {
    private static final TypeReference<TreeMap<String, TreeMap<String, Holders>>> REFS_TYPE = new TypeReference<>() {
    };
    private final Path refsFile;
    private final Path passwdFile;

    /**
     * Who holds one key of one user.
     *
     * @param tasks       ids of the tasks that added it
     * @param preexisting whether the file had it before the first task added it
     */
    public record Holders(Set<String> tasks, boolean preexisting) {
        public Holders {
            tasks = new TreeSet<>(tasks);
        }
    }

    /** {@code refsFile} persists the holders; users are looked up in {@code passwdFile} (normally /etc/passwd). */
    public HostKeys(Path refsFile, Path passwdFile) {
        this.refsFile = refsFile;
        this.passwdFile = passwdFile;
    }

    /** Adds the keys for a task; a key already in the file is not appended again. */
    public synchronized void add(String taskId, String user, List<String> keys) throws IOException {
        Account account = account(user);
        Path file = account.home().resolve(".ssh/authorized_keys");
        List<String> lines = readLines(file);
        Set<String> present = new LinkedHashSet<>();
        lines.forEach(l -> material(l).ifPresent(present::add));
        var refs = loadRefs();
        var userRefs = refs.computeIfAbsent(user, u -> new TreeMap<>());
        List<String> appended = new ArrayList<>(lines);
        for (String key : keys) {
            Optional<String> m = material(key);
            if (m.isEmpty()) {
                throw new IOException("not an OpenSSH public key: " + abbreviate(key));
            }
            Holders h = userRefs.get(m.get());
            if (h == null) {
                h = new Holders(Set.of(), present.contains(m.get()));
            }
            Set<String> tasks = new TreeSet<>(h.tasks());
            tasks.add(taskId);
            userRefs.put(m.get(), new Holders(tasks, h.preexisting()));
            if (present.add(m.get())) {
                appended.add(key.strip());
            }
        }
        // Holders first: a crash between the two writes can then only leave a key that nobody holds listed, never an untracked key.
        saveRefs(refs);
        if (appended.size() != lines.size()) {
            writeLines(file, appended, account);
        }
    }

    /** Drops the task's hold on its keys; removes from the file every key no task holds any more and that was not there before. */
    public synchronized void remove(String taskId, String user, List<String> keys) throws IOException {
        var refs = loadRefs();
        var userRefs = refs.get(user);
        if (userRefs == null) {
            return;
        }
        Set<String> drop = new LinkedHashSet<>();
        for (String key : keys) {
            Optional<String> m = material(key);
            Holders h = m.map(userRefs::get).orElse(null);
            if (h == null || !h.tasks().contains(taskId)) {
                continue;
            }
            Set<String> tasks = new TreeSet<>(h.tasks());
            tasks.remove(taskId);
            if (tasks.isEmpty()) {
                userRefs.remove(m.get());
                if (!h.preexisting()) {
                    drop.add(m.get());
                }
            } else {
                userRefs.put(m.get(), new Holders(tasks, h.preexisting()));
            }
        }
        if (!drop.isEmpty()) {
            Account account = account(user);
            Path file = account.home().resolve(".ssh/authorized_keys");
            List<String> lines = readLines(file);
            List<String> kept = lines.stream().filter(l -> material(l).map(mat -> !drop.contains(mat)).orElse(true)).toList();
            if (kept.size() != lines.size()) {
                writeLines(file, kept, account);
            }
        }
        if (userRefs.isEmpty()) {
            refs.remove(user);
        }
        saveRefs(refs);
    }

    /** The key type and base64 blob of an authorized_keys line or public key (options and comment dropped). */
    static Optional<String> material(String line) {
        String[] fields = line.strip().split("\\s+");
        for (int i = 0; i + 1 < fields.length; i++) {
            String f = fields[i];
            if ((f.startsWith("ssh-") || f.startsWith("ecdsa-") || f.startsWith("sk-")) && fields[i + 1].matches("[A-Za-z0-9+/]+=*")) {
                return Optional.of(f + " " + fields[i + 1]);
            }
        }
        return Optional.empty();
    }

    private record Account(Path home, int uid, int gid) {
    }

    private Account account(String user) throws IOException {
        for (String line : Files.readAllLines(passwdFile, StandardCharsets.UTF_8)) {
            String[] f = line.split(":", -1);
            if (f.length >= 7 && f[0].equals(user)) {
                return new Account(Path.of(f[5].isEmpty() ? "/" : f[5]), Integer.parseInt(f[2]), Integer.parseInt(f[3]));
            }
        }
        throw new IOException("user " + user + " not found");
    }

    private static List<String> readLines(Path file) throws IOException {
        return Files.exists(file) ? Files.readAllLines(file, StandardCharsets.UTF_8) : List.of();
    }

    private static void writeLines(Path file, List<String> lines, Account account) throws IOException {
        Path ssh = file.getParent();
        if (!Files.isDirectory(ssh)) {
            Files.createDirectories(ssh, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            Files.setAttribute(ssh, "unix:uid", account.uid());
            Files.setAttribute(ssh, "unix:gid", account.gid());
        }
        String perms = "rw-------";
        int uid = account.uid();
        int gid = account.gid();
        if (Files.exists(file)) {
            Set<PosixFilePermission> mode = Files.getPosixFilePermissions(file);
            perms = PosixFilePermissions.toString(mode);
            uid = (Integer) Files.getAttribute(file, "unix:uid");
            gid = (Integer) Files.getAttribute(file, "unix:gid");
            Files.copy(file, file.resolveSibling("authorized_keys.bak"), StandardCopyOption.REPLACE_EXISTING,
                    StandardCopyOption.COPY_ATTRIBUTES);
        }
        StringBuilder text = new StringBuilder();
        lines.forEach(l -> text.append(l).append('\n'));
        AtomicFiles.write(file, text.toString().getBytes(StandardCharsets.UTF_8), perms, uid, gid);
    }

    private TreeMap<String, TreeMap<String, Holders>> loadRefs() throws IOException {
        if (!Files.exists(refsFile)) {
            return new TreeMap<>();
        }
        return StrictJson.mapper().readValue(refsFile.toFile(), REFS_TYPE);
    }

    private void saveRefs(Map<String, TreeMap<String, Holders>> refs) throws IOException {
        AtomicFiles.write(refsFile, StrictJson.mapper().writeValueAsBytes(refs), "rw-------");
    }

    private static String abbreviate(String s) {
        return s.length() > 40 ? s.substring(0, 40) + "…" : s;
    }
}
