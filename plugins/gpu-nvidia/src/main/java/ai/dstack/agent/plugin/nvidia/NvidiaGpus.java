package ai.dstack.agent.plugin.nvidia;

import ai.dstack.agent.spi.AcceleratorPlugin;
import ai.dstack.agent.spi.ContainerEdits;
import ai.dstack.agent.spi.ContainerView;
import ai.dstack.agent.spi.Device;
import ai.dstack.agent.spi.DeviceRequest;
import ai.dstack.agent.spi.DeviceStats;
import ai.dstack.agent.spi.Fingerprint;
import ai.dstack.agent.spi.HealthReport;
import ai.dstack.agent.spi.HostContext;
import ai.dstack.agent.spi.TaskMetrics;
import ai.dstack.agent.spi.ToolResult;
import ai.dstack.agent.spi.topology.Topology;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.pf4j.Extension;

/**
 * NVIDIA GPUs (docs/shim.md §5.2, §4.7): found with {@code nvidia-smi}, given to containers through one
 * Docker device request that the NVIDIA container hook serves; health from {@code nvidia-smi} and
 * DCGM, per-task metrics from {@code dcgm-exporter}.
 */
@Extension
public final class NvidiaGpus implements AcceleratorPlugin {
    static final String VENDOR = "nvidia";
    /** The capability set the Go shim requests; {@code display} needs {@code /dev/nvidia-modeset}. */
    static final List<String> CAPABILITIES = List.of("gpu", "utility", "compute", "graphics", "video", "display", "compat32");
    static final List<String> QUERY = List.of("nvidia-smi",
            "--query-gpu=name,memory.total,uuid,driver_version,pci.bus_id", "--format=csv,noheader,nounits");

    static final List<String> STATS_QUERY = List.of("nvidia-smi", "--query-gpu=uuid,memory.used,utilization.gpu",
            "--format=csv,noheader,nounits");

    private final NvidiaHealth health = new NvidiaHealth();

    @Override
    public String vendor() {
        return VENDOR;
    }

    @Override
    public int priority() {
        return 0;
    }

    @Override
    public Fingerprint fingerprint(HostContext host) {
        boolean present = host.exists("/dev/nvidiactl")
                || (host.exists("/dev/dxg") && host.exists("/usr/lib/wsl/lib/nvidia-smi"));
        if (!present) {
            return Fingerprint.absent(VENDOR);
        }
        ToolResult result = host.run(QUERY);
        if (!result.ok()) {
            return Fingerprint.failed(VENDOR, result.describe("nvidia-smi"));
        }
        ToolResult.CsvRecords csv = result.csv(5);
        List<Device> devices = new ArrayList<>();
        for (List<String> f : csv.records()) {
            devices.add(new Device(VENDOR, f.get(2), devices.size(), f.get(0), parseMib(f.get(1)),
                    Device.normaliseDriverVersion(f.get(3)), true, "", f.get(4)));
        }
        return new Fingerprint(VENDOR, true, devices, csv.error() == null ? null : "nvidia-smi: " + csv.error());
    }

    private static long parseMib(String value) {
        try {
            return Long.parseLong(value);
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    /** From {@code nvidia-smi topo -m}: NVLink and PCIe levels between GPUs, and their NUMA nodes. */
    @Override
    public Topology topology(List<Device> devices, HostContext host) {
        ToolResult result = host.run(NvidiaTopology.COMMAND);
        if (!result.ok()) {
            return Topology.failed(result.describe("nvidia-smi topo -m"));
        }
        try {
            return NvidiaTopology.parse(result.stdout());
        } catch (IllegalArgumentException e) {
            return Topology.failed("nvidia-smi topo -m: " + e.getMessage());
        }
    }

    @Override
    public ContainerEdits reserve(List<Device> devices, HostContext host) {
        return edits(devices, CAPABILITIES);
    }

    private static ContainerEdits edits(List<Device> devices, List<String> capabilities) {
        List<String> uuids = devices.stream().map(Device::id).toList();
        return ContainerEdits.builder().deviceRequest(new DeviceRequest("", uuids, capabilities)).build();
    }

    /** Without {@code /dev/nvidia-modeset} the hook cannot honour {@code display}: retry once without it. */
    @Override
    public Optional<ContainerEdits> retryAfterStartFailure(List<Device> devices, String engineError, HostContext host) {
        if (engineError == null || !engineError.contains("/dev/nvidia-modeset")) {
            return Optional.empty();
        }
        return Optional.of(edits(devices, CAPABILITIES.stream().filter(c -> !c.equals("display")).toList()));
    }

    @Override
    public HealthReport health(List<Device> devices, HostContext host) {
        return health.check(devices, host);
    }

    /** Per-task metrics from {@code dcgm-exporter}, when it is installed. */
    @Override
    public Optional<TaskMetrics> openTaskMetrics(List<Device> devices, HostContext host) {
        return DcgmExporter.start(host);
    }

    /** Memory in use and utilisation per GPU from {@code nvidia-smi}; empty when it fails. */
    @Override
    public List<DeviceStats> stats(List<Device> devices, HostContext host) {
        ToolResult result = host.run(STATS_QUERY);
        if (!result.ok()) {
            return List.of();
        }
        List<String> wanted = devices.stream().map(Device::id).toList();
        List<DeviceStats> stats = new ArrayList<>();
        for (List<String> f : result.csv(3).records()) {
            if (wanted.contains(f.get(0))) {
                stats.add(new DeviceStats(f.get(0), parseMib(f.get(1)) * 1024 * 1024, parseMib(f.get(2))));
            }
        }
        return stats;
    }

    @Override
    public List<String> recover(ContainerView container) {
        return container.deviceRequests().stream().flatMap(r -> r.deviceIds().stream()).toList();
    }
}
