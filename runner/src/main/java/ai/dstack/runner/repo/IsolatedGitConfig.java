package ai.dstack.runner.repo;

import org.eclipse.jgit.lib.Config;
import org.eclipse.jgit.storage.file.FileBasedConfig;
import org.eclipse.jgit.util.FS;
import org.eclipse.jgit.util.SystemReader;

/**
 * Keeps JGit away from the image's git setup: no system, user or JGit config is read or written (JGit would
 * otherwise run the image's {@code git} to find the system config and save file-system timings to
 * {@code ~/.config/jgit/config} in the user's container). Like Go's go-git, clones see only the repo's own config.
 */
final class IsolatedGitConfig extends SystemReader.Delegate {
    private static volatile boolean installed;

    private IsolatedGitConfig(SystemReader delegate) {
        super(delegate);
    }

    /** Installs the isolation for this JVM once. */
    static synchronized void install() {
        if (!installed) {
            SystemReader.setInstance(new IsolatedGitConfig(SystemReader.getInstance()));
            installed = true;
        }
    }

    @Override
    public FileBasedConfig openSystemConfig(Config parent, FS fs) {
        return inMemory(parent, fs);
    }

    @Override
    public FileBasedConfig openUserConfig(Config parent, FS fs) {
        return inMemory(parent, fs);
    }

    @Override
    public FileBasedConfig openJGitConfig(Config parent, FS fs) {
        return inMemory(parent, fs);
    }

    private static FileBasedConfig inMemory(Config parent, FS fs) {
        return new FileBasedConfig(parent, null, fs) {
            @Override
            public void load() {
                // nothing to read
            }

            @Override
            public void save() {
                // nothing is persisted
            }

            @Override
            public boolean isOutdated() {
                return false;
            }
        };
    }
}
