package ai.dstack.agent.task;

import ai.dstack.agent.config.ShimConfig;
import ai.dstack.agent.docker.ContainerPlan;
import ai.dstack.agent.docker.EngineException;
import ai.dstack.agent.docker.ImageRef;
import ai.dstack.agent.docker.Labels;
import ai.dstack.agent.docker.RunnerMounts;
import ai.dstack.agent.docker.SingleFileRunner;
import ai.dstack.agent.shell.ShellWords;
import ai.dstack.agent.spi.BindMount;
import ai.dstack.agent.spi.ContainerEdits;
import ai.dstack.agent.spi.DeviceNode;
import ai.dstack.agent.volume.VolumeManager;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;
import java.util.logging.Logger;

/**
 * Turns a task into its container plan (docs/shim.md §4.2–§4.7): {@link #plan} is pure; the file work
 * of picking the runner (unpacking, pruning old runtimes) is {@link #runnerMounts}.
 */
public final class ContainerPlanner {
    /**
     * Runs in a subshell so nothing leaks into the runner; installs openssh-server when sshd is
     * missing and a package manager exists, else says so and goes on (the Go prelude exits 11).
     */
    private static final String PRELUDE = String.join(" ",
            "(unset LD_LIBRARY_PATH; unset LD_PRELOAD;",
            "if ! command -v sshd >/dev/null 2>&1; then",
            "{ if command -v apk >/dev/null 2>&1; then apk add -U openssh-server;",
            "elif command -v yum >/dev/null 2>&1; then yum install -y openssh-server;",
            "elif command -v apt-get >/dev/null 2>&1; then apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y openssh-server;",
            "else os=$( (. /etc/os-release 2>/dev/null && echo \"$NAME\") ); echo \"${os:-Distribution} not supported\" >&2; false; fi; }",
            "|| echo 'dstack: sshd is missing and openssh-server could not be installed; going on without sshd' >&2;",
            "fi; true)");

    private static final Logger LOG = Logger.getLogger(ContainerPlanner.class.getName());
    private final ShimConfig config;
    private final Map<String, String> passEnv;
    private final Optional<String> reportedVersion;
    private final boolean infiniband;
    private final Optional<Path> bundledRuntime;
    private final Supplier<Set<String>> runtimesInUse;

    /**
     * @param config          the shim configuration
     * @param shimEnv         the shim's environment at startup (pass-env values, {@code DSTACK_REPORTED_VERSION})
     * @param bundledRuntime  the runner runtime bundled with the agent, if this install has one
     */
    public ContainerPlanner(ShimConfig config, Map<String, String> shimEnv, Optional<Path> bundledRuntime) {
        this(config, shimEnv, bundledRuntime, Set::of);
    }

    /**
     * @param runtimesInUse host sources of the runner runtimes that containers mount now; unpacked
     *                      runtimes of replaced single-file runners outside it are deleted
     */
    public ContainerPlanner(ShimConfig config, Map<String, String> shimEnv, Optional<Path> bundledRuntime,
                            Supplier<Set<String>> runtimesInUse) {
        this.config = config;
        Map<String, String> pass = new LinkedHashMap<>();
        for (String name : config.passEnv()) {
            if (shimEnv.containsKey(name)) {
                pass.put(name, shimEnv.get(name));
            }
        }
        this.passEnv = pass;
        this.reportedVersion = Optional.ofNullable(shimEnv.get("DSTACK_REPORTED_VERSION")).filter(v -> !v.isBlank());
        this.infiniband = Files.exists(Path.of("/dev/infiniband"));
        this.bundledRuntime = bundledRuntime;
        this.runtimesInUse = runtimesInUse;
    }

    /**
     * The runner a new container gets, with the file work that choice needs: our single-file runner
     * is unpacked when it has not been yet, and runtimes of replaced ones that no container mounts
     * any more are deleted. Called right before {@link #plan}, which only reads its answer.
     */
    public RunnerMounts runnerMounts() throws EngineException {
        RunnerMounts chosen;
        try {
            chosen = RunnerMounts.choose(config.runnerRuntimeDir(), config.runnerBinaryPath(), bundledRuntime);
        } catch (IOException e) {
            throw new EngineException(e.getMessage(), e);
        }
        try {
            SingleFileRunner.prune(config.runnerBinaryPath(), runtimesInUse);
        } catch (RuntimeException e) {
            LOG.warning("old runner runtimes kept: " + e.getMessage());
        }
        return chosen;
    }

