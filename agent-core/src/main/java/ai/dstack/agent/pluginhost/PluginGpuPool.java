package ai.dstack.agent.pluginhost;

import ai.dstack.agent.pluginhost.DeviceInventory.VendorState;
import ai.dstack.agent.spi.AcceleratorPlugin;
import ai.dstack.agent.spi.ContainerEdits;
import ai.dstack.agent.spi.ContainerView;
import ai.dstack.agent.spi.Device;
import ai.dstack.agent.spi.HostContext;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The primary vendor's devices shared among tasks: disjoint sets, lowest index first, unhealthy
 * devices never handed out. Which devices exist and how healthy they are comes from the
 * {@link DeviceInventory}; how a container gets them comes from the vendor's plugin.
 */
public final class PluginGpuPool implements GpuPool {
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
        List<String> free = devices().stream()
                .filter(d -> d.healthy() && !holders.containsKey(d.id()))
                .map(Device::id)
                .toList();
        if (count > free.size()) {
            throw new NoCapacityException(count, free.size());
        }
        List<String> taken = count == -1 ? free : free.subList(0, count);
        taken.forEach(id -> holders.put(id, taskId));
        return List.copyOf(taken);
    }

    /** Whether any task holds a device now. */
    public synchronized boolean anyHeld() {
        return !holders.isEmpty();
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
