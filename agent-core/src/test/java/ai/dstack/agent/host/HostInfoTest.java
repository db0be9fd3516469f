package ai.dstack.agent.host;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import org.junit.jupiter.api.Test;

class HostInfoTest {
    private static String text(String v6) throws Exception {
        return HostInfo.compressed(InetAddress.getByName(v6).getAddress());
    }

    @Test
    void ipv6IsWrittenCompressedAsGoDoes() throws Exception {
        assertThat(text("fe80:0:0:0:fc:ff:fe00:1")).isEqualTo("fe80::fc:ff:fe00:1");
        assertThat(text("fd00:0:0:0:0:0:0:2")).isEqualTo("fd00::2");
        assertThat(text("0:0:0:0:0:0:0:0")).isEqualTo("::");
        assertThat(text("2001:db8:0:1:0:0:0:1")).isEqualTo("2001:db8:0:1::1");
        assertThat(text("2001:db8:0:0:1:0:0:1")).isEqualTo("2001:db8::1:0:0:1");
        assertThat(text("2001:db8:1:1:1:1:0:1")).isEqualTo("2001:db8:1:1:1:1:0:1");
        assertThat(text("fd11:0:0:0:0:0:0:0")).isEqualTo("fd11::");
    }
}
