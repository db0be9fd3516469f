package ai.dstack.agent.host;

import ai.dstack.agent.files.AtomicFiles;
import ai.dstack.agent.json.StrictJson;
import ai.dstack.agent.spi.Device;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.io.IOException;
import java.net.Inet6Address;
import java.net.InterfaceAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * The host facts SSH fleets read from {@code <home>/host_info.json} (docs/shim.md §1.5).
 *
 * @param gpuVendor vendor key, {@code none} without GPUs
 * @param gpuName   first GPU's name, "" without GPUs
 * @param gpuMemory first GPU's memory in MiB, 0 without GPUs
 * @param gpuCount  number of GPUs
 * @param addresses every non-loopback interface address in CIDR form; never null
 * @param diskSize  bytes available on the filesystem of Docker's root dir
 * @param cpus      logical CPUs usable by the process
 * @param memory    total RAM in bytes
 */
public record HostInfo(@JsonProperty("gpu_vendor") String gpuVendor, @JsonProperty("gpu_name") String gpuName,
                       @JsonProperty("gpu_memory") long gpuMemory, @JsonProperty("gpu_count") int gpuCount,
                       @JsonProperty("addresses") List<String> addresses, @JsonProperty("disk_size") long diskSize,
                       @JsonProperty("cpus") int cpus, @JsonProperty("memory") long memory) {
    public HostInfo {
        addresses = addresses == null ? List.of() : List.copyOf(addresses);
    }

    /** Collects the facts of this host, whose primary vendor has these {@code devices}. */
    public static HostInfo collect(List<Device> devices, Path dockerRootDir) throws IOException {
        Device first = devices.isEmpty() ? null : devices.getFirst();
        Path probe = Files.exists(dockerRootDir) ? dockerRootDir : Path.of("/");
        long available = Files.getFileStore(probe).getUsableSpace();
        return new HostInfo(first == null ? "none" : first.vendor(), first == null ? "" : first.name(),
                first == null ? 0 : first.memoryMib(), devices.size(), interfaceAddresses(), available,
                Runtime.getRuntime().availableProcessors(), memTotal());
    }

    /** Writes {@code file} once, atomically (the server fails on a half-written file); an existing file is kept. */
    public static boolean writeIfAbsent(Path file, HostInfo info) throws IOException {
        if (Files.exists(file)) {
            return false;
        }
        AtomicFiles.write(file, StrictJson.mapper().writeValueAsBytes(info), "rw-r--r--");
        return true;
    }

    static List<String> interfaceAddresses() {
        List<String> out = new ArrayList<>();
        try {
            for (NetworkInterface nif : Collections.list(NetworkInterface.getNetworkInterfaces())) {
                for (InterfaceAddress a : nif.getInterfaceAddresses()) {
                    if (a.getAddress().isLoopbackAddress()) {
                        continue;
                    }
                    String host = a.getAddress().getHostAddress();
                    if (a.getAddress() instanceof Inet6Address) {
                        host = host.replaceFirst("%.*$", "");
                    }
                    out.add(host + "/" + a.getNetworkPrefixLength());
                }
            }
        } catch (SocketException e) {
            // no interfaces readable: an empty list, never null
        }
        return out;
    }

    private static long memTotal() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/meminfo"), StandardCharsets.UTF_8)) {
            if (line.startsWith("MemTotal:")) {
                return Long.parseLong(line.replaceAll("\\D+", "")) * 1024;
            }
        }
        return 0;
    }
}
