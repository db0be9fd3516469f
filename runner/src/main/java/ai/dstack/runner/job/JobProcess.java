package ai.dstack.runner.job;

import ai.dstack.runner.logs.JobOutput;
import java.io.File;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A job process: session leader with a fresh pty as its controlling terminal, optionally under
 * another uid/gid/groups through the bundled {@code setpriv}. Cancelling it signals the whole
 * session, so background and {@code nohup} children cannot keep the terminal open.
 */
final class JobProcess {
    private static final long POLL_MS = 50;
    /** How long session members get between SIGTERM/SIGHUP and SIGKILL once the leader is gone. */
    private static final long AFTER_LEADER_MS = 1_000;

    final int pid;
    private final int master;
    private volatile boolean leaderExited;

    private JobProcess(int pid, int master) {
        this.pid = pid;
        this.master = master;
    }

    /**
     * Starts {@code argv} ({@code argv[0]} looked up in the runner's PATH when it has no slash).
     * {@code runtimeHome} is the runner runtime holding the bundled loader and {@code setpriv}
     * (null: use {@code setpriv} from the PATH).
     */
    static JobProcess start(List<String> argv, Map<String, String> env, Path cwd, JobIdentity user, Path runtimeHome)
            throws IOException, Posix.NativeException {
        String exe = resolve(argv.getFirst());
        List<String> command = new ArrayList<>();
        String path = exe;
        if (!user.isRoot()) {
            if (runtimeHome != null) {
                Path glibc = runtimeHome.resolve("glibc");
                path = glibc.resolve("ld-linux-x86-64.so.2").toString();
                command.addAll(List.of(path, "--library-path", glibc.toString(), glibc.resolve("setpriv").toString()));
            } else {
                path = resolve("setpriv");
                command.add(path);
            }
            command.add("--reuid=" + user.uid());
            command.add("--regid=" + user.gid());
            List<String> groups = user.groups().stream().map(String::valueOf).toList();
            command.add(groups.isEmpty() ? "--clear-groups" : "--groups=" + String.join(",", groups));
            command.add("--");
            command.add(exe);
            command.addAll(argv.subList(1, argv.size()));
        } else {
            command.addAll(argv);
        }
        Posix.PtyPair pty = Posix.openPty();
        try {
            if (!user.isRoot()) {
                JobPaths.chown(Path.of(pty.slavePath()), user);
            }
            int pid = Posix.spawnInSession(path, command, JobEnvironment.toEnvp(env), cwd.toString(), pty.slavePath());
            return new JobProcess(pid, pty.master());
        } catch (IOException | Posix.NativeException | RuntimeException e) {
            Posix.close(pty.master());
            throw e;
        }
    }

    private static String resolve(String name) throws IOException {
        if (name.contains("/")) {
            return name;
        }
        String pathVar = System.getenv().getOrDefault("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
        for (String dir : pathVar.split(File.pathSeparator)) {
            Path candidate = Path.of(dir.isEmpty() ? "." : dir, name);
            if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
                return candidate.toString();
            }
        }
        throw new IOException("executable file not found in $PATH: " + name);
    }

    /** Copies terminal output to {@code out} until every holder of the pty closed it. */
    void pump(JobOutput out) throws Posix.NativeException {
        byte[] chunk = new byte[64 * 1024];
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buffer = arena.allocate(chunk.length);
            int n;
            while ((n = Posix.read(master, buffer)) > 0) {
                MemorySegment.copy(buffer, 0, MemorySegment.ofArray(chunk), 0, n);
                out.accept(chunk, n);
            }
        } finally {
            Posix.close(master);
        }
    }

    /** Waits for the session leader; returns its raw wait status. */
    int waitFor() throws Posix.NativeException {
        try {
            return Posix.waitpid(pid);
        } finally {
            leaderExited = true;
        }
    }

    void kill(int signal) {
        if (!leaderExited) {
            Posix.kill(pid, signal);
        }
    }

    /**
     * Ends the whole session: SIGINT to every member at once; when the leader has exited, the
     * rest get SIGTERM and SIGHUP and, a moment later, SIGKILL; whatever is left when
     * {@code graceMs} is over gets SIGKILL. Returns when no member is left.
     */
    void terminateSession(long graceMs) throws InterruptedException {
        long start = System.currentTimeMillis();
        signalSession(Posix.SIGINT);
        long termSentAt = -1;
        while (true) {
            List<Integer> members = sessionMembers();
            if (members.isEmpty() && leaderExited) {
                return;
            }
            long now = System.currentTimeMillis();
            if (now - start >= graceMs) {
                members.forEach(p -> Posix.kill(p, Posix.SIGKILL));
            } else if (leaderExited) {
                if (termSentAt < 0) {
                    members.forEach(p -> Posix.kill(p, Posix.SIGTERM));
                    members.forEach(p -> Posix.kill(p, Posix.SIGHUP));
                    termSentAt = now;
                } else if (now - termSentAt >= AFTER_LEADER_MS) {
                    members.forEach(p -> Posix.kill(p, Posix.SIGKILL));
                }
            }
            Thread.sleep(POLL_MS);
        }
    }

    /** SIGKILL to every member of the session now. */
    void killSession() {
        sessionMembers().forEach(p -> Posix.kill(p, Posix.SIGKILL));
    }

    private void signalSession(int signal) {
        sessionMembers().forEach(p -> Posix.kill(p, signal));
    }

    /** Live (non-zombie) processes whose session id is the leader's pid. */
    List<Integer> sessionMembers() {
        List<Integer> members = new ArrayList<>();
        try (DirectoryStream<Path> procs = Files.newDirectoryStream(Path.of("/proc"), "[0-9]*")) {
            for (Path proc : procs) {
                String stat;
                try {
                    stat = Files.readString(proc.resolve("stat"));
                } catch (IOException gone) {
                    continue;
                }
                String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
                if (f.length > 3 && Integer.parseInt(f[3]) == pid && !f[0].equals("Z") && !f[0].equals("X")) {
                    members.add(Integer.parseInt(proc.getFileName().toString()));
                }
            }
        } catch (IOException e) {
            // no /proc: only the leader can be signalled
            if (!leaderExited) {
                members.add(pid);
            }
        }
        return members;
    }
}
