package ai.dstack.agent.plugin;

import ai.dstack.agent.spi.HostContext;
import java.io.IOException;
import java.net.InterfaceAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * Host facts besides accelerators (spec §5.6), as {@code bin/dstack-shim host} shows them.
 *
 * @param cpus        logical CPUs usable by the agent
 * @param memoryBytes total RAM ({@code MemTotal} of {@code /proc/meminfo}), 0 when unreadable
 * @param addresses   every non-loopback address of every interface, CIDR text; never null
 */
public record HostFacts(int cpus, long memoryBytes, List<String> addresses) {
    public HostFacts {
        addresses = List.copyOf(addresses);
    }

    /** Reads them now; {@code /proc/meminfo} under the host root. */
    public static HostFacts read(HostContext host) {
        return new HostFacts(Runtime.getRuntime().availableProcessors(), memTotal(host), interfaceAddresses());
    }

    static long memTotal(HostContext host) {
        try {
            for (String line : Files.readAllLines(host.hostPath("/proc/meminfo"))) {
                if (line.startsWith("MemTotal:")) {
                    String[] f = line.split("\\s+");
                    return Long.parseLong(f[1]) * 1024;
                }
            }
        } catch (IOException | RuntimeException e) {
            // unknown
        }
        return 0;
    }

    static List<String> interfaceAddresses() {
        List<String> out = new ArrayList<>();
        try {
            for (NetworkInterface nif : Collections.list(NetworkInterface.getNetworkInterfaces())) {
                for (InterfaceAddress a : nif.getInterfaceAddresses()) {
                    if (!a.getAddress().isLoopbackAddress()) {
                        String ip = a.getAddress().getHostAddress();
                        int zone = ip.indexOf('%');
                        out.add((zone >= 0 ? ip.substring(0, zone) : ip) + "/" + a.getNetworkPrefixLength());
                    }
                }
            }
        } catch (SocketException e) {
            // none known
        }
        return out;
    }
}
