package ai.dstack.agent.plugin;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.logging.Logger;

/**
 * NVIDIA's {@code dcgm-exporter} run by the agent (docs/shim.md §5.7) and the per-task view of its scrape
 * that {@code GET /metrics/tasks/{id}} serves (docs/shim.md §2.14). Started only on a host whose primary
 * vendor is NVIDIA and where {@code dcgm-exporter -v} works; stopped with SIGTERM on {@link #close()}.
 */
public final class DcgmExporter implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(DcgmExporter.class.getName());
    static final Duration SCRAPE_TIMEOUT = Duration.ofSeconds(10);

    /** What {@link #metricsFor} found. */
    public sealed interface Metrics {
        /** No exporter runs on this host: 404 {@code DCGM Exporter is not available}. */
        record Unavailable() implements Metrics {
        }

        /** The scrape failed: 502 with this text. */
        record ScrapeFailed(String error) implements Metrics {
        }

        /** 200 with this Prometheus text (empty for a task without GPUs). */
        record Ok(String body) implements Metrics {
        }
    }

    private final Process process;
    private final URI endpoint;
    private final Duration cacheFor;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(SCRAPE_TIMEOUT).build();
    private String cached;
    private long cachedAt;

    DcgmExporter(Process process, URI endpoint, Duration cacheFor) {
        this.process = process;
        this.endpoint = endpoint;
        this.cacheFor = cacheFor;
    }

    /**
     * Starts the exporter when the primary vendor is NVIDIA and {@code dcgm-exporter -v} exits 0;
     * empty otherwise (a failure is only logged).
     */
    public static Optional<DcgmExporter> start(DeviceInventory inventory, LocalHost host, PluginSettings settings) {
        if (!inventory.primaryVendor().equals("nvidia")) {
            return Optional.empty();
        }
        Optional<Path> exe = host.which("dcgm-exporter");
        if (exe.isEmpty() || !host.run(List.of("dcgm-exporter", "-v")).ok()) {
            LOG.info("dcgm-exporter not available: /metrics/tasks answers 404");
            return Optional.empty();
        }
        try {
            Path counters = Files.createTempFile("dstack-dcgm-counters-", ".csv");
            Files.writeString(counters, DcgmCounters.CSV);
            counters.toFile().deleteOnExit();
            String address = "localhost:" + settings.dcgmExporterPort();
            ProcessBuilder pb = new ProcessBuilder(exe.get().toString(), "-f", counters.toString(), "-a", address,
                    "-c", String.valueOf(settings.dcgmExporterInterval().toMillis()))
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD);
            pb.environment().clear();
            pb.environment().putAll(host.env());
            Process p = pb.start();
            LOG.info(() -> "dcgm-exporter started on " + address + " (pid " + p.pid() + ")");
            return Optional.of(new DcgmExporter(p, URI.create("http://" + address + "/metrics"), settings.dcgmExporterInterval()));
        } catch (IOException e) {
            LOG.warning(() -> "dcgm-exporter did not start: " + e.getMessage());
            return Optional.empty();
        }
    }

    /** The metrics of the GPUs with these ids (NVIDIA UUIDs) from the latest scrape. */
    public Metrics metricsFor(Collection<String> gpuIds) {
        String scrape;
        try {
            scrape = scrape();
        } catch (IOException e) {
            return new Metrics.ScrapeFailed(e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Metrics.ScrapeFailed("interrupted");
        }
        return new Metrics.Ok(filter(scrape, gpuIds));
    }

    /** The what-{@code /metrics/tasks} answers for a missing exporter. */
    public static Metrics unavailable() {
        return new Metrics.Unavailable();
    }

    private synchronized String scrape() throws IOException, InterruptedException {
        long now = System.nanoTime();
        if (cached != null && now - cachedAt < cacheFor.toNanos()) {
            return cached;
        }
        HttpResponse<String> response = http.send(HttpRequest.newBuilder(endpoint).timeout(SCRAPE_TIMEOUT).GET().build(),
                HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() != 200) {
            throw new IOException("dcgm-exporter answered " + response.statusCode() + " for " + endpoint);
        }
        cached = response.body();
        cachedAt = now;
        return cached;
    }

    /**
     * Keeps the sample lines that mention any of the ids (substring match), each family's latest
     * {@code # HELP}/{@code # TYPE} lines once right before its first kept sample; drops other
     * comments and blank lines; trims lines. No ids → empty text.
     */
    public static String filter(String scrape, Collection<String> ids) {
        if (ids.isEmpty()) {
            return "";
        }
        Map<String, String[]> headers = new LinkedHashMap<>(); // family → {HELP line, TYPE line}
        List<String> emittedFamilies = new ArrayList<>();
        StringBuilder out = new StringBuilder();
        for (String raw : scrape.split("\n")) {
            String line = raw.strip();
            if (line.isEmpty()) {
                continue;
            }
            if (line.startsWith("#")) {
                String[] parts = line.split("\\s+", 4);
                if (parts.length >= 3 && (parts[1].equals("HELP") || parts[1].equals("TYPE"))) {
                    headers.computeIfAbsent(parts[2], k -> new String[2])[parts[1].equals("HELP") ? 0 : 1] = line;
                }
                continue;
            }
            if (ids.stream().noneMatch(line::contains)) {
                continue;
            }
            String family = line.split("[{\\s]", 2)[0];
            if (!emittedFamilies.contains(family)) {
                emittedFamilies.add(family);
                for (String h : headers.getOrDefault(family, new String[2])) {
                    if (h != null) {
                        out.append(h).append('\n');
                    }
                }
            }
            out.append(line).append('\n');
        }
        return out.toString();
    }

    @Override
    public void close() {
        process.destroy();
    }
}
