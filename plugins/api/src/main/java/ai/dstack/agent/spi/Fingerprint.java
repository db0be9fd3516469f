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

    /**
     * Every way this answer breaks the contract, each prefixed with where (empty when none): devices
     * of another vendor, empty or repeated ids, repeated indices. The agent refuses such an answer.
     */
    public List<String> problems() {
        List<String> problems = new java.util.ArrayList<>();
        java.util.Set<String> ids = new java.util.HashSet<>();
        java.util.Set<Integer> indices = new java.util.HashSet<>();
        for (int i = 0; i < devices.size(); i++) {
            Device d = devices.get(i);
            String where = "devices[" + i + "]: ";
            if (!d.vendor().equals(vendor)) problems.add(where + "vendor " + d.vendor() + " is not " + vendor);
            if (d.id().isBlank()) problems.add(where + "empty id");
            else if (!ids.add(d.id())) problems.add(where + "id " + d.id() + " repeated");
            if (!indices.add(d.index())) problems.add(where + "index " + d.index() + " repeated");
        }
        return problems;
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
