package ai.dstack.agent.pluginhost;

import ai.dstack.agent.files.AtomicFiles;
import ai.dstack.agent.json.StrictJson;
import ai.dstack.agent.spi.Device;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * What a running shim's device inventory holds, as it writes it to {@code <home>/devices.json} after
 * every refresh, so that {@code dstack-shim host} can show the devices a running shim uses and why its
 * last refresh failed (docs/shim-operations.md, "Devices survive a failing vendor tool"). Times are
 * ISO-8601 instants.
 *
 * @param pid            the shim process that wrote it
 * @param pidStartedAt   when that process started (tells it from a later process given the same pid)
 * @param refreshedAt    when its latest refresh ended
 * @param primaryVendor  the vendor tasks are served from, {@code none} when no plugin found a device
 * @param vendors        every vendor's state, in priority order
 */
public record InventoryState(@JsonProperty("pid") long pid, @JsonProperty("pid_started_at") String pidStartedAt,
                             @JsonProperty("refreshed_at") String refreshedAt,
                             @JsonProperty("primary_vendor") String primaryVendor,
                             @JsonProperty("vendors") List<Vendor> vendors) {
    /** The file's name in the shim's home. */
    public static final String FILE_NAME = "devices.json";
    /** Start times of one process read twice may differ by the clock tick they are rounded to. */
    private static final Duration SAME_START = Duration.ofSeconds(1);
    /** Devices are plain SPI records: their fields in snake_case, as the API and {@code host --json} name them. */
    private static final ObjectMapper MAPPER = StrictJson.mapper().copy()
            .setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE);

    public InventoryState {
        pidStartedAt = pidStartedAt == null ? "" : pidStartedAt;
        primaryVendor = primaryVendor == null ? "none" : primaryVendor;
        vendors = vendors == null ? List.of() : List.copyOf(vendors);
    }

    /**
     * One vendor as the shim sees it.
     *
     * @param vendor          vendor key
     * @param present         whether its hardware or driver is there
     * @param devices         the devices tasks are given (after a failed refresh: the last good ones),
     *                        with their health as of the refresh
     * @param fingerprintedAt when these devices were found (the last successful fingerprint); null before any
     * @param viaImage        its tool ran as a container (not re-run while tasks hold GPUs)
     * @param lastFailure     the latest refresh's failure; null when the latest refresh succeeded
     */
    public record Vendor(@JsonProperty("vendor") String vendor, @JsonProperty("present") boolean present,
                         @JsonProperty("devices") List<Device> devices,
                         @JsonProperty("fingerprinted_at") String fingerprintedAt,
                         @JsonProperty("via_image") boolean viaImage,
                         @JsonProperty("last_failure") Failure lastFailure) {
        public Vendor {
            devices = devices == null ? List.of() : List.copyOf(devices);
        }
    }

    /**
     * A refresh that failed.
     *
     * @param at    when it ended
     * @param error what the plugin said, on one line
     */
    public record Failure(@JsonProperty("at") String at, @JsonProperty("error") String error) {
        public Failure {
            error = error == null ? "" : error.strip().replaceAll("\\s+", " ");
        }
    }

    /** The state of this process, at {@code refreshedAt}. */
    static InventoryState ofThisProcess(Instant refreshedAt, String primaryVendor, List<Vendor> vendors) {
        ProcessHandle self = ProcessHandle.current();
        return new InventoryState(self.pid(), self.info().startInstant().map(Instant::toString).orElse(""),
                refreshedAt.toString(), primaryVendor, vendors);
    }

    /** Replaces {@code file} with this state (atomically, 0644: it holds nothing secret). */
    public void write(Path file) throws IOException {
        AtomicFiles.write(file, MAPPER.writerWithDefaultPrettyPrinter().writeValueAsBytes(this), "rw-r--r--");
    }

    /** The state in {@code file}; empty when there is none. @throws IOException when it cannot be read or parsed */
    public static Optional<InventoryState> read(Path file) throws IOException {
        if (!Files.exists(file)) {
            return Optional.empty();
        }
        return Optional.of(MAPPER.readValue(file.toFile(), InventoryState.class));
    }

    /** Whether the process that wrote this state still runs (same pid, same start time). */
    public boolean writerRunning() {
        Optional<ProcessHandle> process = ProcessHandle.of(pid).filter(ProcessHandle::isAlive);
        if (process.isEmpty()) {
            return false;
        }
        Optional<Instant> started = process.get().info().startInstant();
        if (started.isEmpty() || pidStartedAt.isEmpty()) {
            return true; // nothing to tell them apart by: the pid alone
        }
        try {
            Duration gap = Duration.between(Instant.parse(pidStartedAt), started.get()).abs();
            return gap.compareTo(SAME_START) <= 0;
        } catch (RuntimeException e) {
            return false;
        }
    }
}
