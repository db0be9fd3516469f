package ai.dstack.agent.volume;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ai.dstack.agent.task.TaskCalls;
import ai.dstack.agent.testing.ApiClient;
import ai.dstack.agent.testing.Commands;
import ai.dstack.agent.testing.FakeExecutables;
import ai.dstack.agent.testing.FreePorts;
import ai.dstack.agent.testing.LoopDevice;
import ai.dstack.agent.testing.RepoPaths;
import ai.dstack.agent.testing.ShimProcess;
import ai.dstack.agent.testing.StubRunner;
import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A network volume end to end through the real shim process and its HTTP API: the storage-ext4
 * plugin finds an "EBS volume" by its serial in a fake {@code lsblk} that names a real loop device;
 * {@code blkid}, {@code mkfs.ext4}, {@code mount} and the task's busybox container are real.
 */
class Ext4VolumeTaskIT {
    @TempDir
    Path tmp;

    private final List<String> submitted = new ArrayList<>();
    private LoopDevice disk;
    private ShimProcess shim;
    private String volumeName;

    @BeforeEach
    void needsLoopDevices() {
        String why = LoopDevice.unavailableBecause();
        Assumptions.assumeTrue(why == null, () -> "skipped: " + why);
    }

    @AfterEach
    void cleanUp() throws Exception {
        if (shim != null) {
            for (String id : submitted) {
                shim.api().post("/api/tasks/" + id + "/terminate", Map.of("termination_reason", "terminated_by_user", "termination_message", "", "timeout", 0));
                shim.api().post("/api/tasks/" + id + "/remove", "");
            }
            shim.close();
        }
        if (volumeName != null) {
            String mountPoint = VolumeManager.mountPoint(volumeName);
            if (mounted(mountPoint)) {
                Commands.succeeds("umount", "-l", mountPoint);
            }
            Files.deleteIfExists(Path.of(mountPoint));
        }
        if (disk != null) {
            disk.close();
        }
    }

    private static boolean mounted(String mountPoint) {
        return Commands.succeeds("mountpoint", "-q", mountPoint);
    }

    private static String blkid(LoopDevice d, String tag) {
        return Commands.run("blkid", "-p", "-o", "value", "-s", tag, d.path()).strip();
    }

    /** A task with the volume at {@code /data} whose stub runner runs {@code script} (busybox sh). */
    private String submit(String volumeId, boolean initFs, String script) {
        Path stub = StubRunner.override(tmp.resolve("stub-" + submitted.size()), script);
        Map<String, Object> body = TaskCalls.busybox("host");
        body.put("volumes", List.of(Map.of("backend", "aws", "name", volumeName, "volume_id", volumeId, "init_fs", initFs)));
        body.put("volume_mounts", List.of(Map.of("name", volumeName, "path", "/data")));
        body.put("instance_mounts", List.of(Map.of("instance_path", stub.toString(), "path", StubRunner.OVERRIDE_DIR)));
        String id = TaskCalls.submit(shim.api(), body);
        submitted.add(id);
        return id;
    }

    private void remove(String id) {
        TaskCalls.terminateAndRemove(shim.api(), id);
        submitted.remove(id);
    }

    @Test
    void aBlankVolumeIsFormattedForTheFirstTaskUnmountedOnRemoveAndKeepsItsFileForTheNext() {
        disk = LoopDevice.create(tmp, 64);
        String hex = HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextInt());
        volumeName = "it-ext4-" + hex;
        String volumeId = "vol-0" + hex;
        FakeExecutables tools = new FakeExecutables(tmp.resolve("bin"));
        // The serial of an NVMe EBS volume is its id without the dash; partition listings go to the real lsblk.
        tools.script("lsblk", "[ \"$*\" = \"-o NAME,SERIAL\" ] && { printf 'NAME SERIAL\\nnvme9n1 vol0other\\n%s vol0%s\\n'; exit 0; }; exec /usr/bin/lsblk \"$@\""
                .formatted(disk.name(), hex));
        RepoPaths.copyBuiltPlugins(tmp.resolve("plugins")); // all of them; DSTACK_SHIM_PLUGINS picks one
        shim = ShimProcess.builder(tmp)
                .env("PATH", tools.pathBeforeSystem())
                .env("DSTACK_SHIM_PLUGINS_DIR", tmp.resolve("plugins").toString())
                .env("DSTACK_SHIM_PLUGINS", "storage-ext4")
                .env("DSTACK_SHIM_VOLUME_BLANK_RECHECK_INTERVAL_MS", "20")
                .env("DSTACK_RUNNER_HTTP_PORT", String.valueOf(FreePorts.next()))
                .env("DSTACK_RUNNER_SSH_PORT", String.valueOf(FreePorts.next()))
                .start();
        ApiClient api = shim.api();
        String mountPoint = VolumeManager.mountPoint(volumeName);

        String first = submit(volumeId, true, "echo 'written by the first task' > /data/hello.txt; exec sleep 600");
        TaskCalls.awaitStatus(api, first, "running");
        assertThat(blkid(disk, "TYPE")).isEqualTo("ext4");
        String fsUuid = blkid(disk, "UUID");
        assertThat(mounted(mountPoint)).isTrue();
        await().until(() -> Files.exists(Path.of(mountPoint, "hello.txt")));

        remove(first);
        assertThat(mounted(mountPoint)).isFalse();
        assertThat(Path.of(mountPoint, "hello.txt")).doesNotExist();

        String second = submit(volumeId, false, "exec sleep 600");
        JsonNode running = TaskCalls.awaitStatus(api, second, "running");
        assertThat(Commands.run("docker", "exec", running.path("container_id").asText(), "cat", "/data/hello.txt"))
                .isEqualTo("written by the first task\n");
        assertThat(blkid(disk, "UUID")).as("never reformatted").isEqualTo(fsUuid);

        remove(second);
        assertThat(mounted(mountPoint)).isFalse();
    }
}
