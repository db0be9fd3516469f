package ai.dstack.agent.cli;

import ai.dstack.agent.host.HostInfo;
import ai.dstack.agent.pluginhost.DeviceInventory;
import ai.dstack.agent.pluginhost.DeviceInventory.VendorState;
import ai.dstack.agent.pluginhost.LocalHost;
import ai.dstack.agent.pluginhost.PluginHost;
import ai.dstack.agent.pluginhost.PluginHost.LoadedPlugin;
import ai.dstack.agent.pluginhost.PluginRuntime;
import ai.dstack.agent.pluginhost.PluginSettings;
import ai.dstack.agent.spi.Device;
import ai.dstack.agent.spi.Fingerprint;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * {@code dstack-shim host [--json] [--plugins-dir DIR] [--plugins IDS]}: what the agent sees on this
 * host without starting the server: the plugins (id, version, state), every vendor's devices with
 * their health, the primary vendor, and the facts {@code host_info.json} would carry.
 */
public final class HostCommand {
    /** Docker's default root dir, whose filesystem {@code disk_size} describes. */
    static final Path DOCKER_ROOT = Path.of("/var/lib/docker");

    private HostCommand() {
    }

    /** The report as JSON. */
    record Report(@JsonProperty("plugins_dir") String pluginsDir,
                  @JsonProperty("plugins") List<LoadedPlugin> plugins,
                  @JsonProperty("primary_vendor") String primaryVendor,
                  @JsonProperty("accelerators") List<Vendor> accelerators,
                  @JsonProperty("host_info") HostInfo hostInfo) {
    }

    record Vendor(@JsonProperty("vendor") String vendor, @JsonProperty("present") boolean present,
                  @JsonProperty("error") String error, @JsonProperty("devices") List<Device> devices) {
    }

    /** Runs the command; 0 on success, 2 on a usage error (printed to {@code out}). */
    public static int run(List<String> args, Map<String, String> env, PrintStream out) {
        boolean json = false;
        PluginSettings settings;
        try {
            settings = PluginSettings.fromEnv(env);
            for (int i = 0; i < args.size(); i++) {
                String a = args.get(i);
                switch (a) {
                    case "--json" -> json = true;
                    case "--plugins-dir", "--plugins" -> {
                        if (i + 1 >= args.size()) {
                            throw new IllegalArgumentException(a + " needs a value");
                        }
                        String v = args.get(++i);
                        settings = a.equals("--plugins") ? settings.withSelected(v) : settings.withPluginsDir(Path.of(v));
                    }
                    default -> {
                        if (a.startsWith("--plugins-dir=")) {
                            settings = settings.withPluginsDir(Path.of(a.substring("--plugins-dir=".length())));
                        } else if (a.startsWith("--plugins=")) {
                            settings = settings.withSelected(a.substring("--plugins=".length()));
                        } else {
                            throw new IllegalArgumentException("unknown argument: " + a);
                        }
                    }
                }
            }
        } catch (IllegalArgumentException e) {
            out.println("dstack-shim host: " + e.getMessage());
            out.println("usage: dstack-shim host [--json] [--plugins-dir DIR] [--plugins ID,ID…]");
            return 2;
        }
        try (PluginHost plugins = PluginHost.load(settings)) {
            LocalHost host = PluginRuntime.hostFor(plugins, settings);
            DeviceInventory inventory = new DeviceInventory(plugins.accelerators(), host);
            inventory.refresh();
            List<Vendor> vendors = new ArrayList<>();
            for (VendorState s : inventory.vendors()) {
                Fingerprint f = s.fingerprint();
                vendors.add(new Vendor(s.vendor(), f.present(), f.error(), f.devices()));
            }
            // What host_info.json would say; Docker's root dir is not asked for (no engine needed here).
            HostInfo hostInfo = HostInfo.collect(inventory.primaryDevices(), DOCKER_ROOT);
            Report report = new Report(settings.pluginsDir().toString(), plugins.plugins(), inventory.primaryVendor(), vendors, hostInfo);
            if (json) {
                // Devices and host facts are plain records: name their fields in snake_case like the API does.
                ObjectMapper mapper = new ObjectMapper().setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE);
                out.println(mapper.writerWithDefaultPrettyPrinter().writeValueAsString(report));
            } else {
                printText(report, out);
            }
            return 0;
        } catch (Exception e) {
            out.println("dstack-shim host: " + e.getMessage());
            return 1;
        }
    }

    private static void printText(Report r, PrintStream out) {
        out.println("Plugins (" + r.pluginsDir() + "):");
        if (r.plugins().isEmpty()) {
            out.println("  none");
        }
        for (LoadedPlugin p : r.plugins()) {
            out.printf("  %-18s %-16s %s%s%n", p.id(), p.version().isEmpty() ? "-" : p.version(), p.state(),
                    p.problem().isEmpty() ? "" : ": " + p.problem());
        }
        out.println("Accelerators (primary vendor: " + r.primaryVendor() + "):");
        if (r.accelerators().isEmpty()) {
            out.println("  no accelerator plugin loaded");
        }
        for (Vendor v : r.accelerators()) {
            String state = !v.present() ? "not present" : v.devices().size() + " device(s)";
            out.println("  " + v.vendor() + ": " + state + (v.error() == null ? "" : " (" + v.error() + ")"));
            for (Device d : v.devices()) {
                out.printf("    [%d] %s, %d MiB, id %s%s%s, %s%n", d.index(), d.name(), d.memoryMib(), d.id(),
                        d.pciBusId().isEmpty() ? "" : ", pci " + d.pciBusId(),
                        d.driverVersion().isEmpty() ? "" : ", driver " + d.driverVersion(),
                        d.healthy() ? (d.healthDetail().isEmpty() ? "healthy" : "warning: " + d.healthDetail()) : "unhealthy: " + d.healthDetail());
            }
        }
        HostInfo h = r.hostInfo();
        out.println("Host (as host_info.json describes it):");
        out.println("  gpu_vendor " + h.gpuVendor() + ", gpu_count " + h.gpuCount() + ", gpu_name \"" + h.gpuName() + "\", gpu_memory " + h.gpuMemory() + " MiB");
        out.println("  cpus " + h.cpus() + ", memory " + h.memory() / (1024 * 1024) + " MiB, disk available " + h.diskSize() / (1024 * 1024) + " MiB");
        out.println("  addresses " + String.join(" ", h.addresses()));
    }
}
