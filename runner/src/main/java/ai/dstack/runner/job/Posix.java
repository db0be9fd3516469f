package ai.dstack.runner.job;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.util.List;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * The few libc calls the JDK does not offer (pty, session spawn, signals, waitpid), bound with FFM.
 * The runner's JVM runs on the glibc bundled with its runtime, so these resolve in any image.
 */
public final class Posix {
    public static final int SIGHUP = 1;
    public static final int SIGINT = 2;
    public static final int SIGKILL = 9;
    public static final int SIGTERM = 15;

    static final int O_RDWR = 2;
    static final int O_NOCTTY = 0x100;
    private static final int O_CLOEXEC = 0x80000;
    private static final int EINTR = 4;
    private static final int EIO = 5;
    private static final int EAGAIN = 11;
    private static final short POSIX_SPAWN_SETSIGDEF = 0x04;
    private static final short POSIX_SPAWN_SETSIGMASK = 0x08;
    private static final short POSIX_SPAWN_SETSID = 0x80;
    /** Generous sizes for glibc's opaque spawn structs (80 and 336 bytes on x86_64) and sigset_t (128). */
    private static final long FILE_ACTIONS_SIZE = 256;
    private static final long SPAWNATTR_SIZE = 512;
    private static final long SIGSET_SIZE = 128;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final Linker.Option ERRNO_OPT = Linker.Option.captureCallState("errno");
    private static final StructLayout CAPTURE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CAPTURE.varHandle(MemoryLayout.PathElement.groupElement("errno"));

    private static final MethodHandle POSIX_OPENPT = errnoCall("posix_openpt", JAVA_INT, JAVA_INT);
    private static final MethodHandle GRANTPT = call("grantpt", JAVA_INT, JAVA_INT);
    private static final MethodHandle UNLOCKPT = call("unlockpt", JAVA_INT, JAVA_INT);
    private static final MethodHandle PTSNAME_R = call("ptsname_r", JAVA_INT, JAVA_INT, ADDRESS, JAVA_LONG);
    private static final MethodHandle READ = errnoCall("read", JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG);
    private static final MethodHandle CLOSE = call("close", JAVA_INT, JAVA_INT);
    private static final MethodHandle KILL = errnoCall("kill", JAVA_INT, JAVA_INT, JAVA_INT);
    private static final MethodHandle WAITPID = errnoCall("waitpid", JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT);
    private static final MethodHandle GETEUID = call("geteuid", JAVA_INT);
    private static final MethodHandle FA_INIT = call("posix_spawn_file_actions_init", JAVA_INT, ADDRESS);
    private static final MethodHandle FA_DESTROY = call("posix_spawn_file_actions_destroy", JAVA_INT, ADDRESS);
    private static final MethodHandle FA_ADDOPEN = call("posix_spawn_file_actions_addopen",
            JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT);
    private static final MethodHandle FA_ADDDUP2 = call("posix_spawn_file_actions_adddup2", JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT);
    private static final MethodHandle FA_ADDCHDIR = call("posix_spawn_file_actions_addchdir_np", JAVA_INT, ADDRESS, ADDRESS);
    private static final MethodHandle FA_ADDCLOSEFROM = call("posix_spawn_file_actions_addclosefrom_np", JAVA_INT, ADDRESS, JAVA_INT);
    private static final MethodHandle ATTR_INIT = call("posix_spawnattr_init", JAVA_INT, ADDRESS);
    private static final MethodHandle ATTR_DESTROY = call("posix_spawnattr_destroy", JAVA_INT, ADDRESS);
    private static final MethodHandle ATTR_SETFLAGS = call("posix_spawnattr_setflags", JAVA_INT, ADDRESS, JAVA_SHORT);
    private static final MethodHandle ATTR_SETSIGMASK = call("posix_spawnattr_setsigmask", JAVA_INT, ADDRESS, ADDRESS);
    private static final MethodHandle ATTR_SETSIGDEFAULT = call("posix_spawnattr_setsigdefault", JAVA_INT, ADDRESS, ADDRESS);
    private static final MethodHandle SIGEMPTYSET = call("sigemptyset", JAVA_INT, ADDRESS);
    private static final MethodHandle SIGFILLSET = call("sigfillset", JAVA_INT, ADDRESS);
    private static final MethodHandle POSIX_SPAWN = call("posix_spawn",
            JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS);

    private Posix() {
    }

    private static MethodHandle call(String name, ValueLayout ret, MemoryLayout... args) {
        return LINKER.downcallHandle(LINKER.defaultLookup().findOrThrow(name), FunctionDescriptor.of(ret, args));
    }

    private static MethodHandle errnoCall(String name, ValueLayout ret, MemoryLayout... args) {
        return LINKER.downcallHandle(LINKER.defaultLookup().findOrThrow(name), FunctionDescriptor.of(ret, args), ERRNO_OPT);
    }

    /** A native call failed; {@code errno} is kept for callers that branch on it. */
    public static final class NativeException extends Exception {
        private final int errno;

        NativeException(String call, int errno) {
            super(call + " failed (errno " + errno + ")");
            this.errno = errno;
        }

        public int errno() {
            return errno;
        }
    }

