package ai.dstack.agent.plugin.tenstorrent;

import ai.dstack.agent.spi.AcceleratorPlugin;
import ai.dstack.agent.spi.BindMount;
import ai.dstack.agent.spi.ContainerEdits;
import ai.dstack.agent.spi.ContainerView;
import ai.dstack.agent.spi.Device;
import ai.dstack.agent.spi.DeviceNode;
import ai.dstack.agent.spi.Fingerprint;
import ai.dstack.agent.spi.HostContext;
import ai.dstack.agent.spi.ToolResult;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import org.pf4j.Extension;

/**
 * Tenstorrent boards (docs/shim.md §5.5, §4.7): found with {@code tt-smi -s} (on the host, else from the
 * {@code tt-smi} image), addressed by index; containers get {@code /dev/tenstorrent/<index>} and the
 * 1 GiB hugepages mount. This folder is the whole vendor: nothing in the agent core knows it.
 */
@Extension
public final class TenstorrentBoards implements AcceleratorPlugin {
    static final String VENDOR = "tenstorrent";
    static final List<String> DOCKER_ARGS = List.of("--device", "/dev/tenstorrent");
    static final String DEVICE_PREFIX = "/dev/tenstorrent/";
    static final String HUGEPAGES = "/dev/hugepages-1G";

    /** Made at the first tt-smi output to parse: an ObjectMapper loads ~400 classes of the plugin's own Jackson,
     *  which a host without this vendor never needs (agent-core/README.md "JVM and memory"). */
    private static final class Json {
        static final ObjectMapper MAPPER = new ObjectMapper();
    }

    @Override
    public String vendor() {
        return VENDOR;
    }

    @Override
    public int priority() {
        return 3;
    }

    @Override
    public Fingerprint fingerprint(HostContext host) {
        if (!host.exists("/dev/tenstorrent")) {
            return Fingerprint.absent(VENDOR);
        }
        // One run, as Go does: unlike AMD's (which drops a flag older tools lack), an immediate rerun of
        // the same command has nothing to gain; the core fingerprints again every interval.
        ToolResult result = host.runInstalledOrImage("tt-smi", DOCKER_ARGS, List.of("-s"));
        if (!result.ok()) {
            return Fingerprint.failed(VENDOR, result.describe("tt-smi"));
        }
        List<Chip> chips = new ArrayList<>();
        try {
            JsonNode info = Json.MAPPER.readTree(result.stdout()).path("device_info");
            if (!info.isArray()) {
                return Fingerprint.failed(VENDOR, "tt-smi: no device_info array in its output");
            }
            for (JsonNode d : info) {
                JsonNode board = d.path("board_info");
                chips.add(Chip.of(board.path("board_type").asText(""), board.path("board_id").asText(""), board.path("bus_id").asText("")));
            }
        } catch (IOException e) {
            return Fingerprint.failed(VENDOR, "tt-smi: unparsable JSON: " + e.getMessage());
        }
        return Fingerprint.of(VENDOR, Boards.group(chips, driverVersion(host)));
    }

    private static String driverVersion(HostContext host) {
        try {
            return Device.normaliseDriverVersion(Files.readString(host.hostPath("/sys/module/tenstorrent/version")));
        } catch (IOException e) {
            return "";
        }
    }

    @Override
    public ContainerEdits reserve(List<Device> devices, HostContext host) {
        ContainerEdits.Builder edits = ContainerEdits.builder();
        devices.forEach(d -> edits.deviceNode(DeviceNode.same(DEVICE_PREFIX + d.id())));
        if (host.exists(HUGEPAGES)) {
            edits.mount(new BindMount(HUGEPAGES, HUGEPAGES, false));
        }
        return edits.build();
    }

    @Override
    public List<String> recover(ContainerView container) {
        return container.deviceNodes().stream().map(DeviceNode::hostPath)
                .filter(p -> p.startsWith(DEVICE_PREFIX))
                .map(p -> p.substring(DEVICE_PREFIX.length()))
                .filter(s -> !s.isEmpty() && s.chars().allMatch(Character::isDigit))
                .toList();
    }
}
