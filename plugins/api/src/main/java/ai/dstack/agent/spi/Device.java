package ai.dstack.agent.spi;

import java.util.Objects;

/**
 * One accelerator as the vendor tool reports it.
 *
 * @param vendor        vendor key: {@code nvidia}, {@code amd}, {@code intel}, {@code tenstorrent}
 * @param id            resource id the allocator hands out (NVIDIA UUID, AMD render node, index)
 * @param index         position in the vendor tool's enumeration, from 0
 * @param name          marketing name, e.g. {@code NVIDIA H100 80GB HBM3}
 * @param memoryMib     device memory in MiB, 0 when unknown
 * @param driverVersion normalised driver version, "" when unknown
 * @param healthy       whether the device may be handed to a task
 * @param healthDetail  why the device is unhealthy or warns, "" when healthy
 * @param pciBusId      PCI address such as {@code 0000:3b:00.0}, "" when unknown
 */
public record Device(String vendor, String id, int index, String name, long memoryMib,
                     String driverVersion, boolean healthy, String healthDetail, String pciBusId) {
    public Device {
        Objects.requireNonNull(vendor, "vendor");
        Objects.requireNonNull(id, "id");
        name = name == null ? "" : name;
        driverVersion = driverVersion == null ? "" : driverVersion;
        healthDetail = healthDetail == null ? "" : healthDetail;
        pciBusId = pciBusId == null ? "" : pciBusId;
    }

    /** A healthy device with no PCI address. */
    public static Device of(String vendor, String id, int index, String name, long memoryMib, String driverVersion) {
        return new Device(vendor, id, index, name, memoryMib, driverVersion, true, "", "");
    }

    /**
     * A driver version as the vendor tool printed it, normalised: trimmed, and the tools' "unknown"
     * spellings ({@code N/A}, {@code [N/A]}, {@code UNKNOWN}, {@code [NOT SUPPORTED]}, …, any case) become "".
     */
    public static String normaliseDriverVersion(String raw) {
        if (raw == null) {
            return "";
        }
        String v = raw.strip();
        return switch (v.toUpperCase(java.util.Locale.ROOT)) {
            case "N/A", "[N/A]", "UNKNOWN", "[UNKNOWN]", "[NOT SUPPORTED]", "[NOT AVAILABLE]" -> "";
            default -> v;
        };
    }

    /** The same device with another health verdict. */
    public Device withHealth(boolean isHealthy, String detail) {
        return new Device(vendor, id, index, name, memoryMib, driverVersion, isHealthy, detail, pciBusId);
    }
}
