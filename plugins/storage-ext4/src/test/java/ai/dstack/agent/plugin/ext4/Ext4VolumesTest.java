package ai.dstack.agent.plugin.ext4;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.dstack.agent.spi.FsProbe;
import ai.dstack.agent.spi.Setting;
import ai.dstack.agent.spi.StorageException;
import ai.dstack.agent.spi.ToolResult;
import ai.dstack.agent.spi.VolumeSpec;
import ai.dstack.agent.testing.FakeHost;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Locating and probing volumes through scripted tools; real loop devices are in agent-core's volume tests. */
class Ext4VolumesTest {
    @TempDir
    Path root;

    private final Ext4Volumes plugin = new Ext4Volumes();

    private FakeHost host() {
        return new FakeHost(root).declare(plugin.settings())
                .answerExactly(List.of("lsblk", "-ln", "-o", "NAME", "/dev/nvme1n1"), "nvme1n1\n")
                .answerExactly(List.of("lsblk", "-ln", "-o", "NAME", "/dev/xvdf"), "xvdf\n")
                .answerExactly(List.of("lsblk", "-ln", "-o", "NAME", "/dev/sdf"), "sdf\n").tune("volume-attach-timeout-ms", Duration.ofMillis(300)).tune("volume-attach-poll-interval-ms", Duration.ofMillis(20))
                .tune("volume-blank-recheck-interval-ms", Duration.ZERO);
    }

    private static VolumeSpec aws(String volumeId, String deviceName) {
        return new VolumeSpec("aws", "data", volumeId, false, deviceName);
    }

    @Test
    void anEbsVolumeIsFoundByItsNvmeSerial() throws Exception {
        FakeHost host = host().answerResource("lsblk", getClass(), "/lsblk/nitro-nvme.txt");
        assertThat(new AwsDevices(host).locate(aws("vol-0123456789abcdef0", null))).isEqualTo("/dev/nvme1n1");
        assertThat(host.calls()).containsExactly(List.of("lsblk", "-o", "NAME,SERIAL"), List.of("lsblk", "-ln", "-o", "NAME", "/dev/nvme1n1"));
    }

    @Test
    void theFirstPartitionIsUsedWhenThereIsOne() throws Exception {
        FakeHost host = host().answerResource("lsblk", getClass(), "/lsblk/nitro-nvme.txt")
                .answerExactly(List.of("lsblk", "-ln", "-o", "NAME", "/dev/nvme1n1"), "nvme1n1\nnvme1n1p1\nnvme1n1p2\n");
        assertThat(new AwsDevices(host).locate(aws("vol-0123456789abcdef0", null))).isEqualTo("/dev/nvme1n1p1");
    }

    @Test
    void theDeviceNameIsTheFallbackAndSdBecomesXvdOnXen() throws Exception {
        FakeHost host = host().answerResource("lsblk", getClass(), "/lsblk/xen.txt").file("/dev/xvdf", "");
        assertThat(new AwsDevices(host).locate(aws("vol-0fffffffffffffff0", "/dev/sdf"))).isEqualTo("/dev/xvdf");
        FakeHost direct = host().answerResource("lsblk", getClass(), "/lsblk/xen.txt").file("/dev/sdf", "").file("/dev/xvdf", "");
        assertThat(new AwsDevices(direct).locate(aws("vol-0fffffffffffffff0", "/dev/sdf"))).isEqualTo("/dev/sdf");
    }

    @Test
    void bothWaysAreCheckedAgainEveryPollUntilTheVolumeAppears() throws Exception {
        String without = "NAME SERIAL\nnvme0n1 vol0a1b2c3d4e5f60789\n";
        FakeHost host = host().answer("lsblk", without).answer("lsblk", without)
                .answerResource("lsblk", getClass(), "/lsblk/nitro-nvme.txt");
        assertThat(new AwsDevices(host).locate(aws("vol-0123456789abcdef0", "/dev/sdg"))).isEqualTo("/dev/nvme1n1");
        assertThat(host.calls().stream().filter(c -> c.equals(List.of("lsblk", "-o", "NAME,SERIAL"))).count()).isEqualTo(3);
    }

    @Test
    void aVolumeThatNeverAppearsTimesOutWithTheSpecMessage() {
        FakeHost host = host().answerResource("lsblk", getClass(), "/lsblk/nitro-nvme.txt");
        assertThatThrownBy(() -> new AwsDevices(host).locate(aws("vol-0deadbeef", "/dev/sdz")))
                .isInstanceOf(StorageException.class).hasMessage("volume vol-0deadbeef not found among block devices after 300ms");
    }

    @Test
    void anLsblkFailureEndsTheWaitAtOnce() {
        FakeHost host = host().answer("lsblk", new ToolResult(1, "", "lsblk: failed to access sysfs", false, false));
        assertThatThrownBy(() -> new AwsDevices(host).locate(aws("vol-0123456789abcdef0", null)))
                .hasMessageContaining("lsblk: exit code 1");
        assertThat(host.calls()).hasSize(1);
    }

