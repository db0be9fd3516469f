package ai.dstack.agent.plugin.gaudi;

import static org.assertj.core.api.Assertions.assertThat;

import ai.dstack.agent.spi.ContainerEdits;
import ai.dstack.agent.spi.ContainerView;
import ai.dstack.agent.spi.Device;
import ai.dstack.agent.spi.Fingerprint;
import ai.dstack.agent.testing.FakeHost;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GaudiAcceleratorsTest {
    @TempDir
    Path root;

    private final GaudiAccelerators plugin = new GaudiAccelerators();

    private FakeHost gaudiHost(String fixture) {
        return new FakeHost(root).dir("/dev/accel").answerResource("hl-smi", getClass(), "/hl-smi/" + fixture);
    }

    @Test
    void findsEightGaudi2AddressedByIndex() {
        Fingerprint fp = plugin.fingerprint(gaudiHost("gaudi2-x8.csv"));
        assertThat(fp.devices()).hasSize(8);
        assertThat(fp.devices().get(5)).isEqualTo(new Device("intel", "5", 5, "HL-225", 98304, "", true, "", ""));
    }

    @Test
    void findsGaudi3() {
        assertThat(plugin.fingerprint(gaudiHost("gaudi3-x2.csv")).devices()).extracting(Device::name, Device::memoryMib)
                .containsOnly(org.assertj.core.groups.Tuple.tuple("HL-325L", 131072L)).hasSize(2);
    }

    @Test
    void emptyAndMalformedOutput() {
        assertThat(plugin.fingerprint(gaudiHost("empty.csv")).devices()).isEmpty();
        Fingerprint bad = plugin.fingerprint(gaudiHost("malformed.csv"));
        assertThat(bad.devices()).extracting(Device::id).containsExactly("0");
        assertThat(bad.error()).contains("line 2");
    }

    @Test
    void missingToolAndMissingDevices() {
        assertThat(plugin.fingerprint(new FakeHost(root).dir("/dev/accel")).error()).isEqualTo("hl-smi: not found on PATH");
        assertThat(plugin.fingerprint(new FakeHost(root.resolve("bare"))).present()).isFalse();
    }

    @Test
    void reserveUsesTheHabanaRuntimeWithVisibleDevicesHostIpcAndSysNice() {
        ContainerEdits edits = plugin.reserve(List.of(Device.of("intel", "2", 2, "", 0, ""), Device.of("intel", "3", 3, "", 0, "")), new FakeHost(root));
        assertThat(edits.runtime()).isEqualTo("habana");
        assertThat(edits.env()).containsExactly(Map.entry("HABANA_VISIBLE_DEVICES", "2,3"));
        assertThat(edits.ipcMode()).isEqualTo("host");
        assertThat(edits.capAdd()).containsExactly("SYS_NICE");
    }

    @Test
    void recoverReadsHabanaVisibleDevices() {
        assertThat(plugin.recover(new ContainerView(Map.of("HABANA_VISIBLE_DEVICES", "4,5"), List.of(), List.of(), "habana"))).containsExactly("4", "5");
        assertThat(plugin.recover(new ContainerView(Map.of(), List.of(), List.of(), ""))).isEmpty();
    }
}
