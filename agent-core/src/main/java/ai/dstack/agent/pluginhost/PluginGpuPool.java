package ai.dstack.agent.pluginhost;

import ai.dstack.agent.pluginhost.DeviceInventory.VendorState;
import ai.dstack.agent.spi.AcceleratorPlugin;
import ai.dstack.agent.spi.ContainerEdits;
import ai.dstack.agent.spi.ContainerView;
import ai.dstack.agent.spi.Device;
import ai.dstack.agent.spi.HostContext;
import ai.dstack.agent.spi.topology.Topology;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.logging.Logger;

/**
 * The primary vendor's devices shared among tasks: disjoint sets, unhealthy devices never handed
 * out. A task of N devices gets the best-linked free set its plugin's topology allows
 * ({@link TopologyAwareChoice}), or the lowest free indexes when the vendor reports no topology;
 * each choice is logged with its reason. Which devices exist, how healthy and how wired they are
 * comes from the {@link DeviceInventory}; how a container gets them comes from the vendor's plugin.
 */
public final class PluginGpuPool implements GpuPool {
    private static final Logger LOG = Logger.getLogger(PluginGpuPool.class.getName());

    private final DeviceInventory inventory;
    private final HostContext host;
    /** Resource id → task id holding it. */
    private final Map<String, String> holders = new HashMap<>();

    public PluginGpuPool(DeviceInventory inventory, HostContext host) {
        this.inventory = inventory;
        this.host = host;
    }

    @Override
    public String vendor() {
        return inventory.primaryVendor();
    }

    @Override
    public List<Device> devices() {
        return inventory.primaryDevices();
    }

    @Override
    public synchronized List<String> allocate(String taskId, int count) throws NoCapacityException {
        if (count < -1) {
            throw new IllegalArgumentException("count must be either positive or -1, got " + count);
        }
        if (count == 0) {
            return List.of();
        }
        List<Device> free = devices().stream()
                .filter(d -> d.healthy() && !holders.containsKey(d.id()))
                .toList();
        if (count > free.size()) {
            throw new NoCapacityException(count, free.size());
        }
        List<Device> taken = count == -1 || count == free.size() ? free : choose(taskId, free, count);
        taken.forEach(d -> holders.put(d.id(), taskId));
        return taken.stream().map(Device::id).toList();
    }

    /** {@code count} of the free devices (fewer than all), by topology when the plugin reported one. */
    private List<Device> choose(String taskId, List<Device> free, int count) {
        Topology topology = inventory.primary().map(VendorState::topology).orElse(Topology.NONE);
        List<Integer> indexes = free.stream().map(Device::index).toList();
        TopologyAwareChoice.Choice choice = topology.known()
                ? TopologyAwareChoice.choose(topology, indexes, count)
                : TopologyAwareChoice.lowestIndexes(indexes, count,
                        topology.error() == null ? "no topology reported" : "topology unknown: " + topology.error());
        LOG.info(() -> "task " + taskId + " gets " + vendor() + " " + choice.explanation());
        Set<Integer> chosen = new HashSet<>(choice.indexes());
        return free.stream().filter(d -> chosen.contains(d.index())).toList();
    }

    @Override
    public synchronized void restore(String taskId, List<String> ids) {
        ids.forEach(id -> holders.putIfAbsent(id, taskId));
    }

    @Override
    public synchronized void release(String taskId) {
        holders.values().removeIf(taskId::equals);
    }

    @Override
    public synchronized List<String> heldBy(String taskId) {
        List<String> ids = new ArrayList<>();
        for (Device d : devices()) {
            if (taskId.equals(holders.get(d.id()))) {
                ids.add(d.id());
            }
        }
        // Ids restored from a container but no longer enumerated still count as held.
        holders.forEach((id, holder) -> {
            if (holder.equals(taskId) && !ids.contains(id)) {
                ids.add(id);
            }
        });
        return ids;
    }

    @Override
    public ContainerEdits edits(List<String> ids) {
        if (ids.isEmpty()) {
            return ContainerEdits.NONE;
        }
        return plugin().map(p -> p.reserve(devicesFor(ids), host)).orElse(ContainerEdits.NONE);
    }

    @Override
    public Optional<ContainerEdits> retryAfterStartFailure(List<String> ids, String engineError) {
        if (ids.isEmpty()) {
            return Optional.empty();
        }
        return plugin().flatMap(p -> p.retryAfterStartFailure(devicesFor(ids), engineError, host));
    }

    @Override
    public List<String> recover(ContainerView container) {
        Optional<AcceleratorPlugin> primary = plugin();
        if (primary.isPresent()) {
            return primary.get().recover(container);
        }
        for (VendorState s : inventory.vendors()) {
            List<String> ids = s.plugin().recover(container);
            if (!ids.isEmpty()) {
                return ids;
            }
        }
        return List.of();
    }

    private Optional<AcceleratorPlugin> plugin() {
        return inventory.primary().map(VendorState::plugin);
    }

    /** The devices with these ids; an id no longer enumerated is passed on with only its id known. */
    private List<Device> devicesFor(List<String> ids) {
        Map<String, Device> byId = new HashMap<>();
        devices().forEach(d -> byId.put(d.id(), d));
        String vendor = vendor();
        return ids.stream().map(id -> byId.getOrDefault(id, Device.of(vendor, id, -1, "", 0, ""))).toList();
    }
}
