package ai.dstack.agent.plugin.amd;

import ai.dstack.agent.spi.AcceleratorPlugin;
import ai.dstack.agent.spi.ContainerEdits;
import ai.dstack.agent.spi.ContainerView;
import ai.dstack.agent.spi.Device;
import ai.dstack.agent.spi.DeviceNode;
import ai.dstack.agent.spi.Fingerprint;
import ai.dstack.agent.spi.HostContext;
import ai.dstack.agent.spi.ToolResult;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.pf4j.Extension;

/**
 * AMD GPUs (docs/shim.md §5.3, §4.7): found with {@code amd-smi static --json} (on the host, else from the
 * {@code amd-smi} image), addressed by their render node; containers get {@code /dev/kfd} and the
 * render nodes, host IPC, {@code SYS_PTRACE} and no seccomp filter.
 */
@Extension
public final class AmdGpus implements AcceleratorPlugin {
    static final String VENDOR = "amd";
    static final List<String> DOCKER_ARGS = List.of("--device", "/dev/kfd", "--device", "/dev/dri");
    static final List<String> ARGS = List.of("static", "--json", "--asic", "--vram", "--bus", "--driver");
    static final List<String> ARGS_WITHOUT_DRIVER = List.of("static", "--json", "--asic", "--vram", "--bus");
    private static final String RENDER_PREFIX = "/dev/dri/renderD";

    /** Made at the first amd-smi output to parse: an ObjectMapper loads ~400 classes of the plugin's own Jackson,
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
        return 1;
    }

    @Override
    public Fingerprint fingerprint(HostContext host) {
        if (!host.exists("/dev/kfd")) {
            return Fingerprint.absent(VENDOR);
        }
        ToolResult result = host.runInstalledOrImage("amd-smi", DOCKER_ARGS, ARGS);
        if (result.ran() && result.exitCode() != 0) {
            // Older amd-smi lacks --driver; docker's own failures (exit 125) are retried the same way.
            result = host.runInstalledOrImage("amd-smi", DOCKER_ARGS, ARGS_WITHOUT_DRIVER);
        }
        if (!result.ok()) {
            return Fingerprint.failed(VENDOR, result.describe("amd-smi"));
        }
        JsonNode gpus;
        try {
            JsonNode root = Json.MAPPER.readTree(result.stdout());
            gpus = root != null && root.isObject() ? field(root, "gpu_data") : root;
        } catch (Exception e) {
            return Fingerprint.failed(VENDOR, "amd-smi: unparsable JSON: " + e.getMessage());
        }
        if (gpus == null || !gpus.isArray()) {
            return Fingerprint.failed(VENDOR, "amd-smi: expected a JSON array of GPUs or {\"gpu_data\": [...]}");
        }
        List<Device> devices = new ArrayList<>();
        List<String> skipped = new ArrayList<>();
        for (JsonNode gpu : gpus) {
            String bdf = text(gpu, "bus", "bdf");
            String renderNode = bdf.isEmpty() ? null : host.readLink("/dev/dri/by-path/pci-" + bdf + "-render");
            if (renderNode == null) {
                skipped.add(bdf.isEmpty() ? "a GPU without bus.bdf" : bdf);
                continue;
            }
            JsonNode vram = path(gpu, "vram", "size", "value");
            long vramMib = vram != null && vram.isIntegralNumber() ? vram.asLong() : 0;
            String driver = text(gpu, "driver", "version");
            if (driver.isEmpty()) {
                driver = text(gpu, "driver", "driver_version");
            }
            devices.add(new Device(VENDOR, renderNode, devices.size(), text(gpu, "asic", "market_name"), vramMib,
                    Device.normaliseDriverVersion(driver), true, "", bdf));
        }
        String error = skipped.isEmpty() ? null : "no render node under /dev/dri/by-path for " + String.join(", ", skipped);
        return new Fingerprint(VENDOR, true, devices, error);
    }

    @Override
    public ContainerEdits reserve(List<Device> devices, HostContext host) {
        ContainerEdits.Builder edits = ContainerEdits.builder().deviceNode(DeviceNode.same("/dev/kfd"));
        devices.forEach(d -> edits.deviceNode(DeviceNode.same(d.id())));
        return edits.ipcMode("host").capAdd("SYS_PTRACE").securityOpt("seccomp=unconfined").build();
    }

    @Override
    public List<String> recover(ContainerView container) {
        return container.deviceNodes().stream().map(DeviceNode::hostPath).filter(p -> p.startsWith(RENDER_PREFIX)).toList();
    }

    /** amd-smi's keys are matched case-insensitively (as Go's decoder did). */
    private static JsonNode field(JsonNode node, String name) {
        if (node == null || !node.isObject()) {
            return null;
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (e.getKey().equalsIgnoreCase(name)) {
                return e.getValue();
            }
        }
        return null;
    }

    private static JsonNode path(JsonNode node, String... names) {
        JsonNode current = node;
        for (String name : names) {
            current = field(current, name);
        }
        return current;
    }

    private static String text(JsonNode node, String... names) {
        JsonNode value = path(node, names);
        return value != null && value.isTextual() ? value.asText().strip() : "";
    }
}
