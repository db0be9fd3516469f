package ai.dstack.agent.volume;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.dstack.agent.config.ConfigException;
import ai.dstack.agent.pluginhost.PluginRuntime;
import ai.dstack.agent.pluginhost.PluginSettings;
import ai.dstack.agent.spi.VolumeSpec;
import ai.dstack.agent.testing.Commands;
import ai.dstack.agent.testing.Docker;
import ai.dstack.agent.testing.FakeExecutables;
import ai.dstack.agent.testing.LocalImages;
import ai.dstack.agent.testing.LoopDevice;
import ai.dstack.agent.testing.RepoPaths;
import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.model.Bind;
import com.github.dockerjava.api.model.HostConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Network volumes on real loop devices through the built ext4 plugin: the GCP by-id link and the AWS
 * serial / device-name lookups point at a loop device inside a fake host root, while {@code blkid},
 * {@code mkfs.ext4} and {@code mount} run for real on the logical device path.
 */
class PluginVolumeManagerIT {
    @TempDir
    Path tmp;

    private final List<LoopDevice> loops = new ArrayList<>();
    private final List<VolumeSpec> prepared = new ArrayList<>();
    private final Map<String, String> env = new HashMap<>();
    private FakeExecutables tools;
    private PluginRuntime runtime;
    private Path root;

    @BeforeEach
    void needsRoot() throws Exception {
        String why = LoopDevice.unavailableBecause();
        Assumptions.assumeTrue(why == null, () -> "skipped: " + why);
        root = tmp.resolve("root");
        Files.createDirectories(root);
        Files.createSymbolicLink(root.resolve("sys"), Path.of("/sys"));
        tools = new FakeExecutables(tmp.resolve("bin"));
        RepoPaths.copyBuiltPlugins(tmp.resolve("plugins"), "storage-ext4");
        env.put("PATH", tools.pathBeforeSystem());
        env.put("DSTACK_SHIM_PLUGINS_DIR", tmp.resolve("plugins").toString());
        env.put("DSTACK_SHIM_HOST_ROOT", root.toString());
        env.put("DSTACK_SHIM_VOLUME_BLANK_RECHECK_INTERVAL_MS", "20");
        env.put("DSTACK_SHIM_VOLUME_ATTACH_TIMEOUT_MS", "2000");
    }

    @AfterEach
    void cleanUp() {
        if (runtime != null) {
            volumes().release(prepared);
            runtime.close();
        }
        for (VolumeSpec v : prepared) {
            try {
                Files.deleteIfExists(Path.of(VolumeManager.mountPoint(v.name())));
            } catch (Exception ignored) {
                // a busy mount point is reported by the test itself
            }
        }
        loops.forEach(LoopDevice::close);
    }

    private VolumeManager volumes() {
        if (runtime == null) {
            try {
                runtime = PluginRuntime.start(PluginSettings.fromEnv(env), false);
            } catch (ConfigException e) {
                throw new IllegalStateException(e);
            }
        }
        return new PluginVolumeManager(runtime.storage(), runtime.host());
    }

    private LoopDevice loop() {
        LoopDevice d = LoopDevice.create(tmp, 64);
        loops.add(d);
        d.mknodAt(root.resolve(d.path().substring(1)));
        return d;
    }

    private VolumeSpec gcp(LoopDevice device, boolean initFs) throws Exception {
        String diskName = "disk-" + device.name();
        Path link = root.resolve("dev/disk/by-id/google-" + diskName);
        Files.createDirectories(link.getParent());
        Files.createSymbolicLink(link, Path.of("../../" + device.name()));
        return track(new VolumeSpec("gcp", "it-" + UUID.randomUUID().toString().substring(0, 8), "pd-" + device.name(), initFs, diskName));
    }

    private VolumeSpec track(VolumeSpec v) {
        prepared.add(v);
        return v;
    }

    private static String blkidType(LoopDevice d) {
        try {
            return Commands.run("blkid", "-p", "-o", "value", "-s", "TYPE", d.path()).strip();
        } catch (IllegalStateException e) {
            return "";
        }
    }

    private static boolean mounted(String mountPoint) {
        return Commands.succeeds("mountpoint", "-q", mountPoint);
    }

