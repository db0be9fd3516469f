package ai.dstack.agent.plugin.nvidia;

import ai.dstack.agent.spi.HostContext;
import ai.dstack.agent.spi.TaskMetrics;
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
 * NVIDIA's {@code dcgm-exporter}, started by the plugin on a host whose primary vendor is NVIDIA
 * (docs/shim.md §5.7), and the per-task view of its scrape that the agent serves on
 * {@code GET /metrics/tasks/{id}} (docs/shim.md §2.14). Port and collect interval are the agent's Go-compatible
 * {@code --dcgm-exporter-http-port} and {@code --dcgm-exporter-interval} settings (the latter read
 * as {@code dcgm-exporter-interval-ms}); the scrape is cached
 * for one interval. Stopped with SIGTERM on {@link #close()}.
 */
final class DcgmExporter implements TaskMetrics {
    private static final Logger LOG = Logger.getLogger(DcgmExporter.class.getName());
    static final Duration SCRAPE_TIMEOUT = Duration.ofSeconds(10);

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

    /** Starts the exporter when {@code dcgm-exporter -v} exits 0; empty otherwise (a failure is only logged). */
    static Optional<TaskMetrics> start(HostContext host) {
        if (!host.run(List.of("dcgm-exporter", "-v")).ok()) {
            LOG.info("dcgm-exporter not available: /metrics/tasks answers 404");
            return Optional.empty();
        }
        try {
            int port = Integer.parseInt(host.setting("dcgm-exporter-http-port"));
            Duration interval = host.millis("dcgm-exporter-interval-ms");
            Path counters = Files.createTempFile("dstack-dcgm-counters-", ".csv");
            Files.writeString(counters, DcgmCounters.CSV);
            counters.toFile().deleteOnExit();
            String address = "localhost:" + port;
            Process p = host.start(List.of("dcgm-exporter", "-f", counters.toString(), "-a", address,
                    "-c", String.valueOf(interval.toMillis())));
            LOG.info(() -> "dcgm-exporter started on " + address + " (pid " + p.pid() + ")");
            return Optional.of(new DcgmExporter(p, URI.create("http://" + address + "/metrics"), interval));
        } catch (IOException | RuntimeException e) {
            LOG.warning(() -> "dcgm-exporter did not start: " + e.getMessage());
            return Optional.empty();
        }
    }

    /** The metrics of the GPUs with these ids (their UUIDs) from the latest scrape. */
    @Override
    public String scrape(Collection<String> gpuIds) throws IOException {
        try {
            return filter(cachedScrape(), gpuIds);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
    }

    private synchronized String cachedScrape() throws IOException, InterruptedException {
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
    static String filter(String scrape, Collection<String> ids) {
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
