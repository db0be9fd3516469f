package ai.dstack.agent.task;

import ai.dstack.agent.testing.ApiClient;
import ai.dstack.agent.testing.FakeExecutables;
import ai.dstack.agent.testing.FakeHost;
import ai.dstack.agent.testing.LocalImages;
import ai.dstack.agent.testing.RepoPaths;
import ai.dstack.agent.testing.ShimProcess;
import ai.dstack.agent.testing.StubRunner;
import ai.dstack.agent.testing.TestDockerd;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;

/**
 * A 4×L4 NVIDIA host without GPUs, for shim-process tests: a test-only engine whose fake
 * {@code nvidia-container-runtime-hook} lets GPU containers start, and a shim over a fake host root
 * ({@code /dev/nvidiactl}) with a fake {@code nvidia-smi} and the built plugins named. Closing it
 * closes the shim (its containers go) and the engine.
 */
public final class FakeGpuHost implements AutoCloseable {
    private final Path tmp;
    private final TestDockerd engine;
    private ShimProcess shim;

    private FakeGpuHost(Path tmp, TestDockerd engine) {
        this.tmp = tmp;
        this.engine = engine;
    }

    /** Starts the test engine (under {@code tmp}), with busybox loaded; skips the test where none can run. */
    public static FakeGpuHost start(Path tmp) throws IOException {
        String why = TestDockerd.unavailableBecause();
        Assumptions.assumeTrue(why == null, () -> "skipped: " + why);
        Path hook = Files.createDirectories(tmp.resolve("hook"));
        new FakeExecutables(hook).script("nvidia-container-runtime-hook", "cat >/dev/null; exit 0\n");
        TestDockerd engine = TestDockerd.start(List.of(hook), Map.of());
        engine.loadImage(LocalImages.BUSYBOX);
        return new FakeGpuHost(tmp, engine);
    }

    public TestDockerd engine() {
        return engine;
    }

    /**
     * A shim on the test engine seeing four L4 GPUs: {@code tools} (its folder first on PATH) gets a
     * fake {@code nvidia-smi} listing them, unless it has one already; the plugins loaded are
     * {@code gpu-nvidia} plus {@code morePlugins}. {@link #start} starts it.
     */
    public ShimProcess.Builder shim(FakeExecutables tools, String... morePlugins) {
        if (!Files.exists(tools.dir().resolve("nvidia-smi"))) {
            tools.printing("nvidia-smi", RepoPaths.fixture("gpu-nvidia", "nvidia-smi/l4-x4.csv"));
        }
        new FakeHost(tmp.resolve("root")).file("/dev/nvidiactl", "");
        String[] plugins = new String[morePlugins.length + 1];
        plugins[0] = "gpu-nvidia";
        System.arraycopy(morePlugins, 0, plugins, 1, morePlugins.length);
        RepoPaths.copyBuiltPlugins(tmp.resolve("plugins"), plugins);
        return ShimProcess.builder(tmp)
                .engine(engine.host())
                .env("PATH", tools.dir() + ":/usr/sbin:/usr/bin:/sbin:/bin")
                .env("DSTACK_SHIM_HOST_ROOT", tmp.resolve("root").toString())
                .env("DSTACK_SHIM_PLUGINS_DIR", tmp.resolve("plugins").toString());
    }

    /** Starts a shim {@link #shim} built; closed with this host. */
    public ShimProcess start(ShimProcess.Builder builder) {
        shim = builder.start();
        return shim;
    }

    /** Submits a task of {@code gpus} GPUs whose stub runner only sleeps (host network, no runner port). */
    public String submitSleeping(ApiClient api, int gpus) {
        Path stub = StubRunner.override(tmp.resolve("stub"), "exec sleep 600");
        Map<String, Object> body = TaskCalls.busybox("host");
        body.put("gpu", gpus);
        body.put("instance_mounts", List.of(Map.of("instance_path", stub.toString(), "path", StubRunner.OVERRIDE_DIR)));
        return TaskCalls.submit(api, body);
    }

    @Override
    public void close() {
        if (shim != null) {
            shim.close();
        }
        engine.close();
    }
}