    @Test
    void aBlankDiskWithInitFsIsFormattedMountedOpenToAllAndKeepsAContainersFileAcrossRemount() throws Exception {
        LoopDevice disk = loop();
        VolumeSpec volume = gcp(disk, true);
        String mountPoint = VolumeManager.mountPoint(volume.name());

        volumes().prepare(List.of(volume));
        assertThat(blkidType(disk)).isEqualTo("ext4");
        assertThat(mounted(mountPoint)).isTrue();
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(Path.of(mountPoint)))).isEqualTo("rwxrwxrwx");

        writeFromContainer(mountPoint, "written by a task");
        volumes().release(List.of(volume));
        assertThat(mounted(mountPoint)).isFalse();

        volumes().prepare(List.of(volume));
        assertThat(Files.readString(Path.of(mountPoint, "hello.txt"))).isEqualTo("written by a task\n");
    }

    @Test
    void aBlankDiskWithoutInitFsIsAnErrorAndNothingIsFormatted() throws Exception {
        LoopDevice disk = loop();
        VolumeSpec volume = track(new VolumeSpec("aws", "it-" + UUID.randomUUID().toString().substring(0, 8), "vol-0notlisted", false, disk.path()));
        tools.script("lsblk", "[ \"$*\" = \"-o NAME,SERIAL\" ] && { printf 'NAME SERIAL\\nnvme0n1 vol0somethingelse\\n'; exit 0; }; exec /usr/bin/lsblk \"$@\"");

        assertThatThrownBy(() -> volumes().prepare(List.of(volume)))
                .isInstanceOf(VolumeManager.VolumeException.class)
                .hasMessage("format and mount volume: disk " + disk.path() + " has no file system");
        assertThat(blkidType(disk)).isEmpty();
        assertThat(mounted(VolumeManager.mountPoint(volume.name()))).isFalse();
    }

    @Test
    void anExistingExt4IsNeverFormattedEvenWithInitFsAndItsFilesAndPermissionsStay() throws Exception {
        LoopDevice disk = loop();
        Commands.run("mkfs.ext4", "-q", "-F", disk.path());
        Path scratch = Files.createDirectories(tmp.resolve("scratch"));
        Commands.run("mount", disk.path(), scratch.toString());
        Files.writeString(scratch.resolve("precious.txt"), "keep me");
        Commands.run("umount", scratch.toString());
        String serial = "vol0" + disk.name().replace("loop", "feed");
        String volumeId = "vol-0" + disk.name().replace("loop", "feed");
        tools.script("lsblk", "[ \"$*\" = \"-o NAME,SERIAL\" ] && { printf 'NAME SERIAL\\n%s %s\\n'; exit 0; }; exec /usr/bin/lsblk \"$@\""
                .formatted(disk.name(), serial));
        VolumeSpec volume = track(new VolumeSpec("aws", "it-" + UUID.randomUUID().toString().substring(0, 8), volumeId, true, null));

        volumes().prepare(List.of(volume));
        Path mountPoint = Path.of(VolumeManager.mountPoint(volume.name()));
        assertThat(Files.readString(mountPoint.resolve("precious.txt"))).isEqualTo("keep me");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(mountPoint))).isEqualTo("rwxr-xr-x");
    }

    @Test
    void anAwsVolumeThatNeverAppearsFailsAfterTheAttachWait() {
        env.put("DSTACK_SHIM_VOLUME_ATTACH_TIMEOUT_MS", "300");
        tools.script("lsblk", "printf 'NAME SERIAL\\n'");
        VolumeSpec volume = track(new VolumeSpec("aws", "it-absent", "vol-0absent", true, "/dev/sdx"));
        assertThatThrownBy(() -> volumes().prepare(List.of(volume)))
                .hasMessage("format and mount volume: volume vol-0absent not found among block devices after 300ms");
    }

    private static void writeFromContainer(String mountPoint, String text) {
        DockerClient docker = Docker.client();
        String id = docker.createContainerCmd(LocalImages.BUSYBOX)
                .withName("dstack-it-volume-" + UUID.randomUUID().toString().substring(0, 8))
                .withLabels(Map.of("ai.dstack.agent.test", "true"))
                .withCmd("sh", "-c", "echo '" + text + "' > /data/hello.txt")
                .withHostConfig(HostConfig.newHostConfig().withBinds(Bind.parse(mountPoint + ":/data")))
                .exec().getId();
        try {
            docker.startContainerCmd(id).exec();
            int exit = docker.waitContainerCmd(id).start().awaitStatusCode();
            assertThat(exit).isZero();
        } finally {
            docker.removeContainerCmd(id).withForce(true).exec();
        }
    }
}
