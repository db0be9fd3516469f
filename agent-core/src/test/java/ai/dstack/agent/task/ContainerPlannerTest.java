package ai.dstack.agent.task;

import static org.assertj.core.api.Assertions.assertThat;

import ai.dstack.agent.config.ShimFlags;
import ai.dstack.agent.docker.ContainerPlan;
import ai.dstack.agent.docker.RunnerMounts;
import ai.dstack.agent.spi.BindMount;
import ai.dstack.agent.spi.ContainerEdits;
import ai.dstack.agent.spi.DeviceNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ContainerPlannerTest {
    @TempDir
    Path tmp;

    @Test
    void containerNamesMatchTheGoShim() {
        assertThat(ContainerPlanner.containerName("vllm-0-0", "66a886db-86db-4cf9-8c06-8984ad15dde2")).isEqualTo("vllm-0-0-cff1b8da");
        assertThat(ContainerPlanner.containerName("llamacpp-0-0", "66a886db-86db-4cf9-8c06-8984ad15dde2"))
                .isEqualTo("llamacpp-0-0-58d1283d");
    }

    private static TaskSpec spec(String network, int gpu, List<TaskSpec.GpuDevice> devices, List<String> keys) {
        return new TaskSpec("id1", "job-0-0", "ubuntu", "", "", "root", true, gpu, 0.5, 0, 0, network, List.of(),
                List.of(new TaskSpec.VolumeMount("vol", "/vol")), List.of(new TaskSpec.InstanceMount("/host/a", "/a")),
                devices, "", List.of(), keys);
    }

    /** What the pipeline does: pick the runner (file work), then plan (pure). */
    private static ContainerPlan plan(ContainerPlanner planner, TaskSpec spec, String name, Path runnerDir, List<String> gpuIds,
                                      ContainerEdits gpuEdits) throws Exception {
        return planner.plan(spec, name, runnerDir, gpuIds, gpuEdits, planner.runnerMounts());
    }

    private ContainerPlanner planner(Map<String, String> env, String... flags) throws Exception {
        var config = ShimFlags.parse(List.of(flags), Map.of("HOME", tmp.toString()));
        return new ContainerPlanner(config, env, Optional.empty());
    }

    @Test
    void runnerCommandQuotesKeysAndBindsLocalhostOnlyInHostMode() throws Exception {
        ContainerPlan host = plan(planner(Map.of(), "--runner-log-level", "5", "--runner-ssh-log-level", "DEBUG"),
                spec("host", 0, List.of(), List.of("ssh-ed25519 AAA it's me")), "n", tmp, List.of(), ContainerEdits.NONE);
        String cmd = host.cmd().getFirst();
        assertThat(cmd).endsWith("/usr/local/bin/dstack-runner --log-level 5 start --temp-dir /tmp/runner --http-port 10999"
                                  + " --ssh-port 10022 --http-address localhost --ssh-authorized-key 'ssh-ed25519 AAA it'\\''s me'"
                                  + " --ssh-log-level DEBUG");
        assertThat(cmd).startsWith("(unset LD_LIBRARY_PATH; unset LD_PRELOAD;");
        ContainerPlan bridge = plan(planner(Map.of()), spec("bridge", 0, List.of(), List.of()), "n", tmp, List.of(),
                ContainerEdits.NONE);
        assertThat(bridge.cmd().getFirst()).doesNotContain("--http-address");
    }

    @Test
    void mountsFollowTheSpecOrderAndTheRuntimeDirComesLast() throws Exception {
        Path runtime = tmp.resolve("runtime");
        ContainerPlan plan = plan(planner(Map.of(), "--runner-runtime-dir", runtime.toString(), "--privileged"),
                spec("host", 0, List.of(), List.of()), "n", tmp.resolve("runners/n"), List.of(), ContainerEdits.NONE);
        assertThat(plan.mounts()).extracting(m -> m.containerPath())
                .containsExactly("/tmp/runner", "/usr/local/bin/dstack-runner", "/vol", "/a", "/opt/dstack-runner");
        assertThat(plan.mounts().get(1).hostPath()).isEqualTo(runtime.resolve("bin/dstack-runner").toString());
        assertThat(plan.mounts().get(1).readOnly()).isTrue();
        assertThat(plan.mounts().get(2).hostPath()).isEqualTo("/mnt/disks/dstack-volumes/vol");
        assertThat(plan.privileged()).isTrue();
        assertThat(plan.nanoCpus()).isEqualTo(500_000_000L);
    }

    @Test
    void withoutRuntimeDirTheRunnerBinaryAloneIsMounted() throws Exception {
        ContainerPlan plan = plan(planner(Map.of(), "--runner-binary-path", "/opt/x/dstack-runner"),
                spec("host", 0, List.of(), List.of()), "n", tmp, List.of(), ContainerEdits.NONE);
        assertThat(plan.mounts().get(1).hostPath()).isEqualTo("/opt/x/dstack-runner");
        assertThat(plan.mounts()).extracting(m -> m.containerPath()).doesNotContain("/opt/dstack-runner");
    }

    @Test
    void environmentHasPassEnvPjrtAndReportedVersionOnly() throws Exception {
        ContainerPlan plan = plan(planner(Map.of("https_proxy", "http://p:1", "OTHER", "x", "DSTACK_REPORTED_VERSION", "0.21.9"),
                "--pjrt-device", "TPU"), spec("host", 0, List.of(), List.of()), "n", tmp, List.of(), ContainerEdits.NONE);
        assertThat(plan.envLines()).containsExactly("https_proxy=http://p:1", "PJRT_DEVICE=TPU", "DSTACK_REPORTED_VERSION=0.21.9");
    }

    @Test
    void gpuEditsApplyOnlyWithAllocatedIdsAndExplicitDevicesReplaceThem() throws Exception {
        ContainerEdits vendor = ContainerEdits.builder().deviceNode(DeviceNode.same("/dev/kfd")).env("X", "1").build();
        ContainerPlanner p = planner(Map.of());
        assertThat(plan(p, spec("host", -1, List.of(), List.of()), "n", tmp, List.of(), vendor).edits()).isEqualTo(ContainerEdits.NONE);
        assertThat(plan(p, spec("host", 1, List.of(), List.of()), "n", tmp, List.of("g0"), vendor).edits()).isEqualTo(vendor);
        ContainerEdits explicit = plan(p, spec("host", 1, List.of(new TaskSpec.GpuDevice("/dev/nvidia0", "/dev/nvidia0")),
                List.of()), "n", tmp, List.of("g0"), vendor).edits();
        assertThat(explicit.deviceNodes()).containsExactly(DeviceNode.same("/dev/nvidia0"));
        assertThat(explicit.env()).isEmpty();
    }

    @Test
    void pickingTheRunnerPrunesReplacedRuntimesAndPlanningTouchesNothing() throws Exception {
        String current = "a".repeat(64);
        Path binary = tmp.resolve("bin/dstack-runner");
        Files.createDirectories(binary.getParent());
        Files.writeString(binary, "#!/bin/sh\n# dstack-agent-selfextract component=dstack-runner sha256=" + current + "\n");
        Path runtimes = tmp.resolve("bin/.dstack-runner.d");
        Files.createDirectories(runtimes.resolve(current));
        Files.createFile(runtimes.resolve(current).resolve(".complete"));
        Path replaced = Files.createDirectories(runtimes.resolve("b".repeat(64)));
        Path mounted = Files.createDirectories(runtimes.resolve("d".repeat(64)));
        AtomicInteger asked = new AtomicInteger();
        ContainerPlanner p = new ContainerPlanner(ShimFlags.parse(List.of("--runner-binary-path", binary.toString()),
                Map.of("HOME", tmp.toString())), Map.of(), Optional.empty(), () -> {
                    asked.incrementAndGet();
                    return Set.of(mounted.toString());
                });

        RunnerMounts runner = p.runnerMounts();
        assertThat(runner.runtime()).map(BindMount::hostPath).contains(runtimes.resolve(current).toString());
        assertThat(replaced).doesNotExist();
        assertThat(mounted).exists();
        assertThat(asked).hasValue(1);
        // Nothing old but what a container mounts: the engine is still asked (the mount may be gone)...
        p.runnerMounts();
        assertThat(asked).hasValue(2);
        // ...and once nothing old is left, it is not asked at all (a list and inspects saved per task start).
        Files.delete(mounted);
        p.runnerMounts();
        assertThat(asked).hasValue(2);

        Path replacedAgain = Files.createDirectories(runtimes.resolve("c".repeat(64)));
        ContainerPlan plan = p.plan(spec("host", 0, List.of(), List.of()), "n", tmp, List.of(), ContainerEdits.NONE, runner);
        assertThat(plan.mounts()).extracting(BindMount::containerPath).contains("/opt/dstack-runner");
        assertThat(replacedAgain).exists();
    }
}
