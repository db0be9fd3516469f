package ai.dstack.agent.plugin.ext4;

import ai.dstack.agent.spi.FsProbe;
import ai.dstack.agent.spi.HostContext;
import ai.dstack.agent.spi.StorageException;
import ai.dstack.agent.spi.StoragePlugin;
import ai.dstack.agent.spi.VolumeSpec;
import java.util.Set;
import org.pf4j.Extension;

/** First trivial extension (skeleton): refuses every volume until the ext4 logic lands. */
@Extension
public final class Ext4Volumes implements StoragePlugin {
    @Override
    public String filesystem() {
        return "ext4";
    }

    @Override
    public Set<String> backends() {
        return Set.of("aws", "gcp");
    }

    @Override
    public String resolveDevice(VolumeSpec volume, HostContext host) throws StorageException {
        throw new StorageException("not implemented");
    }

    @Override
    public FsProbe probe(String device, HostContext host) throws StorageException {
        throw new StorageException("not implemented");
    }

    @Override
    public void format(String device, HostContext host) throws StorageException {
        throw new StorageException("not implemented");
    }

    @Override
    public void mount(String device, String mountPoint, HostContext host) throws StorageException {
        throw new StorageException("not implemented");
    }

    @Override
    public void unmount(String mountPoint, HostContext host) throws StorageException {
        throw new StorageException("not implemented");
    }
}
