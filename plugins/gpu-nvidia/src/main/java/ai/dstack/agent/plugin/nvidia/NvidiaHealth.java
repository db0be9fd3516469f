package ai.dstack.agent.plugin.nvidia;

import ai.dstack.agent.spi.Device;
import ai.dstack.agent.spi.HealthIncident;
import ai.dstack.agent.spi.HealthIncident.Severity;
import ai.dstack.agent.spi.HealthReport;
import ai.dstack.agent.spi.HostContext;
import ai.dstack.agent.spi.ToolResult;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * NVIDIA health from two sources. {@code nvidia-smi} always (the fields below), and DCGM through
 * {@code dcgmi health -c -j} when {@code dcgmi} is on {@code PATH} (XIDs, NVLink, PCIe replays …;
 * all watches are switched on with {@code dcgmi health -s a} before the first check).
 *
 * <p>nvidia-smi rules ({@code [N/A]}/{@code [Not Supported]} values are ignored):
 * <ul>
 * <li>{@code ecc.errors.uncorrected.volatile.total} &gt; 0 → fail (DCGM memory system);</li>
 * <li>{@code remapped_rows.failure} = Yes → fail; {@code remapped_rows.pending} = Yes → warn;</li>
 * <li>{@code retired_pages.pending} = Yes → warn (pre-Ampere page retirement awaiting a reset);</li>
 * <li>{@code clocks_throttle_reasons.hw_slowdown}, {@code .hw_thermal_slowdown},
 *     {@code .hw_power_brake_slowdown} = Active → warn (thermal / power system).</li>
 * </ul>
 */
final class NvidiaHealth {
    static final List<String> FIELDS = List.of("index", "uuid", "ecc.errors.uncorrected.volatile.total",
            "remapped_rows.failure", "remapped_rows.pending", "retired_pages.pending",
            "clocks_throttle_reasons.hw_slowdown", "clocks_throttle_reasons.hw_thermal_slowdown",
            "clocks_throttle_reasons.hw_power_brake_slowdown");
    static final List<String> QUERY = List.of("nvidia-smi", "--query-gpu=" + String.join(",", FIELDS),
            "--format=csv,noheader,nounits");

    // DCGM health-system bits (dcgm_structs.h, dcgmHealthSystems_t).
    static final int SYSTEM_MEM = 0x10;
    static final int SYSTEM_THERMAL = 0x80;
    static final int SYSTEM_POWER = 0x100;
    static final int SYSTEM_DRIVER = 0x200;
    private static final Map<String, Integer> DCGMI_SYSTEMS = Map.of(
            "pcie system", 0x1, "nvlink system", 0x2, "pmu system", 0x4, "mcu system", 0x8,
            "memory system", SYSTEM_MEM, "sm system", 0x20, "inforom system", 0x40,
            "thermal system", SYSTEM_THERMAL, "power system", SYSTEM_POWER, "driver", SYSTEM_DRIVER);

    private final AtomicBoolean watchesEnabled = new AtomicBoolean();
    /** Made at the first dcgmi output to parse: an ObjectMapper loads ~400 classes of the plugin's own Jackson,
     *  which a host without this vendor never needs (agent-core/README.md "JVM and memory"). */
    private static final class Json {
        static final ObjectMapper MAPPER = new ObjectMapper();
    }

    /** Both sources' findings; the report's error says when nvidia-smi could not be asked. */
    HealthReport check(List<Device> devices, HostContext host) {
        ToolResult smi = host.run(QUERY);
        List<HealthIncident> incidents = new ArrayList<>(fromNvidiaSmi(smi));
        incidents.addAll(fromDcgmi(host));
        return new HealthReport(incidents, smi.ok() ? null : smi.describe("nvidia-smi"));
    }

    List<HealthIncident> fromNvidiaSmi(ToolResult result) {
        if (!result.ok()) {
            return List.of();
        }
        List<HealthIncident> incidents = new ArrayList<>();
        for (List<String> f : result.csv(FIELDS.size()).records()) {
            int index;
            try {
                index = Integer.parseInt(f.get(0));
            } catch (NumberFormatException e) {
                continue;
            }
            long ecc = number(f.get(2));
            if (ecc > 0) {
                incidents.add(new HealthIncident(index, Severity.FAIL, SYSTEM_MEM, 0, ecc + " uncorrectable ECC errors since the last driver load"));
            }
            if (yes(f.get(3))) {
                incidents.add(new HealthIncident(index, Severity.FAIL, SYSTEM_MEM, 0, "row remapping failed"));
            }
            if (yes(f.get(4))) {
                incidents.add(new HealthIncident(index, Severity.WARN, SYSTEM_MEM, 0, "row remapping pending a GPU reset"));
            }
            if (yes(f.get(5))) {
                incidents.add(new HealthIncident(index, Severity.WARN, SYSTEM_MEM, 0, "retired pages pending a GPU reset"));
            }
            if (active(f.get(6)) || active(f.get(7))) {
                incidents.add(new HealthIncident(index, Severity.WARN, SYSTEM_THERMAL, 0, "hardware clock slowdown active"));
            }
            if (active(f.get(8))) {
                incidents.add(new HealthIncident(index, Severity.WARN, SYSTEM_POWER, 0, "hardware power brake slowdown active"));
            }
        }
        return incidents;
    }

    /** {@code dcgmi}'s JSON: body → "GPU" → children → "<id>" → children → "Errors" → children → "<system>" {value, overflow}. */
    List<HealthIncident> fromDcgmi(HostContext host) {
        if (!watchesEnabled.get()) {
            ToolResult set = host.run(List.of("dcgmi", "health", "-s", "a"));
            if (set.notFound()) {
                return List.of();
            }
            watchesEnabled.set(set.ok());
        }
        ToolResult result = host.run(List.of("dcgmi", "health", "-c", "-j"));
        if (!result.ok()) {
            return List.of();
        }
        JsonNode gpus;
        try {
            gpus = Json.MAPPER.readTree(result.stdout()).path("body").path("GPU").path("children");
        } catch (Exception e) {
            return List.of();
        }
        List<HealthIncident> incidents = new ArrayList<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = gpus.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> gpu = it.next();
            int index;
            try {
                index = Integer.parseInt(gpu.getKey());
            } catch (NumberFormatException e) {
                continue;
            }
            JsonNode errors = gpu.getValue().path("children").path("Errors").path("children");
            for (Iterator<Map.Entry<String, JsonNode>> es = errors.fields(); es.hasNext(); ) {
                Map.Entry<String, JsonNode> system = es.next();
                Severity severity = severity(system.getValue().path("value").asText());
                if (severity == Severity.PASS) {
                    continue;
                }
                List<String> lines = new ArrayList<>();
                system.getValue().path("overflow").forEach(l -> lines.add(l.asText()));
                String message = lines.isEmpty() ? system.getKey() : String.join(" ", lines);
                incidents.add(new HealthIncident(index, severity,
                        DCGMI_SYSTEMS.getOrDefault(system.getKey().toLowerCase(Locale.ROOT), 0), 0, message));
            }
        }
        return incidents;
    }

    private static Severity severity(String dcgmiText) {
        return switch (dcgmiText.strip().toLowerCase(Locale.ROOT)) {
            case "warning" -> Severity.WARN;
            case "failure", "internal error" -> Severity.FAIL;
            default -> Severity.PASS;
        };
    }

    private static long number(String value) {
        try {
            return Long.parseLong(value);
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    private static boolean yes(String value) {
        return value.equalsIgnoreCase("yes");
    }

    private static boolean active(String value) {
        return value.equalsIgnoreCase("active");
    }
}