    /** {@code <name>-<first 8 hex of sha256("<name>/<id>")>} (docs/shim.md §4.2). */
    public static String containerName(String name, String id) {
        try {
            byte[] hash = MessageDigest.getInstance("SHA-256").digest((name + "/" + id).getBytes(StandardCharsets.UTF_8));
            return name + "-" + HexFormat.of().formatHex(hash).substring(0, 8);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * The plan for a task whose GPUs are {@code gpuIds}, with the pool's {@code gpuEdits} for them and
     * the {@link #runnerMounts() runner} to mount. Touches nothing.
     */
    public ContainerPlan plan(TaskSpec spec, String containerName, Path runnerDir, List<String> gpuIds,
                              ContainerEdits gpuEdits, RunnerMounts runner) {
        Map<String, String> labels = Map.of(Labels.IS_TASK, "true", Labels.TASK_ID, spec.id(),
                Labels.HOME, config.home().toString());
        Map<String, String> env = new LinkedHashMap<>(passEnv);
        if (!config.pjrtDevice().isEmpty()) {
            env.put("PJRT_DEVICE", config.pjrtDevice());
        }
        reportedVersion.ifPresent(v -> env.put("DSTACK_REPORTED_VERSION", v));

        List<BindMount> mounts = new ArrayList<>();
        mounts.add(new BindMount(runnerDir.toString(), "/tmp/runner", false));
        mounts.add(runner.binary());
        for (TaskSpec.VolumeMount m : spec.volumeMounts()) {
            mounts.add(new BindMount(VolumeManager.mountPoint(m.name()), m.path(), false));
        }
        for (TaskSpec.InstanceMount m : spec.instanceMounts()) {
            mounts.add(new BindMount(m.instancePath(), m.path(), false));
        }
        runner.runtime().ifPresent(mounts::add);

        ContainerEdits edits = ContainerEdits.NONE;
        if (!gpuIds.isEmpty()) {
            if (spec.gpuDevices().isEmpty()) {
                edits = gpuEdits;
            } else {
                ContainerEdits.Builder b = ContainerEdits.builder();
                spec.gpuDevices().forEach(d -> b.deviceNode(new DeviceNode(d.pathOnHost(), d.pathInContainer(), "rwm")));
                edits = b.build();
            }
        }
        List<DeviceNode> devices = infiniband ? List.of(DeviceNode.same("/dev/infiniband")) : List.of();
        return new ContainerPlan(containerName, ImageRef.parse(spec.imageName()).canonical(), labels, spec.containerUser(),
                List.of("/bin/sh", "-c"), List.of(PRELUDE + " && " + runnerCommand(spec)), env, mounts, spec.networkMode(),
                List.of(config.runnerHttpPort(), config.runnerSshPort()), Math.round(spec.cpu() * 1e9), spec.memory(),
                spec.shmSize(), spec.privileged() || config.privileged(), devices, infiniband, edits);
    }

    private String runnerCommand(TaskSpec spec) {
        StringBuilder cmd = new StringBuilder(RunnerMounts.BINARY_TARGET)
                .append(" --log-level ").append(ShellWords.quote(config.runnerLogLevel()))
                .append(" start --temp-dir /tmp/runner --http-port ").append(config.runnerHttpPort())
                .append(" --ssh-port ").append(config.runnerSshPort());
        if (spec.hostNetwork()) {
            cmd.append(" --http-address localhost");
        }
        for (String key : spec.containerSshKeys()) {
            cmd.append(" --ssh-authorized-key ").append(ShellWords.quote(key));
        }
        if (!config.runnerSshLogLevel().isEmpty()) {
            cmd.append(" --ssh-log-level ").append(ShellWords.quote(config.runnerSshLogLevel()));
        }
        return cmd.toString();
    }
}
