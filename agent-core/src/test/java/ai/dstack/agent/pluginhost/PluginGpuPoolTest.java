package ai.dstack.agent.pluginhost;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.dstack.agent.spi.ContainerView;
import ai.dstack.agent.spi.HealthIncident;
import ai.dstack.agent.spi.HealthIncident.Severity;
import ai.dstack.agent.spi.topology.Topology;
import ai.dstack.agent.testing.FakeHost;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PluginGpuPoolTest {
    @TempDir
    Path root;

    private PluginGpuPool pool(StubAccelerator... plugins) {
        DeviceInventory inventory = new DeviceInventory(List.of(plugins), new FakeHost(root));
        inventory.refresh();
        return new PluginGpuPool(inventory, new FakeHost(root));
    }

    @Test
    void tasksGetDisjointSetsLowestIndexFirstAndAThirdFindsNoCapacity() throws Exception {
        PluginGpuPool pool = pool(new StubAccelerator("nvidia", 0, 4));
        assertThat(pool.allocate("a", 2)).containsExactly("nvidia-0", "nvidia-1");
        assertThat(pool.allocate("b", 2)).containsExactly("nvidia-2", "nvidia-3");
        assertThatThrownBy(() -> pool.allocate("c", 3)).isInstanceOf(GpuPool.NoCapacityException.class)
                .hasMessage("no capacity: 3 GPUs requested, 0 available");
        pool.release("a");
        assertThat(pool.allocate("c", 1)).containsExactly("nvidia-0");
        assertThat(pool.heldBy("b")).containsExactly("nvidia-2", "nvidia-3");
    }

    @Test
    void minusOneTakesEveryFreeDeviceAndMayGetNone() throws Exception {
        PluginGpuPool pool = pool(new StubAccelerator("amd", 1, 3));
        assertThat(pool.allocate("a", 1)).containsExactly("amd-0");
        assertThat(pool.allocate("b", -1)).containsExactly("amd-1", "amd-2");
        assertThat(pool.allocate("c", -1)).isEmpty();
        assertThat(pool.allocate("d", 0)).isEmpty();
        assertThat(pool(new StubAccelerator("amd", 1, 0)).allocate("e", -1)).isEmpty();
        assertThatThrownBy(() -> pool.allocate("f", -2)).hasMessage("count must be either positive or -1, got -2");
    }

    @Test
    void aFailingDeviceIsNeverHandedOutButAWarningOneIs() throws Exception {
        PluginGpuPool pool = pool(new StubAccelerator("nvidia", 0, 3)
                .incident(new HealthIncident(0, Severity.FAIL, 0x10, 0, "double bit ECC"))
                .incident(new HealthIncident(2, Severity.WARN, 0x80, 0, "slowdown")));
        assertThat(pool.allocate("a", -1)).containsExactly("nvidia-1", "nvidia-2");
        assertThat(pool.devices().getFirst().healthy()).isFalse();
        assertThat(pool.devices().getFirst().healthDetail()).isEqualTo("double bit ECC");
    }

    @Test
    void theNotEnoughMessageCountsOnlyFreeHealthyDevices() throws Exception {
        PluginGpuPool pool = pool(new StubAccelerator("nvidia", 0, 4).incident(new HealthIncident(3, Severity.FAIL, 0, 0, "xid 79")));
        pool.allocate("a", 1);
        assertThatThrownBy(() -> pool.allocate("b", 3)).hasMessage("no capacity: 3 GPUs requested, 2 available");
        assertThat(pool.heldBy("b")).isEmpty();
    }

    @Test
    void restoredIdsStayBusyAndFirstHolderWins() throws Exception {
        PluginGpuPool pool = pool(new StubAccelerator("nvidia", 0, 4));
        pool.restore("old", List.of("nvidia-1", "nvidia-3"));
        pool.restore("other", List.of("nvidia-1"));
        assertThat(pool.allocate("new", -1)).containsExactly("nvidia-0", "nvidia-2");
        assertThat(pool.heldBy("old")).containsExactly("nvidia-1", "nvidia-3");
        assertThat(pool.heldBy("other")).isEmpty();
    }

    @Test
    void thePoolServesThePrimaryVendorAndAsksItsPluginForEdits() throws Exception {
        PluginGpuPool pool = pool(new StubAccelerator("nvidia", 0, 2), new StubAccelerator("intel", 2, 8));
        assertThat(pool.vendor()).isEqualTo("intel");
        List<String> ids = pool.allocate("a", 2);
        assertThat(pool.edits(ids).env()).containsOnlyKeys("DEV_intel_0", "DEV_intel_1");
        assertThat(pool.recover(new ContainerView(Map.of("DEV_intel_5", "1"), List.of(), List.of(), ""))).containsExactly("intel-5");
    }

    @Test
    void tiesGoToNvidiaThenAmd() {
        assertThat(pool(new StubAccelerator("amd", 1, 2), new StubAccelerator("nvidia", 0, 2)).vendor()).isEqualTo("nvidia");
        assertThat(pool(new StubAccelerator("tenstorrent", 3, 2), new StubAccelerator("amd", 1, 2)).vendor()).isEqualTo("amd");
        assertThat(pool(new StubAccelerator("tenstorrent", 3, 0)).vendor()).isEqualTo("none");
    }

    @Test
    void devicesInstalledLaterArePickedUpOnRefresh() throws Exception {
        StubAccelerator nvidia = new StubAccelerator("nvidia", 0, 0);
        DeviceInventory inventory = new DeviceInventory(List.of(nvidia), new FakeHost(root));
        inventory.refresh();
        PluginGpuPool pool = new PluginGpuPool(inventory, new FakeHost(root));
        assertThat(pool.vendor()).isEqualTo("none");
        nvidia.devices(2);
        inventory.refresh();
        assertThat(pool.vendor()).isEqualTo("nvidia");
        assertThat(pool.allocate("a", 2)).hasSize(2);
    }

    @Test
    void aPluginAnswerWithRepeatedIdsIsRefusedRatherThanHandedOutTwice() {
        var broken = new StubAccelerator("nvidia", 0, 2) {
            @Override
            public ai.dstack.agent.spi.Fingerprint fingerprint(ai.dstack.agent.spi.HostContext host) {
                return ai.dstack.agent.spi.Fingerprint.of("nvidia", List.of(
                        ai.dstack.agent.spi.Device.of("nvidia", "GPU-same", 0, "", 0, ""), ai.dstack.agent.spi.Device.of("nvidia", "GPU-same", 1, "", 0, "")));
            }
        };
        DeviceInventory inventory = new DeviceInventory(List.of(broken), new FakeHost(root));
        inventory.refresh();
        assertThat(inventory.primaryVendor()).isEqualTo("none");
        assertThat(inventory.vendors().getFirst().fingerprint().error()).isEqualTo("plugin answer refused: devices[1]: id GPU-same repeated");
    }

    @Test
    void withNvlinkPairsTheTasksOfIssue17GetTheLinkedPairAndAWholeSocket() throws Exception {
        PluginGpuPool pool = pool(new StubAccelerator("nvidia", 0, 8).topology(TopologyAwareChoiceTest.PCIE_NVLINK_PAIRS));
        assertThat(pool.allocate("one", 1)).containsExactly("nvidia-0");
        assertThat(pool.allocate("two", 2)).containsExactly("nvidia-2", "nvidia-3");
        assertThat(pool.allocate("four", 4)).containsExactly("nvidia-4", "nvidia-5", "nvidia-6", "nvidia-7");
        assertThat(pool.allocate("rest", -1)).containsExactly("nvidia-1");
    }

    @Test
    void eachChoiceIsLoggedWithItsReason() throws Exception {
        PluginGpuPool pool = pool(new StubAccelerator("nvidia", 0, 8).topology(TopologyAwareChoiceTest.PCIE_NVLINK_PAIRS));
        List<String> logged = captureLog(() -> {
            pool.allocate("one", 1);
            pool.allocate("two", 2);
        });
        assertThat(logged).containsExactly(
                "task one gets nvidia devices [0] of free [0, 1, 2, 3, 4, 5, 6, 7]: one device, NUMA node 0;"
                        + " the lowest indexes are also the best linked",
                "task two gets nvidia devices [2, 3] of free [1, 2, 3, 4, 5, 6, 7]: 1xNV4, NUMA node 0;"
                        + " lowest indexes [1, 2] would be linked 1xNODE");
        assertThat(captureLog(() -> pool(new StubAccelerator("amd", 1, 4)).allocate("t", 2)))
                .containsExactly("task t gets amd devices [0, 1] of free [0, 1, 2, 3]: lowest indexes (no topology reported)");
    }

    @Test
    void aFailedTopologyFallsBackToTheLowestIndexesAndIsAskedAgainOnTheNextRefresh() throws Exception {
        StubAccelerator nvidia = new StubAccelerator("nvidia", 0, 8).topology(Topology.failed("nvidia-smi topo -m: timed out"));
        DeviceInventory inventory = new DeviceInventory(List.of(nvidia), new FakeHost(root));
        inventory.refresh();
        PluginGpuPool pool = new PluginGpuPool(inventory, new FakeHost(root));
        assertThat(captureLog(() -> assertThat(pool.allocate("a", 2)).containsExactly("nvidia-0", "nvidia-1"))).containsExactly(
                "task a gets nvidia devices [0, 1] of free [0, 1, 2, 3, 4, 5, 6, 7]: lowest indexes (topology unknown:"
                        + " nvidia-smi topo -m: timed out)");

        nvidia.topology(TopologyAwareChoiceTest.PCIE_NVLINK_PAIRS);
        inventory.refresh();
        assertThat(nvidia.topologyCalls()).isEqualTo(2);
        assertThat(pool.allocate("b", 2)).containsExactly("nvidia-2", "nvidia-3");
    }

    @Test
    void theTopologyIsAskedOnceWhileTheDevicesStayTheSameAndAgainWhenTheyChange() {
        StubAccelerator nvidia = new StubAccelerator("nvidia", 0, 8).topology(TopologyAwareChoiceTest.PCIE_NVLINK_PAIRS);
        DeviceInventory inventory = new DeviceInventory(List.of(nvidia), new FakeHost(root));
        inventory.refresh();
        inventory.refresh();
        inventory.refreshHealth();
        assertThat(nvidia.topologyCalls()).isEqualTo(1);
        assertThat(inventory.primary().orElseThrow().topology()).isEqualTo(TopologyAwareChoiceTest.PCIE_NVLINK_PAIRS);

        nvidia.devices(4);
        inventory.refresh();
        assertThat(nvidia.topologyCalls()).isEqualTo(2);
        nvidia.devices(0);
        inventory.refresh();
        assertThat(nvidia.topologyCalls()).isEqualTo(2);
        assertThat(inventory.vendors().getFirst().topology()).isEqualTo(Topology.NONE);
    }

    interface Allocation {
        void run() throws Exception;
    }

    /** The messages {@link PluginGpuPool} logs while {@code body} runs. */
    private static List<String> captureLog(Allocation body) throws Exception {
        Logger logger = Logger.getLogger(PluginGpuPool.class.getName());
        List<String> messages = new ArrayList<>();
        Handler handler = new Handler() {
            @Override
            public void publish(LogRecord r) {
                messages.add(r.getMessage());
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        logger.addHandler(handler);
        try {
            body.run();
        } finally {
            logger.removeHandler(handler);
        }
        return messages;
    }
}
