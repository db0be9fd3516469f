package ai.dstack.agent.pluginhost;

import static org.assertj.core.api.Assertions.assertThat;

import ai.dstack.agent.spi.Fingerprint;
import ai.dstack.agent.spi.HostContext;
import ai.dstack.agent.testing.FakeHost;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The running shim's {@code devices.json}: what it holds after each refresh, and who wrote it. */
class InventoryStateTest {
    @TempDir
    Path tmp;

    /** A vendor whose tool starts failing (a driver hiccup) when told to, and recovers when told to. */
    static final class FlakyAccelerator extends StubAccelerator {
        volatile String failure;

        FlakyAccelerator() {
            super("nvidia", 0, 2);
        }

        @Override
        public Fingerprint fingerprint(HostContext host) {
            return failure == null ? super.fingerprint(host) : Fingerprint.failed("nvidia", failure);
        }
    }

    @Test
    void eachRefreshWritesTheDevicesInUseAndTheLastFailureUntilTheNextSuccess() throws Exception {
        FlakyAccelerator tool = new FlakyAccelerator();
        DeviceInventory inventory = new DeviceInventory(List.of(tool), new FakeHost(tmp.resolve("root")));
        Path file = tmp.resolve("home").resolve(InventoryState.FILE_NAME);
        inventory.writeStateTo(file);

        inventory.refresh();
        InventoryState good = InventoryState.read(file).orElseThrow();
        assertThat(good.pid()).isEqualTo(ProcessHandle.current().pid());
        assertThat(good.writerRunning()).isTrue();
        assertThat(good.primaryVendor()).isEqualTo("nvidia");
        InventoryState.Vendor nvidia = good.vendors().getFirst();
        assertThat(nvidia.devices()).extracting(d -> d.id()).containsExactly("nvidia-0", "nvidia-1");
        assertThat(nvidia.fingerprintedAt()).isNotNull();
        assertThat(nvidia.lastFailure()).isNull();
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("rw-r--r--");

        tool.failure = "nvidia-smi: exit code 9: NVIDIA-SMI has failed\n  because it could not communicate with the driver.";
        inventory.refresh();
        InventoryState.Vendor kept = InventoryState.read(file).orElseThrow().vendors().getFirst();
        assertThat(kept.devices()).extracting(d -> d.id()).containsExactly("nvidia-0", "nvidia-1");
        assertThat(kept.fingerprintedAt()).isEqualTo(nvidia.fingerprintedAt());
        assertThat(kept.lastFailure().error())
                .isEqualTo("nvidia-smi: exit code 9: NVIDIA-SMI has failed because it could not communicate with the driver.");
        assertThat(Instant.parse(kept.lastFailure().at())).isAfterOrEqualTo(Instant.parse(nvidia.fingerprintedAt()));

        tool.failure = null;
        inventory.refresh();
        InventoryState.Vendor again = InventoryState.read(file).orElseThrow().vendors().getFirst();
        assertThat(again.lastFailure()).isNull();
        assertThat(Instant.parse(again.fingerprintedAt())).isAfterOrEqualTo(Instant.parse(kept.lastFailure().at()));
    }

    @Test
    void aFailureBeforeAnyDevicesIsWrittenWithNoDevices() throws Exception {
        FlakyAccelerator tool = new FlakyAccelerator();
        tool.failure = "nvidia-smi: timed out";
        DeviceInventory inventory = new DeviceInventory(List.of(tool), new FakeHost(tmp.resolve("root")));
        Path file = tmp.resolve(InventoryState.FILE_NAME);
        inventory.writeStateTo(file);
        inventory.refresh();
        InventoryState state = InventoryState.read(file).orElseThrow();
        assertThat(state.primaryVendor()).isEqualTo("none");
        assertThat(state.vendors().getFirst().devices()).isEmpty();
        assertThat(state.vendors().getFirst().fingerprintedAt()).isNull();
        assertThat(state.vendors().getFirst().lastFailure().error()).isEqualTo("nvidia-smi: timed out");
    }

    @Test
    void aStateOfAProcessThatEndedOrOfAnotherProcessWithTheSamePidIsNotARunningShim() throws Exception {
        Process ended = new ProcessBuilder("true").start();
        ended.waitFor();
        assertThat(new InventoryState(ended.pid(), "", Instant.now().toString(), "none", List.of()).writerRunning()).isFalse();
        // This very pid, started at another time: the pid was given to another process since.
        assertThat(new InventoryState(ProcessHandle.current().pid(), "2000-01-01T00:00:00Z", Instant.now().toString(), "none",
                List.of()).writerRunning()).isFalse();
        assertThat(InventoryState.read(tmp.resolve("absent.json"))).isEmpty();
    }
}
