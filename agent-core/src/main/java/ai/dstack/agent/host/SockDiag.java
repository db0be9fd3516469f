package ai.dstack.agent.host;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.net.Inet4Address;
import java.net.InetSocketAddress;
import java.nio.ByteOrder;

/**
 * One TCP socket's inode from the kernel by its exact address pair, through netlink {@code sock_diag}
 * ({@code SOCK_DIAG_BY_FAMILY} without a dump: a hash lookup). Reading {@code /proc/net/tcp*} instead
 * walks every bucket of the kernel's connection table, milliseconds on a large host.
 */
final class SockDiag {
    private static final int AF_NETLINK = 16;
    private static final int AF_INET = 2;
    private static final int AF_INET6 = 10;
    private static final int SOCK_DGRAM = 2;
    private static final int SOCK_CLOEXEC = 0x80000;
    private static final int NETLINK_SOCK_DIAG = 4;
    private static final short SOCK_DIAG_BY_FAMILY = 20;
    private static final short NLM_F_REQUEST = 1;
    private static final short NLMSG_ERROR = 2;
    private static final int IPPROTO_TCP = 6;
    private static final int HEADER = 16;
    /** nlmsghdr + inet_diag_req_v2 (family, protocol, ext, pad, states, inet_diag_sockid). */
    private static final int REQUEST = HEADER + 8 + 48;
    /** Offset of idiag_inode in an answer: nlmsghdr, 4 bytes, inet_diag_sockid, expires, rqueue, wqueue, uid. */
    private static final int INODE_AT = HEADER + 4 + 48 + 16;
    private static final ValueLayout.OfShort BE_SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    private static final ValueLayout.OfInt NATIVE_INT = ValueLayout.JAVA_INT_UNALIGNED;
    private static final MethodHandle SOCKET;
    private static final MethodHandle SEND;
    private static final MethodHandle RECV;
    private static final MethodHandle CLOSE;

    static {
        Linker linker = Linker.nativeLinker();
        var libc = linker.defaultLookup();
        SOCKET = linker.downcallHandle(libc.find("socket").orElseThrow(),
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
        SEND = linker.downcallHandle(libc.find("send").orElseThrow(),
                FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG,
                        ValueLayout.JAVA_INT));
        RECV = linker.downcallHandle(libc.find("recv").orElseThrow(),
                FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG,
                        ValueLayout.JAVA_INT));
        CLOSE = linker.downcallHandle(libc.find("close").orElseThrow(),
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
    }

    private SockDiag() {
    }

    /**
     * The inode of the socket whose local end is {@code local} and remote end {@code remote}: 0 when
     * the kernel knows it but no file holds it any more, -1 when there is no such socket or netlink
     * cannot be asked (the caller then reads /proc).
     */
    static long inode(InetSocketAddress local, InetSocketAddress remote) {
        boolean v4 = local.getAddress() instanceof Inet4Address && remote.getAddress() instanceof Inet4Address;
        try (Arena arena = Arena.ofConfined()) {
            int fd = (int) SOCKET.invokeExact(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
            if (fd < 0) {
                return -1;
            }
            try {
                MemorySegment req = arena.allocate(REQUEST);
                req.set(NATIVE_INT, 0, REQUEST);
                req.set(ValueLayout.JAVA_SHORT_UNALIGNED, 4, SOCK_DIAG_BY_FAMILY);
                req.set(ValueLayout.JAVA_SHORT_UNALIGNED, 6, NLM_F_REQUEST);
                req.set(ValueLayout.JAVA_BYTE, HEADER, (byte) (v4 ? AF_INET : AF_INET6));
                req.set(ValueLayout.JAVA_BYTE, HEADER + 1, (byte) IPPROTO_TCP);
                req.set(NATIVE_INT, HEADER + 4, -1); // every state
                int id = HEADER + 8;
                req.set(BE_SHORT, id, (short) local.getPort());
                req.set(BE_SHORT, id + 2, (short) remote.getPort());
                MemorySegment.copy(address(local, v4), 0, req, ValueLayout.JAVA_BYTE, id + 4, v4 ? 4 : 16);
                MemorySegment.copy(address(remote, v4), 0, req, ValueLayout.JAVA_BYTE, id + 20, v4 ? 4 : 16);
                req.set(NATIVE_INT, id + 40, -1); // no cookie to check
                req.set(NATIVE_INT, id + 44, -1);
                if ((long) SEND.invokeExact(fd, req, (long) REQUEST, 0) != REQUEST) {
                    return -1;
                }
                MemorySegment answer = arena.allocate(8192);
                long n = (long) RECV.invokeExact(fd, answer, 8192L, 0);
                if (n < HEADER || answer.get(ValueLayout.JAVA_SHORT_UNALIGNED, 4) == NLMSG_ERROR || n < INODE_AT + 4) {
                    return -1;
                }
                return Integer.toUnsignedLong(answer.get(NATIVE_INT, INODE_AT));
            } finally {
                int ignored = (int) CLOSE.invokeExact(fd);
            }
        } catch (Throwable e) {
            return -1;
        }
    }

    /** The address as the request carries it: 4 bytes for IPv4, else 16 (IPv4 as ::ffff:a.b.c.d). */
    private static byte[] address(InetSocketAddress a, boolean v4) {
        byte[] raw = a.getAddress().getAddress();
        if (v4 || raw.length == 16) {
            return raw;
        }
        byte[] mapped = new byte[16];
        mapped[10] = (byte) 0xff;
        mapped[11] = (byte) 0xff;
        System.arraycopy(raw, 0, mapped, 12, 4);
        return mapped;
    }
}