    private static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException r) {
            return r;
        }
        if (t instanceof Error e) {
            throw e;
        }
        return new IllegalStateException(t);
    }

    public static int geteuid() {
        try {
            return (int) GETEUID.invokeExact();
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** A new pty master (close-on-exec) and the path of its slave. */
    public record PtyPair(int master, String slavePath) {
    }

    public static PtyPair openPty() throws NativeException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURE);
            int fd = (int) POSIX_OPENPT.invokeExact(state, O_RDWR | O_NOCTTY | O_CLOEXEC);
            if (fd < 0) {
                throw new NativeException("posix_openpt", (int) ERRNO.get(state, 0L));
            }
            MemorySegment name = arena.allocate(256);
            if ((int) GRANTPT.invokeExact(fd) != 0 || (int) UNLOCKPT.invokeExact(fd) != 0
                    || (int) PTSNAME_R.invokeExact(fd, name, 256L) != 0) {
                int ignored = (int) CLOSE.invokeExact(fd);
                throw new NativeException("grantpt/unlockpt/ptsname_r", 0);
            }
            return new PtyPair(fd, name.getString(0));
        } catch (NativeException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * Reads up to {@code buffer.byteSize()} bytes; returns -1 at the end of a pty (EIO once every
     * slave holder closed it) or of a file.
     */
    public static int read(int fd, MemorySegment buffer) throws NativeException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURE);
            while (true) {
                long n = (long) READ.invokeExact(state, fd, buffer, buffer.byteSize());
                if (n > 0) {
                    return (int) n;
                }
                if (n == 0) {
                    return -1;
                }
                int errno = (int) ERRNO.get(state, 0L);
                if (errno == EINTR || errno == EAGAIN) {
                    continue;
                }
                if (errno == EIO) {
                    return -1;
                }
                throw new NativeException("read", errno);
            }
        } catch (NativeException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static void close(int fd) {
        try {
            int ignored = (int) CLOSE.invokeExact(fd);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Sends {@code signal} to a pid (or to a process group when negative); false if none exists. */
    public static boolean kill(int pid, int signal) {
        try (Arena arena = Arena.ofConfined()) {
            return (int) KILL.invokeExact(arena.allocate(CAPTURE), pid, signal) == 0;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Blocks until {@code pid} ends; returns the raw wait status. */
    public static int waitpid(int pid) throws NativeException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURE);
            MemorySegment status = arena.allocate(JAVA_INT);
            while (true) {
                int r = (int) WAITPID.invokeExact(state, pid, status, 0);
                if (r == pid) {
                    return status.get(JAVA_INT, 0);
                }
                int errno = (int) ERRNO.get(state, 0L);
                if (errno != EINTR) {
                    throw new NativeException("waitpid", errno);
                }
            }
        } catch (NativeException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * Starts {@code argv} in a new session whose controlling terminal is the pty slave at
     * {@code tty} (fds 0, 1, 2 and 3), in {@code cwd}, with exactly {@code env}, default signal
     * dispositions and an empty signal mask; every other fd is closed in the child.
     */
    public static int spawnInSession(String path, List<String> argv, List<String> env, String cwd, String tty)
            throws NativeException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment fa = arena.allocate(FILE_ACTIONS_SIZE, 16);
            MemorySegment attr = arena.allocate(SPAWNATTR_SIZE, 16);
            check("posix_spawn_file_actions_init", (int) FA_INIT.invokeExact(fa));
            check("posix_spawnattr_init", (int) ATTR_INIT.invokeExact(attr));
            try {
                // glibc runs setsid before the file actions, so opening the slave on fd 0 makes it the ctty.
                check("addopen", (int) FA_ADDOPEN.invokeExact(fa, 0, arena.allocateFrom(tty), O_RDWR, 0));
                for (int fd = 1; fd <= 3; fd++) {
                    check("adddup2", (int) FA_ADDDUP2.invokeExact(fa, 0, fd));
                }
                check("addchdir_np", (int) FA_ADDCHDIR.invokeExact(fa, arena.allocateFrom(cwd)));
                check("addclosefrom_np", (int) FA_ADDCLOSEFROM.invokeExact(fa, 4));
                MemorySegment empty = arena.allocate(SIGSET_SIZE, 8);
                MemorySegment all = arena.allocate(SIGSET_SIZE, 8);
                check("sigemptyset", (int) SIGEMPTYSET.invokeExact(empty));
                check("sigfillset", (int) SIGFILLSET.invokeExact(all));
                check("setsigmask", (int) ATTR_SETSIGMASK.invokeExact(attr, empty));
                check("setsigdefault", (int) ATTR_SETSIGDEFAULT.invokeExact(attr, all));
                short flags = (short) (POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
                check("setflags", (int) ATTR_SETFLAGS.invokeExact(attr, flags));
                MemorySegment pid = arena.allocate(JAVA_INT);
                int rc = (int) POSIX_SPAWN.invokeExact(pid, arena.allocateFrom(path), fa, attr,
                        cStrings(arena, argv), cStrings(arena, env));
                check("posix_spawn " + path, rc);
                return pid.get(JAVA_INT, 0);
            } finally {
                int ignored1 = (int) FA_DESTROY.invokeExact(fa);
                int ignored2 = (int) ATTR_DESTROY.invokeExact(attr);
            }
        } catch (NativeException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    private static void check(String what, int rc) throws NativeException {
        if (rc != 0) {
            throw new NativeException(what, rc);
        }
    }

    private static MemorySegment cStrings(Arena arena, List<String> values) {
        MemorySegment array = arena.allocate(ADDRESS, values.size() + 1L);
        for (int i = 0; i < values.size(); i++) {
            array.setAtIndex(ADDRESS, i, arena.allocateFrom(values.get(i)));
        }
        array.setAtIndex(ADDRESS, values.size(), MemorySegment.NULL);
        return array;
    }

    /** Exit code for a raw wait status: the exit code, or 128 + the signal number. */
    public static int exitCode(int status) {
        int signal = status & 0x7f;
        return signal == 0 ? (status >> 8) & 0xff : 128 + signal;
    }

    /** Whether a raw wait status means the process was killed by a signal. */
    public static boolean killedBySignal(int status) {
        return (status & 0x7f) != 0;
    }
}
