package ai.dstack.runner.metrics;

import ai.dstack.runner.env.ImageEnvironment;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * GPU figures from the vendor's command-line tool (docs/runner.md §7), run with a timeout and cached for a short while so
 * that frequent polls do not spawn a tool each time. A failing tool yields what it printed before failing, or an
 * empty list; it never fails the request.
 */
public final class GpuTool {
    private static final System.Logger LOG = System.getLogger(GpuTool.class.getName());
    private static final long MIB = 1024 * 1024;

    /** The vendor found by device files; decides which tool runs. */
    public enum Vendor { NVIDIA, AMD, GAUDI, TENSTORRENT, NONE }

    private final Vendor vendor;
    private final List<String> command;
    private final Duration timeout;
    private final Duration cacheFor;
    private final LongSupplier nanoClock;
    private List<GpuMetrics> cached = List.of();
    private long cachedAt;
    private boolean hasCache;

    GpuTool(Vendor vendor, List<String> command, Duration timeout, Duration cacheFor, LongSupplier nanoClock) {
        this.vendor = vendor;
        this.command = command;
        this.timeout = timeout;
        this.cacheFor = cacheFor;
        this.nanoClock = nanoClock;
    }

    /**
     * Detects the vendor once by device files under {@code root} (first match wins) and resolves its tool on
     * {@code path} (a {@code PATH}-style list).
     */
    public static GpuTool detect(Path root, String path, Duration timeout, Duration cacheFor) {
        Vendor vendor;
        List<String> command = List.of();
        Path wslSmi = root.resolve("usr/lib/wsl/lib/nvidia-smi");
        if (Files.exists(root.resolve("dev/nvidiactl"))) {
            vendor = Vendor.NVIDIA;
            command = nvidiaArgs(which("nvidia-smi", path));
        } else if (Files.exists(root.resolve("dev/dxg")) && Files.exists(wslSmi)) {
            vendor = Vendor.NVIDIA;
            command = nvidiaArgs(wslSmi.toString());
        } else if (Files.exists(root.resolve("dev/tenstorrent"))) {
            vendor = Vendor.TENSTORRENT;
        } else if (Files.exists(root.resolve("dev/kfd"))) {
            vendor = Vendor.AMD;
            command = List.of(which("amd-smi", path), "monitor", "-vu", "--csv");
        } else if (Files.exists(root.resolve("dev/accel"))) {
            vendor = Vendor.GAUDI;
            command = List.of(which("hl-smi", path), "--query-aip=memory.used,utilization.aip",
                    "--format=csv,noheader,nounits");
        } else {
            vendor = Vendor.NONE;
        }
        return new GpuTool(vendor, command, timeout, cacheFor, System::nanoTime);
    }

    private static List<String> nvidiaArgs(String smi) {
        return List.of(smi, "--query-gpu=memory.used,utilization.gpu", "--format=csv,noheader,nounits");
    }

    /** The first executable {@code name} on {@code path}, else the bare name (so the failure shows up when run). */
    static String which(String name, String path) {
        for (String dir : (path == null ? "" : path).split(File.pathSeparator)) {
            if (!dir.isEmpty()) {
                Path candidate = Path.of(dir, name);
                if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
                    return candidate.toString();
                }
            }
        }
        return name;
    }

    public Vendor vendor() {
        return vendor;
    }

    /** Current figures, at most {@code cacheFor} old. */
    public synchronized List<GpuMetrics> read() {
        if (command.isEmpty()) {
            return List.of();
        }
        long now = nanoClock.getAsLong();
        if (hasCache && now - cachedAt < cacheFor.toNanos()) {
            return cached;
        }
        cached = List.copyOf(run());
        cachedAt = now;
        hasCache = true;
        return cached;
    }

    private List<GpuMetrics> run() {
        String output;
        try {
            Optional<String> out = execute();
            if (out.isEmpty()) {
                return List.of();
            }
            output = out.get();
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "GPU tool {0} failed: {1}", command.getFirst(), e.toString());
            return List.of();
        }
        return vendor == Vendor.AMD ? parseAmd(output) : parseCsv(output);
    }

    /** Output of the tool, or empty when it timed out or exited non-zero. */
    private Optional<String> execute() throws IOException {
        ProcessBuilder pb = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.DISCARD)
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        ImageEnvironment.restore(pb.environment());
        Process p = pb.start();
        CompletableFuture<String> out = new CompletableFuture<>();
        Thread.ofVirtual().start(() -> {
            try (InputStream in = p.getInputStream()) {
                out.complete(new String(in.readAllBytes(), StandardCharsets.UTF_8));
            } catch (IOException e) {
                out.completeExceptionally(e);
            }
        });
        try {
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                p.descendants().forEach(ProcessHandle::destroyForcibly);
                p.destroyForcibly();
                LOG.log(System.Logger.Level.WARNING, "GPU tool {0} timed out after {1}", command.getFirst(), timeout);
                return Optional.empty();
            }
            if (p.exitValue() != 0) {
                LOG.log(System.Logger.Level.WARNING, "GPU tool {0} exited with {1}", command.getFirst(), p.exitValue());
                return Optional.empty();
            }
            return Optional.of(out.get(timeout.toMillis(), TimeUnit.MILLISECONDS));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            p.destroyForcibly();
            return Optional.empty();
        } catch (ExecutionException | java.util.concurrent.TimeoutException e) {
            throw new IOException("cannot read the output of " + command.getFirst(), e);
        }
    }

    /** {@code nvidia-smi}/{@code hl-smi} CSV: {@code <MiB>, <percent>} per line; stops at the first bad line. */
    static List<GpuMetrics> parseCsv(String output) {
        List<GpuMetrics> gpus = new ArrayList<>();
        for (String line : output.split("\n")) {
            if (line.isBlank()) {
                continue;
            }
            String[] f = line.split(",");
            try {
                if (f.length != 2) {
                    throw new NumberFormatException("expected 2 fields");
                }
                gpus.add(new GpuMetrics(Long.parseLong(f[0].trim()) * MIB, Long.parseLong(f[1].trim())));
            } catch (NumberFormatException e) {
                LOG.log(System.Logger.Level.WARNING, "cannot parse GPU tool line {0}: {1}", line, e.getMessage());
                break;
            }
        }
        return gpus;
    }

    /** {@code amd-smi monitor -vu --csv}: header with {@code gfx} (percent) and {@code vram_used} (MiB) columns. */
    static List<GpuMetrics> parseAmd(String output) {
        List<GpuMetrics> gpus = new ArrayList<>();
        String[] lines = output.strip().split("\n");
        List<String> header = Arrays.stream(lines[0].split(",")).map(String::trim).toList();
        int gfx = header.indexOf("gfx");
        int vram = header.indexOf("vram_used");
        if (gfx < 0 || vram < 0) {
            LOG.log(System.Logger.Level.WARNING, "amd-smi output has no gfx/vram_used columns: {0}", lines[0]);
            return gpus;
        }
        for (int i = 1; i < lines.length; i++) {
            String[] f = lines[i].split(",");
            try {
                gpus.add(new GpuMetrics(Long.parseLong(f[vram].trim()) * MIB, Long.parseLong(f[gfx].trim())));
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "cannot parse amd-smi line {0}: {1}", lines[i], e.toString());
                break;
            }
        }
        return gpus;
    }
}
