package ai.dstack.agent.pluginhost;

import ai.dstack.agent.spi.AcceleratorPlugin;
import ai.dstack.agent.spi.ContainerEdits;
import ai.dstack.agent.spi.ContainerView;
import ai.dstack.agent.spi.Device;
import ai.dstack.agent.spi.Fingerprint;
import ai.dstack.agent.spi.HealthIncident;
import ai.dstack.agent.spi.HealthReport;
import ai.dstack.agent.spi.HostContext;
import ai.dstack.agent.spi.topology.Topology;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;

/** An accelerator plugin with a settable device count and health findings, for core tests. */
public class StubAccelerator implements AcceleratorPlugin {
    private final String vendor;
    private final int priority;
    private volatile int count;
    private final List<HealthIncident> incidents = new ArrayList<>();
    private volatile Topology topology = Topology.NONE;
    private volatile int topologyCalls;

    public StubAccelerator(String vendor, int priority, int count) {
        this.vendor = vendor;
        this.priority = priority;
        this.count = count;
    }

    public StubAccelerator devices(int n) {
        count = n;
        return this;
    }

    public StubAccelerator incident(HealthIncident incident) {
        incidents.add(incident);
        return this;
    }

    public StubAccelerator topology(Topology t) {
        topology = t;
        return this;
    }

    /** How often the core asked for the topology. */
    public int topologyCalls() {
        return topologyCalls;
    }

    @Override
    public Topology topology(List<Device> devices, HostContext host) {
        topologyCalls++;
        return topology;
    }

    @Override
    public String vendor() {
        return vendor;
    }

    @Override
    public int priority() {
        return priority;
    }

    @Override
    public Fingerprint fingerprint(HostContext host) {
        return Fingerprint.of(vendor, IntStream.range(0, count).mapToObj(i -> Device.of(vendor, vendor + "-" + i, i, vendor + " card", 1024, "1.0")).toList());
    }

    @Override
    public ContainerEdits reserve(List<Device> devices, HostContext host) {
        ContainerEdits.Builder b = ContainerEdits.builder();
        devices.forEach(d -> b.env("DEV_" + d.id().replace('-', '_'), "1"));
        return b.build();
    }

    @Override
    public HealthReport health(List<Device> devices, HostContext host) {
        return HealthReport.of(incidents);
    }

    @Override
    public List<String> recover(ContainerView container) {
        return container.env().keySet().stream().filter(k -> k.startsWith("DEV_")).map(k -> k.substring(4).replace('_', '-')).sorted().toList();
    }
}
