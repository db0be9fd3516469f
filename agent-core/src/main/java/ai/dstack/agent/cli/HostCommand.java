package ai.dstack.agent.cli;

import ai.dstack.agent.config.ConfigException;
import ai.dstack.agent.config.ShimConfig;
import ai.dstack.agent.config.ShimFlags;
import ai.dstack.agent.host.HostInfo;
import ai.dstack.agent.pluginhost.DeviceInventory;
import ai.dstack.agent.pluginhost.DeviceInventory.VendorState;
import ai.dstack.agent.pluginhost.InventoryState;
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
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * {@code dstack-shim host [--json] [--plugins-dir DIR] [--plugins IDS] [--shim-home DIR]}: what the agent
 * sees on this host without starting the server: the plugins (id, version, state), every vendor's
 * devices with their health, the primary vendor, and the facts {@code host_info.json} would carry.
 * While a shim runs on that home, the devices are the ones it uses, from its state file, with its
 * last refresh's error beside them; otherwise this command fingerprints the host itself
 * (docs/shim-operations.md, "Devices survive a failing vendor tool").
 */
public final class HostCommand {
    /** Docker's default root dir, whose filesystem {@code disk_size} describes. */
    static final Path DOCKER_ROOT = Path.of("/var/lib/docker");

    private HostCommand() {
    }

    /** The report as JSON. */
    record Report(@JsonProperty("plugins_dir") String pluginsDir,
                  @JsonProperty("plugins") List<LoadedPlugin> plugins,
                  @JsonProperty("devices_from") Source devicesFrom,
                  @JsonProperty("primary_vendor") String primaryVendor,
                  @JsonProperty("accelerators") List<Vendor> accelerators,
                  @JsonProperty("host_info") HostInfo hostInfo) {
    }

    /**
     * Who found the devices shown: {@code running_shim} (its state file; {@code pid}, {@code refreshed_at})
     * or {@code this_command}; {@code note} says why not the running shim when a state file was there.
     */
    record Source(@JsonProperty("kind") String kind, @JsonProperty("state_file") String stateFile,
                  @JsonProperty("pid") Long pid, @JsonProperty("refreshed_at") String refreshedAt,
                  @JsonProperty("note") String note) {
        boolean runningShim() {
            return kind.equals("running_shim");
        }
    }

    /** A vendor; {@code fingerprintedAt}, {@code viaImage} and {@code lastFailure} only from a running shim. */
    record Vendor(@JsonProperty("vendor") String vendor, @JsonProperty("present") boolean present,
                  @JsonProperty("error") String error, @JsonProperty("devices") List<Device> devices,
                  @JsonProperty("fingerprinted_at") String fingerprintedAt, @JsonProperty("via_image") boolean viaImage,
                  @JsonProperty("last_failure") InventoryState.Failure lastFailure) {
    }

