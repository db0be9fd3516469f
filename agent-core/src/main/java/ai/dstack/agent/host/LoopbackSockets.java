package ai.dstack.agent.host;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HexFormat;
import java.util.List;

/**
 * Who holds the client end of a TCP connection on this host: the socket's inode (from the kernel
 * through netlink, else {@code /proc/net/tcp*}), then whether a process of a given PID namespace has
 * it among its open files in {@code /proc}. Only the namespace's own processes are read, never the whole host,
 * so the cost grows with the container's processes, not the host's.
 */
public final class LoopbackSockets {
    private final Path proc;

    /** @param proc the proc file system, {@code /proc} outside tests */
    public LoopbackSockets(Path proc) {
        this.proc = proc;
    }

    /**
     * The inode of the client's socket of a connection from {@code client} to our {@code server} address:
     * 0 when the kernel no longer ties it to a file (its owner closed it) or no such connection exists.
     * Asks the kernel for that one socket (netlink sock_diag); reads {@code /proc/net/tcp*} where it cannot.
     */
    public long clientInode(InetSocketAddress client, InetSocketAddress server) {
        long inode = SockDiag.inode(client, server);
        return inode >= 0 ? inode : inodeFromProc(client, server.getPort());
    }

    /** The same from {@code /proc/net/tcp6} and {@code tcp}: a walk of the whole connection table. */
    long inodeFromProc(InetSocketAddress client, int serverPort) {
        byte[] address = client.getAddress().getAddress();
        String port = ":" + hexPort(client.getPort());
        byte[] v6 = address;
        if (address.length == 4) {
            // Java's server sockets are dual-stack: an IPv4 client is listed in tcp6 as ::ffff:a.b.c.d.
            v6 = new byte[16];
            v6[10] = (byte) 0xff;
            v6[11] = (byte) 0xff;
            System.arraycopy(address, 0, v6, 12, 4);
        }
        long inode = find("net/tcp6", procAddress(v6) + port, serverPort);
        if (inode == 0 && address.length == 4) {
            inode = find("net/tcp", procAddress(address) + port, serverPort);
        }
        return inode;
    }

    private long find(String table, String local, int serverPort) {
        String remotePort = ":" + hexPort(serverPort);
        List<String> lines;
        try {
            lines = Files.readAllLines(proc.resolve(table));
        } catch (IOException e) {
            return 0;
        }
        for (String line : lines) {
            String[] f = line.trim().split("\\s+");
            // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode …
            if (f.length > 9 && f[1].equalsIgnoreCase(local) && f[2].toUpperCase(java.util.Locale.ROOT).endsWith(remotePort)) {
                try {
                    return Long.parseLong(f[9]);
                } catch (NumberFormatException e) {
                    return 0;
                }
            }
        }
        return 0;
    }

    /**
     * Whether a process in the PID namespace of {@code initPid} (a container's main process, as the
     * host numbers it) holds socket {@code inode}. The namespace's processes are read from its own
     * {@code /proc} mount (which lists processes that joined it later too, e.g. {@code docker exec});
     * without one, from {@code initPid}'s descendants, where orphans of the namespace end up.
     */
    public boolean heldInNamespaceOf(long initPid, long inode) {
        String link = "socket:[" + inode + "]";
        Path inner = proc.resolve(initPid + "/root/proc");
        if (Files.isDirectory(inner.resolve("1/fd"))) {
            for (Path pid : numericEntries(inner)) {
                if (holds(pid, link)) {
                    return true;
                }
            }
            return false;
        }
        Deque<Long> todo = new ArrayDeque<>(List.of(initPid));
        while (!todo.isEmpty()) {
            long pid = todo.pop();
            Path dir = proc.resolve(Long.toString(pid));
            if (holds(dir, link)) {
                return true;
            }
            for (Path task : numericEntries(dir.resolve("task"))) {
                try {
                    for (String child : Files.readString(task.resolve("children")).trim().split("\\s+")) {
                        if (!child.isEmpty()) {
                            todo.push(Long.parseLong(child));
                        }
                    }
                } catch (IOException | NumberFormatException e) {
                    // the thread ended meanwhile
                }
            }
        }
        return false;
    }

    private static boolean holds(Path processDir, String link) {
        for (Path fd : entries(processDir.resolve("fd"))) {
            try {
                if (Files.readSymbolicLink(fd).toString().equals(link)) {
                    return true;
                }
            } catch (IOException | UnsupportedOperationException e) {
                // closed meanwhile
            }
        }
        return false;
    }

    private static List<Path> numericEntries(Path dir) {
        return entries(dir).stream().filter(p -> p.getFileName().toString().chars().allMatch(Character::isDigit)).toList();
    }

    private static List<Path> entries(Path dir) {
        try (DirectoryStream<Path> s = Files.newDirectoryStream(dir)) {
            List<Path> out = new java.util.ArrayList<>();
            s.forEach(out::add);
            return out;
        } catch (IOException | UncheckedIOException e) {
            return List.of(); // the process ended, or is not ours to read
        }
    }

    /** An address as /proc/net/tcp* prints it: each 32-bit word in the host's (little-endian) order. */
    static String procAddress(byte[] address) {
        byte[] out = new byte[address.length];
        for (int word = 0; word < address.length; word += 4) {
            for (int i = 0; i < 4; i++) {
                out[word + i] = address[word + 3 - i];
            }
        }
        return HexFormat.of().withUpperCase().formatHex(out);
    }

    private static String hexPort(int port) {
        return String.format("%04X", port);
    }
}
