package ai.dstack.agent.api;

import ai.dstack.agent.spi.VolumeSpec;
import ai.dstack.agent.task.TaskSpec;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.List;
import java.util.regex.Pattern;

/** {@code POST /api/tasks} body as the server sends it (docs/shim.md §2.10); absent or null fields take defaults. */
record TaskSubmitRequest(@JsonProperty("id") String id, @JsonProperty("name") String name,
                         @JsonProperty("image_name") String imageName,
                         @JsonProperty("registry_username") String registryUsername,
                         @JsonProperty("registry_password") String registryPassword,
                         @JsonProperty("container_user") String containerUser,
                         @JsonProperty("privileged") Boolean privileged, @JsonProperty("gpu") Integer gpu,
                         @JsonProperty("cpu") Double cpu, @JsonProperty("memory") Long memory,
                         @JsonProperty("shm_size") Long shmSize, @JsonProperty("network_mode") String networkMode,
                         @JsonProperty("volumes") List<VolumeInfo> volumes,
                         @JsonProperty("volume_mounts") List<TaskSpec.VolumeMount> volumeMounts,
                         @JsonProperty("instance_mounts") List<TaskSpec.InstanceMount> instanceMounts,
                         @JsonProperty("gpu_devices") List<TaskSpec.GpuDevice> gpuDevices,
                         @JsonProperty("host_ssh_user") String hostSshUser,
                         @JsonProperty("host_ssh_keys") List<String> hostSshKeys,
                         @JsonProperty("container_ssh_keys") List<String> containerSshKeys) {
    private static final Pattern ID = Pattern.compile("[A-Za-z0-9_.-]{1,128}");
    private static final Pattern NAME = Pattern.compile("[a-zA-Z0-9][a-zA-Z0-9_.-]*");

    /**
     * A network volume (docs/shim.md §2.10).
     *
     * @param backend    {@code aws} or {@code gcp}
     * @param name       volume name
     * @param volumeId   cloud volume id
     * @param initFs     whether a blank device may be formatted
     * @param deviceName attachment device name, may be null
     */
    record VolumeInfo(@JsonProperty("backend") String backend, @JsonProperty("name") String name,
                      @JsonProperty("volume_id") String volumeId, @JsonProperty("init_fs") Boolean initFs,
                      @JsonProperty("device_name") String deviceName) {
    }

    /** Checks the request and applies defaults; every problem is a 400 and nothing is created. */
    TaskSpec toSpec() throws ApiException {
        require(id, "empty id");
        require(name, "empty name");
        require(imageName, "empty image_name");
        if (!ID.matcher(id).matches() || id.equals(".") || id.equals("..")) {
            throw ApiException.badRequest("invalid id: must be 1-128 characters of [A-Za-z0-9_.-] and not . or ..");
        }
        if (!NAME.matcher(name).matches()) {
            throw ApiException.badRequest("invalid name: must match [a-zA-Z0-9][a-zA-Z0-9_.-]*");
        }
        int gpuCount = gpu == null ? 0 : gpu;
        if (gpuCount < -1) {
            throw ApiException.badRequest("invalid gpu: count must be either positive or -1, got " + gpuCount);
        }
        double cpus = nonNegative("cpu", cpu == null ? 0 : cpu);
        if (!Double.isFinite(cpus) || cpus * 1e9 > Long.MAX_VALUE) {
            // 1e309 parses as infinity; Go refuses it as out of range for a float64, and Docker takes nano-CPUs in an int64.
            throw JsonBody.invalidValue("cpu", null);
        }
        long mem = (long) nonNegative("memory", memory == null ? 0 : memory);
        long shm = (long) nonNegative("shm_size", shmSize == null ? 0 : shmSize);
        String network = networkMode == null || networkMode.isEmpty() ? "host" : networkMode;
        if (!network.equals("host") && !network.equals("bridge")) {
            throw ApiException.badRequest("invalid network_mode: " + network + " (host or bridge)");
        }
        List<VolumeSpec> vols = list("volumes", volumes).stream()
                .map(v -> new VolumeSpec(str(v.backend()), str(v.name()), str(v.volumeId()),
                        v.initFs() != null && v.initFs(), v.deviceName()))
                .toList();
        for (VolumeSpec v : vols) {
            volumeName(v.name());
        }
        for (TaskSpec.VolumeMount m : list("volume_mounts", volumeMounts)) {
            volumeName(m.name());
            require(m.path(), "empty volume_mounts path");
        }
        for (TaskSpec.InstanceMount m : list("instance_mounts", instanceMounts)) {
            require(m.instancePath(), "empty instance_mounts instance_path");
            require(m.path(), "empty instance_mounts path");
        }
        for (TaskSpec.GpuDevice d : list("gpu_devices", gpuDevices)) {
            require(d.pathOnHost(), "empty gpu_devices path_on_host");
            require(d.pathInContainer(), "empty gpu_devices path_in_container");
        }
        return new TaskSpec(id, name, imageName, str(registryUsername), str(registryPassword),
                containerUser == null || containerUser.isEmpty() ? "root" : containerUser,
                privileged != null && privileged, gpuCount, cpus, mem, shm, network, vols, list("volume_mounts", volumeMounts),
                list("instance_mounts", instanceMounts), list("gpu_devices", gpuDevices), str(hostSshUser),
                list("host_ssh_keys", hostSshKeys), list("container_ssh_keys", containerSshKeys));
    }

    private static void require(String value, String message) throws ApiException {
        if (value == null || value.isEmpty()) {
            throw ApiException.badRequest(message);
        }
    }

    private static void volumeName(String volume) throws ApiException {
        require(volume, "empty volume name");
        // The name becomes a directory name on the host: no separators, dot names or control characters (NUL).
        if (volume.contains("/") || volume.equals(".") || volume.equals("..") || volume.chars().anyMatch(c -> c < 0x20 || c == 0x7f)) {
            throw ApiException.badRequest("invalid volume name: " + volume);
        }
    }

    private static double nonNegative(String field, double value) throws ApiException {
        if (value < 0) {
            throw ApiException.badRequest("invalid " + field + ": must not be negative, got " + value);
        }
        return value;
    }

    private static <T> List<T> list(String field, List<T> items) throws ApiException {
        if (items == null) {
            return List.of();
        }
        if (items.contains(null)) {
            throw ApiException.badRequest("Request body contains an invalid value for the \"" + field + "\" field");
        }
        return items;
    }

    private static String str(String s) {
        return s == null ? "" : s;
    }
}
