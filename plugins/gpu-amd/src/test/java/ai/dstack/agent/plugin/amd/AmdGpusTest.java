package ai.dstack.agent.plugin.amd;

import static org.assertj.core.api.Assertions.assertThat;

import ai.dstack.agent.spi.ContainerEdits;
import ai.dstack.agent.spi.ContainerView;
import ai.dstack.agent.spi.Device;
import ai.dstack.agent.spi.DeviceNode;
import ai.dstack.agent.spi.Fingerprint;
import ai.dstack.agent.spi.ToolResult;
import ai.dstack.agent.testing.FakeHost;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AmdGpusTest {
    @TempDir
    Path root;

    private final AmdGpus plugin = new AmdGpus();

    /** A host with /dev/kfd and a by-path render link per bus address (renderD128, 129, …). */
    private FakeHost amdHost(String... bdfs) {
        FakeHost host = new FakeHost(root).file("/dev/kfd", "");
        for (int i = 0; i < bdfs.length; i++) {
            host.file("/dev/dri/renderD" + (128 + i), "").link("/dev/dri/by-path/pci-" + bdfs[i] + "-render", "../renderD" + (128 + i));
        }
        return host;
    }

    @Test
    void readsTheArrayShapeAndAddressesGpusByRenderNode() {
        FakeHost host = amdHost("0000:0c:00.0", "0000:22:00.0").answerResource("amd-smi", getClass(), "/amd-smi/mi300x-x2-array.json");
        Fingerprint fp = plugin.fingerprint(host);

        assertThat(fp.error()).isNull();
        assertThat(fp.devices()).containsExactly(
                new Device("amd", "/dev/dri/renderD128", 0, "AMD Instinct MI300X", 196592, "6.7.0", true, "", "0000:0c:00.0"),
                new Device("amd", "/dev/dri/renderD129", 1, "AMD Instinct MI300X", 196592, "6.7.0", true, "", "0000:22:00.0"));
        assertThat(host.calls()).containsExactly(List.of("amd-smi", "static", "--json", "--asic", "--vram", "--bus", "--driver"));
    }

    @Test
    void readsTheGpuDataShape() {
        FakeHost host = amdHost("0000:05:00.0", "0000:26:00.0", "0000:46:00.0").answerResource("amd-smi", getClass(), "/amd-smi/mi325x-x3-gpu-data.json");
        assertThat(plugin.fingerprint(host).devices()).extracting(Device::name, Device::memoryMib)
                .containsOnly(org.assertj.core.groups.Tuple.tuple("AMD Instinct MI325X", 262128L)).hasSize(3);
    }

    @Test
    void oldReleasesUpperCaseKeysAndDriverVersionAreUnderstood() {
        FakeHost host = amdHost("0000:c1:00.0").answerResource("amd-smi", getClass(), "/amd-smi/mi250-old-keys.json");
        Device d = plugin.fingerprint(host).devices().getFirst();
        assertThat(d.name()).isEqualTo("AMD Instinct MI250X/MI250");
        assertThat(d.driverVersion()).isEqualTo("6.3.6");
        assertThat(d.memoryMib()).isEqualTo(65520);
    }

    @Test
    void aGpuWithoutRenderLinkIsSkippedAndSaidSo() {
        FakeHost host = amdHost("0000:0c:00.0").answerResource("amd-smi", getClass(), "/amd-smi/mi300x-x2-array.json");
        Fingerprint fp = plugin.fingerprint(host);
        assertThat(fp.devices()).extracting(Device::id).containsExactly("/dev/dri/renderD128");
        assertThat(fp.error()).contains("0000:22:00.0");
    }

    @Test
    void emptyMalformedAndWrongShapes() {
        assertThat(plugin.fingerprint(amdHost().answerResource("amd-smi", getClass(), "/amd-smi/empty.json")).devices()).isEmpty();
        assertThat(plugin.fingerprint(amdHost().answerResource("amd-smi", getClass(), "/amd-smi/malformed.json")).error()).contains("unparsable JSON");
        assertThat(plugin.fingerprint(amdHost().answerResource("amd-smi", getClass(), "/amd-smi/wrong-shape.json")).error()).contains("expected a JSON array");
    }

    @Test
    void withoutAmdSmiOnPathItRunsTheImageWithTheDevices() {
        FakeHost host = amdHost("0000:0c:00.0", "0000:22:00.0").answerResource("image:amd-smi", getClass(), "/amd-smi/mi300x-x2-array.json");
        assertThat(plugin.fingerprint(host).devices()).hasSize(2);
        assertThat(host.calls()).containsExactly(
                List.of("amd-smi", "static", "--json", "--asic", "--vram", "--bus", "--driver"),
                List.of("image:amd-smi", "--device", "/dev/kfd", "--device", "/dev/dri", "--",
                        "static", "--json", "--asic", "--vram", "--bus", "--driver"));
    }

    @Test
    void aNonZeroExitIsRetriedOnceWithoutDriver() {
        FakeHost host = amdHost("0000:0c:00.0", "0000:22:00.0")
                .answer("image:amd-smi", new ToolResult(125, "", "Unable to find image", false, false))
                .answerResource("image:amd-smi", getClass(), "/amd-smi/mi300x-x2-array.json");
        assertThat(plugin.fingerprint(host).devices()).hasSize(2);
        List<List<String>> dockerCalls = new ArrayList<>(host.calls().stream().filter(c -> c.getFirst().equals("image:amd-smi")).toList());
        assertThat(dockerCalls).hasSize(2);
        assertThat(dockerCalls.get(1)).endsWith("--bus").doesNotContain("--driver");
    }

    @Test
    void aTimeoutIsNotRetried() {
        FakeHost host = amdHost().answer("amd-smi", new ToolResult(-1, "", "", false, true));
        assertThat(plugin.fingerprint(host).error()).isEqualTo("amd-smi: timed out");
        assertThat(host.calls()).hasSize(1);
    }

    @Test
    void withoutKfdTheVendorIsAbsent() {
        assertThat(plugin.fingerprint(new FakeHost(root)).present()).isFalse();
    }

    @Test
    void reserveMapsKfdAndTheRenderNodesWithHostIpcPtraceAndNoSeccomp() {
        List<Device> devices = List.of(Device.of("amd", "/dev/dri/renderD129", 1, "", 0, ""), Device.of("amd", "/dev/dri/renderD131", 3, "", 0, ""));
        ContainerEdits edits = plugin.reserve(devices, new FakeHost(root));
        assertThat(edits.deviceNodes()).containsExactly(DeviceNode.same("/dev/kfd"), DeviceNode.same("/dev/dri/renderD129"), DeviceNode.same("/dev/dri/renderD131"));
        assertThat(edits.ipcMode()).isEqualTo("host");
        assertThat(edits.capAdd()).containsExactly("SYS_PTRACE");
        assertThat(edits.securityOpts()).containsExactly("seccomp=unconfined");
    }

    @Test
    void recoverReadsTheMappedRenderNodes() {
        ContainerView view = new ContainerView(Map.of(), List.of(DeviceNode.same("/dev/kfd"), DeviceNode.same("/dev/dri/renderD130"), DeviceNode.same("/dev/infiniband")), List.of(), "");
        assertThat(plugin.recover(view)).containsExactly("/dev/dri/renderD130");
    }
}
