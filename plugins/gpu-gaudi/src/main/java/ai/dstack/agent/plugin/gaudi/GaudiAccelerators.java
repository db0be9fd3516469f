package ai.dstack.agent.plugin.gaudi;

import ai.dstack.agent.spi.AcceleratorPlugin;
import ai.dstack.agent.spi.ContainerEdits;
import ai.dstack.agent.spi.ContainerView;
import ai.dstack.agent.spi.Device;
import ai.dstack.agent.spi.Fingerprint;
import ai.dstack.agent.spi.HostContext;
import ai.dstack.agent.spi.ToolResult;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.pf4j.Extension;

/**
 * Intel Gaudi accelerators (docs/shim.md §5.4, §4.7): found with {@code hl-smi}, addressed by index, given to
 * containers through the {@code habana} runtime and {@code HABANA_VISIBLE_DEVICES}.
 */
@Extension
public final class GaudiAccelerators implements AcceleratorPlugin {
    static final String VENDOR = "intel";
    static final String VISIBLE_DEVICES = "HABANA_VISIBLE_DEVICES";
    static final List<String> QUERY = List.of("hl-smi", "--query-aip=name,memory.total,index", "--format=csv,noheader,nounits");

    @Override
    public String vendor() {
        return VENDOR;
    }

    @Override
    public int priority() {
        return 2;
    }

    @Override
    public Fingerprint fingerprint(HostContext host) {
        if (!host.exists("/dev/accel")) {
            return Fingerprint.absent(VENDOR);
        }
        ToolResult result = host.run(QUERY);
        if (!result.ok()) {
            return Fingerprint.failed(VENDOR, result.describe("hl-smi"));
        }
        ToolResult.CsvRecords csv = result.csv(3);
        List<Device> devices = new ArrayList<>();
        String error = csv.error() == null ? null : "hl-smi: " + csv.error();
        for (List<String> f : csv.records()) {
            int index;
            try {
                index = Integer.parseInt(f.get(2));
            } catch (NumberFormatException e) {
                error = "hl-smi: index is not a number: " + f.get(2);
                break;
            }
            long mib;
            try {
                mib = Long.parseLong(f.get(1));
            } catch (NumberFormatException e) {
                mib = 0;
            }
            devices.add(new Device(VENDOR, String.valueOf(index), index, f.get(0), mib, "", true, "", ""));
        }
        return new Fingerprint(VENDOR, true, devices, error);
    }

    @Override
    public ContainerEdits reserve(List<Device> devices, HostContext host) {
        String ids = String.join(",", devices.stream().map(Device::id).toList());
        return ContainerEdits.builder().runtime("habana").ipcMode("host").capAdd("SYS_NICE").env(VISIBLE_DEVICES, ids).build();
    }

    @Override
    public List<String> recover(ContainerView container) {
        String ids = container.env().getOrDefault(VISIBLE_DEVICES, "");
        return Arrays.stream(ids.split(",")).map(String::strip).filter(s -> !s.isEmpty()).toList();
    }
}
