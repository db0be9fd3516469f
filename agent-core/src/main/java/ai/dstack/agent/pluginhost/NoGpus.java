package ai.dstack.agent.pluginhost;

import ai.dstack.agent.spi.ContainerEdits;
import ai.dstack.agent.spi.ContainerView;
import ai.dstack.agent.spi.Device;
import java.util.List;
import java.util.Optional;

/** A host with zero GPUs: {@code gpu=-1} gets none, {@code gpu=N>0} finds no capacity. */
enum NoGpus implements GpuPool {
    INSTANCE;

    @Override
    public String vendor() {
        return "none";
    }

    @Override
    public List<Device> devices() {
        return List.of();
    }

    @Override
    public List<String> allocate(String taskId, int count) throws NoCapacityException {
        if (count > 0) {
            throw new NoCapacityException(count, 0);
        }
        return List.of();
    }

    @Override
    public void restore(String taskId, List<String> ids) {
    }

    @Override
    public void release(String taskId) {
    }

    @Override
    public List<String> heldBy(String taskId) {
        return List.of();
    }

    @Override
    public ContainerEdits edits(List<String> ids) {
        return ContainerEdits.NONE;
    }

    @Override
    public Optional<ContainerEdits> retryAfterStartFailure(List<String> ids, String engineError) {
        return Optional.empty();
    }

    @Override
    public List<String> recover(ContainerView container) {
        return List.of();
    }
}
