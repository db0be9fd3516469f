package ai.dstack.agent.spi;

import java.util.List;

/**
 * What a vendor plugin found on the host.
 *
 * @param vendor  vendor key of the plugin that answered
 * @param present whether the vendor's hardware is present at all (device files exist)
 * @param devices devices in enumeration order; empty when none or when the tool failed
 * @param error   why enumeration failed (tool missing, timed out, unparsable), null when it did not
 */
public record Fingerprint(String vendor, boolean present, List<Device> devices, String error) {
    public Fingerprint {
        devices = List.copyOf(devices);
    }

    /** The vendor's hardware is not on this host. */
    public static Fingerprint absent(String vendor) {
        return new Fingerprint(vendor, false, List.of(), null);
    }

    /** The hardware is there but the tool could not enumerate it. */
    public static Fingerprint failed(String vendor, String error) {
        return new Fingerprint(vendor, true, List.of(), error);
    }

    /** Enumeration succeeded. */
    public static Fingerprint of(String vendor, List<Device> devices) {
        return new Fingerprint(vendor, true, devices, null);
    }
}