    @Test
    void gcpDisksAreFoundThroughTheirByIdLinkPartitionFirst() throws Exception {
        FakeHost host = host().link("/dev/disk/by-id/google-data-1", "../../sdb").link("/dev/disk/by-id/google-data-1-part1", "../../sdb1");
        assertThat(GcpDevices.locate(new VolumeSpec("gcp", "data", "pd-1", true, "data-1"), host)).isEqualTo("/dev/sdb1");
        FakeHost whole = host().link("/dev/disk/by-id/google-data-2", "../../sdc");
        assertThat(GcpDevices.locate(new VolumeSpec("gcp", "data", "pd-2", true, "data-2"), whole)).isEqualTo("/dev/sdc");
        assertThatThrownBy(() -> GcpDevices.locate(new VolumeSpec("gcp", "data", "pd-3", true, "data-3"), host)).hasMessageContaining("not found");
    }

    @Test
    void anUnknownBackendIsRefused() {
        assertThatThrownBy(() -> plugin.resolveDevice(new VolumeSpec("azure", "data", "x", true, null), host()))
                .hasMessage("unknown backend: \"azure\"");
    }

    @Test
    void aDeviceThatIsNotABlockDeviceIsNeverReady() {
        FakeHost host = host().file("/dev/sdq", "").tune("volume-ready-timeout-ms", Duration.ofMillis(50)).tune("volume-ready-poll-interval-ms", Duration.ofMillis(10));
        assertThatThrownBy(() -> new BlockDevices(host).awaitReady("/dev/sdq")).hasMessageContaining("not a block device");
        assertThatThrownBy(() -> new BlockDevices(host).awaitReady("/dev/sdr")).hasMessageContaining("does not exist");
    }

    @Test
    void probeVerdictsFollowBlkid() throws Exception {
        assertThat(plugin.probe("/dev/x", host().answer("blkid", "ext4\n"))).isEqualTo(new FsProbe(FsProbe.State.FILESYSTEM, "ext4"));
        assertThat(plugin.probe("/dev/x", host().answer("blkid", ""))).isEqualTo(new FsProbe(FsProbe.State.FOREIGN, ""));
        assertThatThrownBy(() -> plugin.probe("/dev/x", host().answer("blkid", new ToolResult(4, "", "bad usage", false, false))))
                .hasMessageContaining("exit code 4");
    }

    @Test
    void blankIsBelievedOnlyAfterThreeMoreLooks() throws Exception {
        ToolResult blank = new ToolResult(2, "", "", false, false);
        FakeHost stillBlank = host().answer("blkid", blank);
        assertThat(plugin.probe("/dev/x", stillBlank).state()).isEqualTo(FsProbe.State.BLANK);
        assertThat(stillBlank.calls()).hasSize(4);

        FakeHost lateSignature = host().answer("blkid", blank).answer("blkid", blank).answer("blkid", "xfs\n");
        assertThat(plugin.probe("/dev/x", lateSignature)).isEqualTo(new FsProbe(FsProbe.State.FILESYSTEM, "xfs"));
    }

    @Test
    void formatRefusesADeviceThatIsNotBlankWhateverTheCallerThinks() {
        FakeHost host = host().answer("blkid", "ext4\n").answer("mkfs.ext4", "");
        assertThatThrownBy(() -> plugin.format("/dev/x", host)).hasMessageContaining("refusing to format /dev/x");
        assertThat(host.calls()).noneMatch(c -> c.getFirst().equals("mkfs.ext4"));
    }

    @Test
    void unmountSkipsWhatIsNotMounted() throws Exception {
        FakeHost host = host().answer("mountpoint", new ToolResult(32, "", "", false, false));
        plugin.unmount("/mnt/disks/dstack-volumes/data", host);
        assertThat(host.calls()).containsExactly(List.of("mountpoint", "-q", "/mnt/disks/dstack-volumes/data"));
    }

    @Test
    void everyWaitIsADeclaredMillisecondSettingWithItsOldNameKept() {
        assertThat(plugin.settings()).extracting(Setting::name).containsExactly("volume-attach-timeout-ms",
                "volume-attach-poll-interval-ms", "volume-ready-timeout-ms", "volume-ready-poll-interval-ms",
                "volume-blank-recheck-interval-ms", "volume-format-timeout-ms");
        assertThat(plugin.settings()).allSatisfy(s -> {
            assertThat(s.kind()).isEqualTo(Setting.Kind.MILLIS);
            assertThat(s.env()).endsWith("_MS");
            assertThat(s.oldEnv()).containsExactly(s.env().substring(0, s.env().length() - 3));
        });
    }
}
