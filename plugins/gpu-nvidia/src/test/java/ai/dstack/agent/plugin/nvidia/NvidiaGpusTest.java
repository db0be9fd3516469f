package ai.dstack.agent.plugin.nvidia;

import static org.assertj.core.api.Assertions.assertThat;

import ai.dstack.agent.spi.ContainerEdits;
import ai.dstack.agent.spi.ContainerView;
import ai.dstack.agent.spi.Device;
import ai.dstack.agent.spi.DeviceRequest;
import ai.dstack.agent.spi.Fingerprint;
import ai.dstack.agent.spi.HealthIncident;
import ai.dstack.agent.spi.HealthIncident.Severity;
import ai.dstack.agent.spi.HealthReport;
import ai.dstack.agent.spi.ToolResult;
import ai.dstack.agent.testing.FakeHost;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NvidiaGpusTest {
    @TempDir
    Path root;

    private final NvidiaGpus plugin = new NvidiaGpus();

    private FakeHost nvidiaHost(String fixture) {
        return new FakeHost(root).file("/dev/nvidiactl", "").answerResource("nvidia-smi", getClass(), "/nvidia-smi/" + fixture);
    }

    @Test
    void findsEightH100sWithUuidsAsIdsInEnumerationOrder() {
        Fingerprint fp = plugin.fingerprint(nvidiaHost("h100-x8.csv"));

        assertThat(fp.present()).isTrue();
        assertThat(fp.error()).isNull();
        assertThat(fp.devices()).hasSize(8);
        Device first = fp.devices().getFirst();
        assertThat(first).isEqualTo(new Device("nvidia", "GPU-2b79666e-d81f-f3f8-fd47-9903f118c3f5", 0,
                "NVIDIA H100 80GB HBM3", 81559, "570.86.15", true, "", "00000000:18:00.0"));
        assertThat(fp.devices()).extracting(Device::index).containsExactly(0, 1, 2, 3, 4, 5, 6, 7);
    }

    @Test
    void readsOtherModels() {
        assertThat(plugin.fingerprint(nvidiaHost("a10g-x1.csv")).devices()).singleElement()
                .satisfies(d -> assertThat(d.name()).isEqualTo("NVIDIA A10G"))
                .satisfies(d -> assertThat(d.memoryMib()).isEqualTo(23028));
        assertThat(plugin.fingerprint(nvidiaHost("l4-x4.csv")).devices()).extracting(Device::name).containsOnly("NVIDIA L4").hasSize(4);
    }

    @Test
    void unknownMemoryAndDriverBecomeZeroAndEmpty() {
        Device d = plugin.fingerprint(nvidiaHost("unknown-fields.csv")).devices().getFirst();
        assertThat(d.memoryMib()).isZero();
        assertThat(d.driverVersion()).isEmpty();
    }

    @Test
    void aMalformedRecordStopsParsingAndKeepsWhatCameBefore() {
        Fingerprint fp = plugin.fingerprint(nvidiaHost("malformed.csv"));
        assertThat(fp.devices()).extracting(Device::id).containsExactly("GPU-11111111-2222-3333-4444-555555555555");
        assertThat(fp.error()).contains("line 2 has 3 fields");
    }

    @Test
    void noOutputMeansNoDevices() {
        Fingerprint fp = plugin.fingerprint(nvidiaHost("empty.csv"));
        assertThat(fp.devices()).isEmpty();
        assertThat(fp.error()).isNull();
    }

    @Test
    void withoutDeviceFilesTheVendorIsAbsentAndTheToolIsNotRun() {
        FakeHost host = new FakeHost(root).answer("nvidia-smi", "x");
        assertThat(plugin.fingerprint(host)).isEqualTo(Fingerprint.absent("nvidia"));
        assertThat(host.calls()).isEmpty();
    }

    @Test
    void wsl2IsDetectedByDxgAndTheWslTool() {
        FakeHost host = new FakeHost(root).file("/dev/dxg", "").file("/usr/lib/wsl/lib/nvidia-smi", "")
                .answerResource("nvidia-smi", getClass(), "/nvidia-smi/a10g-x1.csv");
        assertThat(plugin.fingerprint(host).devices()).hasSize(1);
    }

    @Test
    void aMissingOrFailingToolIsAReportedStateNotACrash() {
        assertThat(plugin.fingerprint(new FakeHost(root).file("/dev/nvidiactl", "")).error()).isEqualTo("nvidia-smi: not found on PATH");
        FakeHost failing = new FakeHost(root).file("/dev/nvidiactl", "")
                .answer("nvidia-smi", new ToolResult(9, "", "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver", false, false));
        Fingerprint fp = plugin.fingerprint(failing);
        assertThat(fp.present()).isTrue();
        assertThat(fp.devices()).isEmpty();
        assertThat(fp.error()).contains("exit code 9").contains("couldn't communicate");
    }

    @Test
    void reserveAsksDockerForTheUuidsWithTheFullCapabilitySet() {
        List<Device> devices = plugin.fingerprint(nvidiaHost("l4-x4.csv")).devices().subList(1, 3);
        ContainerEdits edits = plugin.reserve(devices, new FakeHost(root));
        assertThat(edits.deviceRequests()).containsExactly(new DeviceRequest("",
                List.of("GPU-bbbbbbbb-1111-1111-1111-111111111111", "GPU-cccccccc-2222-2222-2222-222222222222"),
                List.of("gpu", "utility", "compute", "graphics", "video", "display", "compat32")));
        assertThat(edits.deviceNodes()).isEmpty();
    }

    @Test
    void aMissingModesetDeviceIsRetriedWithoutDisplayAndOtherErrorsAreNot() {
        List<Device> devices = plugin.fingerprint(nvidiaHost("l4-x4.csv")).devices().subList(0, 1);
        String modeset = "OCI runtime create failed: ... nvidia-container-cli: mount error: stat failed: /dev/nvidia-modeset: no such file or directory: unknown";
        assertThat(plugin.retryAfterStartFailure(devices, modeset, new FakeHost(root))).hasValueSatisfying(e ->
                assertThat(e.deviceRequests().getFirst().capabilities()).containsExactly("gpu", "utility", "compute", "graphics", "video", "compat32"));
        assertThat(plugin.retryAfterStartFailure(devices, "no space left on device", new FakeHost(root))).isEmpty();
    }

    @Test
    void recoverReadsTheDeviceRequestIds() {
        ContainerView view = new ContainerView(Map.of(), List.of(), List.of(new DeviceRequest("", List.of("GPU-a", "GPU-b"), List.of("gpu"))), "");
        assertThat(plugin.recover(view)).containsExactly("GPU-a", "GPU-b");
    }

    @Test
    void healthFromNvidiaSmiFlagsUncorrectableEccAsFailureAndThrottlingAsWarning() {
        FakeHost host = new FakeHost(root).answerResource("nvidia-smi", getClass(), "/nvidia-smi/health-faults.csv");
        List<HealthIncident> incidents = plugin.health(List.of(), host).incidents();
        assertThat(incidents).extracting(HealthIncident::deviceIndex, HealthIncident::severity).containsExactlyInAnyOrder(
                org.assertj.core.groups.Tuple.tuple(1, Severity.FAIL),
                org.assertj.core.groups.Tuple.tuple(2, Severity.WARN),
                org.assertj.core.groups.Tuple.tuple(2, Severity.WARN));
        assertThat(host.calls().getFirst()).isEqualTo(NvidiaHealth.QUERY);
    }

    @Test
    void healthyGpusHaveNoIncidents() {
        FakeHost host = new FakeHost(root).answerResource("nvidia-smi", getClass(), "/nvidia-smi/health-ok.csv");
        assertThat(plugin.health(List.of(), host)).isEqualTo(HealthReport.healthy());
    }

    @Test
    void dcgmiIncidentsAreReadFromItsJsonAfterEnablingTheWatches() {
        FakeHost host = new FakeHost(root)
                .answer("dcgmi", "Health monitor systems set successfully.\n")
                .answerResource("dcgmi", getClass(), "/nvidia-smi/dcgmi-incidents.json");
        List<HealthIncident> incidents = plugin.health(List.of(), host).incidents();
        assertThat(host.calls()).contains(List.of("dcgmi", "health", "-s", "a"), List.of("dcgmi", "health", "-c", "-j"));
        assertThat(incidents).extracting(HealthIncident::deviceIndex, HealthIncident::severity, HealthIncident::system).containsExactlyInAnyOrder(
                org.assertj.core.groups.Tuple.tuple(3, Severity.FAIL, 0x10),
                org.assertj.core.groups.Tuple.tuple(3, Severity.WARN, 0x1));
        assertThat(incidents).extracting(HealthIncident::message).contains("Detected more than 8 double bit ECC errors on GPU 3.");
    }

    @Test
    void aHealthyDcgmiReportHasNoIncidents() {
        FakeHost host = new FakeHost(root).answer("dcgmi", "ok").answerResource("dcgmi", getClass(), "/nvidia-smi/dcgmi-healthy.json");
        assertThat(plugin.health(List.of(), host).incidents()).isEmpty();
    }

    @Test
    void aHealthCheckWhoseNvidiaSmiCannotRunSaysSoRatherThanCallingTheGpusHealthy() {
        HealthReport report = plugin.health(List.of(), new FakeHost(root));
        assertThat(report.incidents()).isEmpty();
        assertThat(report.error()).isEqualTo("nvidia-smi: not found on PATH");
    }

    @Test
    void statsReportMemoryInUseAndUtilisationOfTheAskedGpus() {
        FakeHost host = new FakeHost(root).answerResource("nvidia-smi", getClass(), "/nvidia-smi/stats.csv");
        List<Device> devices = List.of(Device.of("nvidia", "GPU-bbbbbbbb-1111-1111-1111-111111111111", 1, "", 0, ""));
        assertThat(plugin.stats(devices, host)).containsExactly(
                new ai.dstack.agent.spi.DeviceStats("GPU-bbbbbbbb-1111-1111-1111-111111111111", 17408L * 1024 * 1024, 87));
        assertThat(host.calls()).containsExactly(NvidiaGpus.STATS_QUERY);
    }
}
