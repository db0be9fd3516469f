package ai.dstack.agent.plugin.nvidia;

import ai.dstack.agent.spi.AcceleratorPlugin;
import ai.dstack.agent.spi.ContainerEdits;
import ai.dstack.agent.spi.ContainerView;
import ai.dstack.agent.spi.Device;
import ai.dstack.agent.spi.Fingerprint;
import ai.dstack.agent.spi.HostContext;
import java.util.List;
import org.pf4j.Extension;

/** First trivial extension (skeleton): reports no devices until the vendor logic lands. */
@Extension
public final class NvidiaGpus implements AcceleratorPlugin {
    @Override
    public String vendor() {
        return "nvidia";
    }

    @Override
    public int priority() {
        return 0;
    }

    @Override
    public Fingerprint fingerprint(HostContext host) {
        return Fingerprint.absent(vendor());
    }

    @Override
    public ContainerEdits reserve(List<Device> devices, HostContext host) {
        return ContainerEdits.NONE;
    }

    @Override
    public List<String> recover(ContainerView container) {
        return List.of();
    }
}
