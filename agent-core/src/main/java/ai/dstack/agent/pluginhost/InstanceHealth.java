package ai.dstack.agent.pluginhost;

import ai.dstack.agent.spi.HealthIncident;
import ai.dstack.agent.spi.HealthIncident.Severity;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * The body of {@code GET /api/instance/health} (docs/shim.md §2.5) in the shape the dstack server reads (DCGM's
 * health response), from the primary vendor's health report ({@code AcceleratorPlugin.health}): one
 * incident per unhealthy device, overall 20 if any device fails, 10 if any warns, else 0.
 */
public final class InstanceHealth {
    /** DCGM's entity group of GPUs. */
    static final int ENTITY_GROUP_GPU = 1;

    private final DeviceInventory inventory;

    public InstanceHealth(DeviceInventory inventory) {
        this.inventory = inventory;
    }

    /**
     * The response body.
     *
     * @param dcgm the health report, null when the host has no accelerators to report on
     */
    public record Response(@JsonProperty("dcgm") @JsonInclude(JsonInclude.Include.ALWAYS) Report dcgm) {
    }

    /**
     * DCGM's health response.
     *
     * @param overallHealth 0 pass, 10 warn, 20 fail
     * @param incidents     one per unhealthy device
     */
    public record Report(@JsonProperty("overall_health") int overallHealth,
                         @JsonProperty("incidents") List<Incident> incidents) {
    }

    /**
     * One device's findings.
     *
     * @param system        DCGM health-system bit of its worst finding
     * @param health        10 warn or 20 fail
     * @param errorMessage  every finding, joined by "; "
     * @param errorCode     DCGM error code of its worst finding, 0 when not from DCGM
     * @param entityGroupId 1 (GPU)
     * @param entityId      the device's index
     */
    public record Incident(@JsonProperty("system") int system, @JsonProperty("health") int health,
                           @JsonProperty("error_message") String errorMessage, @JsonProperty("error_code") int errorCode,
                           @JsonProperty("entity_group_id") int entityGroupId, @JsonProperty("entity_id") int entityId) {
    }

    /** Runs one health check of the primary vendor's devices and reports it. */
    public Response check() {
        inventory.refreshHealth();
        return inventory.primary().map(s -> new Response(report(s.incidents()))).orElse(new Response(null));
    }

    static Report report(List<HealthIncident> findings) {
        Map<Integer, List<HealthIncident>> byDevice = findings.stream()
                .filter(i -> i.severity() != Severity.PASS)
                .collect(Collectors.groupingBy(HealthIncident::deviceIndex, TreeMap::new, Collectors.toList()));
        List<Incident> incidents = new ArrayList<>();
        int overall = 0;
        for (Map.Entry<Integer, List<HealthIncident>> e : byDevice.entrySet()) {
            HealthIncident worst = e.getValue().stream().max(Comparator.comparingInt(i -> i.severity().dcgmValue())).orElseThrow();
            String message = e.getValue().stream().map(HealthIncident::message).distinct().collect(Collectors.joining("; "));
            incidents.add(new Incident(worst.system(), worst.severity().dcgmValue(), message, worst.errorCode(), ENTITY_GROUP_GPU, e.getKey()));
            overall = Math.max(overall, worst.severity().dcgmValue());
        }
        return new Report(overall, incidents);
    }
}
