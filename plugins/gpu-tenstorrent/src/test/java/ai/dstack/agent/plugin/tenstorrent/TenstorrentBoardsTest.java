package ai.dstack.agent.plugin.tenstorrent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.groups.Tuple.tuple;

import ai.dstack.agent.spi.BindMount;
import ai.dstack.agent.spi.ContainerEdits;
import ai.dstack.agent.spi.ContainerView;
import ai.dstack.agent.spi.Device;
import ai.dstack.agent.spi.DeviceNode;
import ai.dstack.agent.spi.Fingerprint;
import ai.dstack.agent.spi.ToolResult;
import ai.dstack.agent.testing.FakeHost;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TenstorrentBoardsTest {
    @TempDir
    Path root;

    private final TenstorrentBoards plugin = new TenstorrentBoards();

    private Fingerprint fingerprint(String fixture) {
        FakeHost host = new FakeHost(root).dir("/dev/tenstorrent").file("/sys/module/tenstorrent/version", "1.34\n")
                .answerResource("tt-smi", getClass(), "/tt-smi/" + fixture);
        return plugin.fingerprint(host);
    }

    @Test
    void wormholeN300BoardsAreOneDeviceEachWithBothChipsMemory() {
        assertThat(fingerprint("n300-x2.json").devices()).extracting(Device::id, Device::name, Device::memoryMib, Device::driverVersion, Device::pciBusId)
                .containsExactly(tuple("0", "n300", 24576L, "1.34", "0000:c1:00.0"), tuple("1", "n300", 24576L, "1.34", "0000:01:00.0"));
    }

    @Test
    void singleN150() {
        assertThat(fingerprint("n150-x1.json").devices()).extracting(Device::name, Device::memoryMib).containsExactly(tuple("n150", 12288L));
    }

    @Test
    void blackholeNamesAreNormalised() {
        assertThat(fingerprint("p150-x2.json").devices()).extracting(Device::name, Device::memoryMib)
                .containsExactly(tuple("p150", 32768L), tuple("p150", 32768L));
        assertThat(fingerprint("p100-x1.json").devices()).extracting(Device::name, Device::memoryMib).containsExactly(tuple("p100a", 28672L));
    }

    @Test
    void p300SidesOnOneBoardAreOneDevice() {
        assertThat(fingerprint("p300-x1.json").devices()).extracting(Device::name, Device::memoryMib).containsExactly(tuple("p300", 65536L));
    }

    @Test
    void galaxyRemoteChipsAddTheirMemoryToTheirBoard() {
        assertThat(fingerprint("galaxy-bh.json").devices()).extracting(Device::id, Device::memoryMib)
                .containsExactly(tuple("0", 65536L), tuple("1", 98304L));
        assertThat(fingerprint("galaxy-wh.json").devices()).extracting(Device::id, Device::memoryMib)
                .containsExactly(tuple("0", 24576L), tuple("1", 12288L));
    }

    @Test
    void emptyMissingAndMalformedSnapshots() {
        assertThat(fingerprint("empty.json").devices()).isEmpty();
        assertThat(fingerprint("missing-device-info.json").error()).contains("no device_info");
        assertThat(fingerprint("malformed.json").error()).contains("unparsable JSON");
    }

    @Test
    void withoutTtSmiItRunsTheImageOnceAndAFailureIsReportedUntilTheNextFingerprint() {
        FakeHost host = new FakeHost(root).dir("/dev/tenstorrent")
                .answer("image:tt-smi", new ToolResult(125, "", "docker: Error response from daemon", false, false))
                .answerResource("image:tt-smi", getClass(), "/tt-smi/n150-x1.json");
        Fingerprint failed = plugin.fingerprint(host);
        assertThat(failed.devices()).isEmpty();
        assertThat(failed.error()).isEqualTo("tt-smi: exit code 125: docker: Error response from daemon");
        assertThat(host.calls()).containsExactly(
                List.of("tt-smi", "-s"), List.of("image:tt-smi", "--device", "/dev/tenstorrent", "--", "-s"));
        assertThat(plugin.fingerprint(host).devices()).hasSize(1);
    }

    @Test
    void reserveMapsEachIndexAndTheHugepagesWhenPresent() {
        List<Device> devices = List.of(Device.of("tenstorrent", "1", 1, "", 0, ""), Device.of("tenstorrent", "2", 2, "", 0, ""));
        ContainerEdits without = plugin.reserve(devices, new FakeHost(root));
        assertThat(without.deviceNodes()).containsExactly(DeviceNode.same("/dev/tenstorrent/1"), DeviceNode.same("/dev/tenstorrent/2"));
        assertThat(without.mounts()).isEmpty();
        ContainerEdits with = plugin.reserve(devices, new FakeHost(root).dir("/dev/hugepages-1G"));
        assertThat(with.mounts()).containsExactly(new BindMount("/dev/hugepages-1G", "/dev/hugepages-1G", false));
    }

    @Test
    void recoverReadsDeviceSuffixes() {
        ContainerView view = new ContainerView(Map.of(), List.of(DeviceNode.same("/dev/tenstorrent/3"), DeviceNode.same("/dev/tenstorrent/0"), DeviceNode.same("/dev/kfd")), List.of(), "");
        assertThat(plugin.recover(view)).containsExactly("3", "0");
    }
}
