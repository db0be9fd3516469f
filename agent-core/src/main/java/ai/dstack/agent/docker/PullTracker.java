package ai.dstack.agent.docker;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Folds the engine's pull stream (JSON lines) into per-layer progress, errors and the success verdict
 * (docs/shim.md §4.1). The reading thread feeds it while a stall watchdog reads it, hence the locking.
 */
public final class PullTracker {
    private static final Set<String> SIZE_KNOWN = Set.of("Already exists", "Pull complete");
    private static final Set<String> TRACKED = Set.of("Pulling fs layer", "Waiting", "Verifying Checksum",
            "Already exists", "Downloading", "Download complete", "Extracting", "Pull complete");
    /** Statuses in the order a layer goes through them, so a later one always counts as progress. */
    private static final List<String> TRACKED_ORDER = List.of("Waiting", "Pulling fs layer", "Downloading",
            "Verifying Checksum", "Download complete", "Extracting", "Already exists", "Pull complete");
    private final Map<String, Layer> layers = new LinkedHashMap<>();
    private final List<String> errors = new ArrayList<>();
    private boolean succeeded;

    private static final class Layer {
        String status = "";
        long downloaded;
        long extracted;
        long total;
    }

    /** Takes one parsed line of the stream; returns true when the progress changed. */
    public synchronized boolean accept(JsonNode msg) {
        JsonNode error = msg.path("errorDetail").path("message");
        if (error.isTextual()) {
            errors.add(error.asText());
        } else if (msg.path("error").isTextual()) {
            errors.add(msg.path("error").asText());
        }
        String status = msg.path("status").asText("");
        if (status.startsWith("Status:")) {
            succeeded = true;
        }
        String id = msg.path("id").asText("");
        if (id.isEmpty() || status.isEmpty()) {
            return false;
        }
        if (!TRACKED.contains(status)) {
            return false;
        }
        Layer layer = layers.computeIfAbsent(id, k -> new Layer());
        JsonNode detail = msg.path("progressDetail");
        long current = detail.path("current").asLong(0);
        long total = detail.path("total").asLong(0);
        String units = detail.path("units").asText("");
        switch (status) {
            case "Pulling fs layer", "Waiting", "Verifying Checksum", "Already exists" -> layer.status = status;
            case "Downloading" -> {
                if (units.isEmpty() || units.equals("bytes")) {
                    layer.status = status;
                    layer.downloaded = current;
                    layer.total = total;
                }
            }
            case "Download complete" -> {
                layer.status = status;
                layer.downloaded = layer.total;
            }
            case "Extracting" -> {
                if (units.isEmpty() || units.equals("bytes")) {
                    layer.status = status;
                    layer.extracted = current;
                    layer.downloaded = total;
                    layer.total = total;
                }
            }
            case "Pull complete" -> {
                layer.status = status;
                layer.extracted = layer.total;
                layer.downloaded = layer.total;
            }
            default -> {
                return false;
            }
        }
        return true;
    }

    /** Progress summed over layers; null before the first layer event. */
    public synchronized PullProgress progress() {
        if (layers.isEmpty()) {
            return null;
        }
        long downloaded = 0;
        long extracted = 0;
        long total = 0;
        boolean totalFinal = true;
        for (Layer l : layers.values()) {
            downloaded += l.downloaded;
            extracted += l.extracted;
            total += l.total;
            if (l.total == 0 && !SIZE_KNOWN.contains(l.status)) {
                totalFinal = false;
            }
        }
        return new PullProgress(downloaded, extracted, total, totalFinal);
    }

    public synchronized boolean succeeded() {
        return succeeded;
    }

    public synchronized List<String> errors() {
        return List.copyOf(errors);
    }

    /** Go's {@code %q} of the error list: each message double-quoted and escaped, space-separated. */
    public synchronized String quotedErrors() {
        StringBuilder out = new StringBuilder("[");
        for (int i = 0; i < errors.size(); i++) {
            if (i > 0) {
                out.append(' ');
            }
            out.append('"').append(errors.get(i).replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n")).append('"');
        }
        return out.append(']').toString();
    }

    /**
     * A figure that grows whenever any layer moves on (bytes downloaded or extracted, a new status):
     * equal figures at two instants mean no layer made progress in between.
     */
    public synchronized long progressMark() {
        long mark = 0;
        for (Layer l : layers.values()) {
            mark += l.downloaded + l.extracted + TRACKED_ORDER.indexOf(l.status) + 1;
        }
        return mark + layers.size();
    }

    /** The layers still in flight, e.g. {@code layer 3f4a… at 2.1MB of 8MB (Downloading)}; where a pull stands. */
    public synchronized String unfinishedLayers() {
        List<String> parts = new ArrayList<>();
        for (Map.Entry<String, Layer> e : layers.entrySet()) {
            Layer l = e.getValue();
            if (!SIZE_KNOWN.contains(l.status)) {
                parts.add("layer " + e.getKey() + " at " + Engine.humanSize(l.status.equals("Extracting") ? l.extracted : l.downloaded)
                          + " of " + (l.total > 0 ? Engine.humanSize(l.total) : "unknown size") + " (" + l.status + ")");
            }
        }
        return parts.isEmpty() ? "no layer started" : String.join(", ", parts);
    }
}
