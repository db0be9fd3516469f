package ai.dstack.agent.host;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ai.dstack.agent.testing.Commands;
import ai.dstack.agent.testing.ShimProcess;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * host_info.json lists addresses in the kernel's interface order: the server takes the first IPv4
 * as the instance's internal IP, so a bridge created after the main interface must not come first.
 */
class HostAddressesIT {
    @TempDir
    Path tmp;

    @Test
    void aBridgeCreatedLaterDoesNotComeBeforeTheMainInterface() throws Exception {
        assumeTrue(Commands.isRoot() && Commands.succeeds("ip", "-V"), "needs root and iproute2");
        List<String[]> kernel = ipAddr();
        String[] main = kernel.stream().filter(a -> a[1].equals("inet")).findFirst().orElse(null);
        assumeTrue(main != null, "no IPv4 address besides loopback");
        String bridge = "sfb" + Integer.toHexString(ThreadLocalRandom.current().nextInt(0x1000, 0xffff));
        String bridgeAddr = "10.252." + ThreadLocalRandom.current().nextInt(1, 254) + ".1/24";
        Commands.run("ip", "link", "add", bridge, "type", "bridge");
        try {
            Commands.run("ip", "addr", "add", bridgeAddr, "dev", bridge);
            Commands.run("ip", "addr", "add", "fd5e:0:0:7::1/64", "dev", bridge);
            try (ShimProcess shim = ShimProcess.builder(tmp).env("DSTACK_SERVICE_MODE", "1").start()) {
                JsonNode info = new ObjectMapper().readTree(shim.home().resolve("host_info.json").toFile());
                List<String> addresses = new ArrayList<>();
                info.path("addresses").forEach(a -> addresses.add(a.asText()));
                String firstV4 = addresses.stream().filter(a -> !a.contains(":")).findFirst().orElseThrow();
                assertThat(firstV4).as("%s", addresses).isEqualTo(main[2]);
                // The main interface's addresses as the kernel lists them, the bridge's after them.
                List<String> mainAll = kernel.stream().filter(a -> a[0].equals(main[0]))
                        .map(a -> a[2]).toList();
                assertThat(addresses).containsSubsequence(mainAll);
                assertThat(addresses).containsSubsequence(main[2], bridgeAddr, "fd5e:0:0:7::1/64");
                assertThat(addresses).noneMatch(a -> a.startsWith("127.") || a.equals("::1/128"));
            }
        } finally {
            Commands.run("ip", "link", "del", bridge);
        }
    }

    /** {@code ip -o addr} lines without loopback: interface, family, address/prefix (IPv6 compressed). */
    private static List<String[]> ipAddr() {
        List<String[]> out = new ArrayList<>();
        for (String line : Commands.run("ip", "-o", "addr").split("\n")) {
            String[] f = line.trim().split("\\s+");
            if (f.length >= 4 && !f[1].equals("lo")) {
                out.add(new String[] {f[1], f[2], f[3]});
            }
        }
        return out;
    }
}
