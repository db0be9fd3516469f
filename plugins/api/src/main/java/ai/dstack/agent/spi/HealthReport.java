package ai.dstack.agent.spi;

import java.util.List;

/**
 * One health check of a vendor's devices: {@link AcceleratorPlugin#health}'s answer.
 *
 * @param incidents what was found, per device index; empty when every device passed
 * @param error     why the check (or one of its sources) could not run, null when it ran
 */
public record HealthReport(List<HealthIncident> incidents, String error) {
    public HealthReport {
        incidents = List.copyOf(incidents);
    }

    /** Every device passed (or the vendor has no health source). */
    public static HealthReport healthy() {
        return new HealthReport(List.of(), null);
    }

    /** The check ran and found these incidents. */
    public static HealthReport of(List<HealthIncident> incidents) {
        return new HealthReport(incidents, null);
    }
}