    /** Runs the command; 0 on success, 2 on a usage error (printed to {@code out}). */
    public static int run(List<String> args, Map<String, String> env, PrintStream out) {
        boolean json = false;
        PluginSettings settings;
        Path home;
        try {
            ShimConfig config = ShimFlags.parse(List.of(), env);
            settings = PluginSettings.of(config, env);
            home = config.home();
            for (int i = 0; i < args.size(); i++) {
                String a = args.get(i);
                switch (a) {
                    case "--json" -> json = true;
                    case "--plugins-dir", "--plugins", "--shim-home" -> {
                        if (i + 1 >= args.size()) {
                            throw new IllegalArgumentException(a + " needs a value");
                        }
                        String v = args.get(++i);
                        switch (a) {
                            case "--plugins" -> settings = settings.withSelected(v);
                            case "--plugins-dir" -> settings = settings.withPluginsDir(Path.of(v));
                            default -> home = Path.of(v);
                        }
                    }
                    default -> {
                        if (a.startsWith("--shim-home=")) {
                            home = Path.of(a.substring("--shim-home=".length()));
                        } else if (a.startsWith("--plugins-dir=")) {
                            settings = settings.withPluginsDir(Path.of(a.substring("--plugins-dir=".length())));
                        } else if (a.startsWith("--plugins=")) {
                            settings = settings.withSelected(a.substring("--plugins=".length()));
                        } else {
                            throw new IllegalArgumentException("unknown argument: " + a);
                        }
                    }
                }
            }
        } catch (ConfigException | IllegalArgumentException e) {
            out.println("dstack-shim host: " + e.getMessage());
            out.println("usage: dstack-shim host [--json] [--plugins-dir DIR] [--plugins ID,ID…] [--shim-home DIR]");
            return 2;
        }
        try (PluginHost plugins = PluginHost.load(settings)) {
            Path stateFile = home.toAbsolutePath().normalize().resolve(InventoryState.FILE_NAME);
            String note = null;
            Optional<InventoryState> state = Optional.empty();
            try {
                state = InventoryState.read(stateFile);
            } catch (IOException e) {
                note = "cannot read " + stateFile + " (" + e.getMessage().lines().findFirst().orElse("") + "): fingerprinted by this command";
            }
            if (state.isPresent() && !state.get().writerRunning()) {
                note = "shim pid " + state.get().pid() + " (" + stateFile + ") no longer runs: fingerprinted by this command";
                state = Optional.empty();
            }
            Report report = state.isPresent()
                    ? fromRunningShim(settings, plugins, state.get(), stateFile)
                    : fingerprintHere(settings, plugins, new Source("this_command", stateFile.toString(), null, null, note));
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

    /** The devices the shim running on this home uses, as its state file says; no vendor tool runs. */
    private static Report fromRunningShim(PluginSettings settings, PluginHost plugins, InventoryState state, Path stateFile)
            throws IOException {
        List<Vendor> vendors = new ArrayList<>();
        List<Device> primary = List.of();
        for (InventoryState.Vendor v : state.vendors()) {
            vendors.add(new Vendor(v.vendor(), v.present(), v.lastFailure() == null ? null : v.lastFailure().error(), v.devices(),
                    v.fingerprintedAt(), v.viaImage(), v.lastFailure()));
            if (v.vendor().equals(state.primaryVendor())) {
                primary = v.devices();
            }
        }
        Source source = new Source("running_shim", stateFile.toString(), state.pid(), state.refreshedAt(), null);
        return new Report(settings.pluginsDir().toString(), plugins.plugins(), source, state.primaryVendor(), vendors,
                HostInfo.collect(primary, DOCKER_ROOT));
    }

    /** Fingerprints and checks the host in this process, as a shim does at start. */
    private static Report fingerprintHere(PluginSettings settings, PluginHost plugins, Source source)
            throws ConfigException, IOException {
        LocalHost host = PluginRuntime.hostFor(plugins, settings);
        DeviceInventory inventory = new DeviceInventory(plugins.accelerators(), host);
        inventory.refresh();
        inventory.checkHealth();
        List<Vendor> vendors = new ArrayList<>();
        for (VendorState s : inventory.vendors()) {
            Fingerprint f = s.fingerprint();
            vendors.add(new Vendor(s.vendor(), f.present(), f.error(), f.devices(), null, false, null));
        }
        // What host_info.json would say; Docker's root dir is not asked for (no engine needed here).
        HostInfo hostInfo = HostInfo.collect(inventory.primaryDevices(), DOCKER_ROOT);
        return new Report(settings.pluginsDir().toString(), plugins.plugins(), source, inventory.primaryVendor(), vendors, hostInfo);
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
        Source from = r.devicesFrom();
        if (from.runningShim()) {
            out.println("Accelerators (of the running shim, pid " + from.pid() + ", as of " + from.refreshedAt()
                        + "; primary vendor: " + r.primaryVendor() + "):");
        } else {
            out.println("Accelerators (fingerprinted by this command; primary vendor: " + r.primaryVendor() + "):");
            if (from.note() != null) {
                out.println("  note: " + from.note());
            }
        }
        if (r.accelerators().isEmpty()) {
            out.println("  no accelerator plugin loaded");
        }
        for (Vendor v : r.accelerators()) {
            String state = !v.present() ? "not present" : v.devices().size() + " device(s)";
            out.println("  " + v.vendor() + ": " + state + (from.runningShim() ? shimNote(v, from) : v.error() == null ? "" : " (" + v.error() + ")"));
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

    /** Beside a running shim's devices: since when it uses them, and its last refresh's failure. */
    private static String shimNote(Vendor v, Source from) {
        if (v.devices().isEmpty() && v.lastFailure() == null) {
            return "";
        }
        String who = v.devices().isEmpty() ? "the running shim" : v.lastFailure() == null ? "used by the running shim" : "kept by the running shim";
        return " (" + who + ", pid " + from.pid()
               + (v.fingerprintedAt() == null ? "" : ", found at " + v.fingerprintedAt())
               + (v.viaImage() ? ", its tool runs as a container: not re-run while tasks hold GPUs" : "")
               + (v.lastFailure() == null ? "" : "; last refresh failed at " + v.lastFailure().at() + ": " + v.lastFailure().error())
               + ")";
    }
}
