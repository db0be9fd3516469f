package ai.dstack.agent.host;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** On the real /proc, with a real loopback connection of this JVM. */
class LoopbackSocketsTest {
    private final LoopbackSockets sockets = new LoopbackSockets(Path.of("/proc"));

    @Test
    void findsTheClientSocketOfALoopbackConnectionAndTheNamespaceThatHoldsIt() throws Exception {
        try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
             Socket client = new Socket(InetAddress.getLoopbackAddress(), server.getLocalPort());
             Socket accepted = server.accept()) {
            InetSocketAddress peer = (InetSocketAddress) accepted.getRemoteSocketAddress();
            InetSocketAddress ours = (InetSocketAddress) accepted.getLocalSocketAddress();
            long inode = sockets.clientInode(peer, ours);
            assertThat(inode).isPositive();
            assertThat(sockets.inodeFromProc(peer, server.getLocalPort())).as("netlink and /proc agree").isEqualTo(inode);
            long self = ProcessHandle.current().pid();
            assertThat(sockets.heldInNamespaceOf(self, inode)).isTrue();
            // Not the server's port: no such connection.
            InetSocketAddress elsewhere = new InetSocketAddress(ours.getAddress(), ours.getPort() == 1 ? 2 : 1);
            assertThat(sockets.clientInode(peer, elsewhere)).isZero();
            assertThat(sockets.inodeFromProc(peer, elsewhere.getPort())).isZero();
            // A process with no descendants holding it: `sleep` started here holds none of our sockets.
            Process sleep = new ProcessBuilder("sleep", "30").start();
            try {
                assertThat(new LoopbackSockets(Path.of("/nonexistent")).heldInNamespaceOf(self, inode)).isFalse();
                assertThat(sockets.heldInNamespaceOf(sleep.pid(), inode))
                        .as("sleep's /proc/<pid>/root/proc is the same /proc: it lists this JVM too").isTrue();
            } finally {
                sleep.destroyForcibly();
            }
        }
    }

    @Test
    void addressesAreWrittenAsTheKernelPrintsThem() {
        assertThat(LoopbackSockets.procAddress(new byte[] {127, 0, 0, 1})).isEqualTo("0100007F");
        byte[] v6 = new byte[16];
        v6[15] = 1;
        assertThat(LoopbackSockets.procAddress(v6)).isEqualTo("00000000000000000000000001000000");
    }
}
