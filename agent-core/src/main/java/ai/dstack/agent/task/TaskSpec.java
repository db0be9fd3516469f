package ai.dstack.agent.task;

import ai.dstack.agent.spi.VolumeSpec;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.List;

/**
 * What the server asked a task to run, validated, with defaults applied (docs/shim.md §2.10).
 *
 * @param id               server job id; 1–128 of {@code [A-Za-z0-9_.-]}, not {@code .} or {@code ..}
 * @param name             job name, a Docker container name prefix
 * @param imageName        image reference as given
 * @param registryUsername registry user, "" for anonymous
 * @param registryPassword registry password, "" for anonymous
 * @param containerUser    user the container runs as
 * @param privileged       whether the container is privileged (before the shim's own flag)
 * @param gpu              -1 every free GPU, 0 none, N exactly N
 * @param cpu              CPUs, 0 unlimited
 * @param memory           memory limit in bytes, 0 unlimited
 * @param shmSize          /dev/shm size in bytes, 0 the engine default
 * @param networkMode      {@code host} or {@code bridge}
 * @param volumes          network volumes to mount on the host
 * @param volumeMounts     where volumes appear in the container
 * @param instanceMounts   host paths bind-mounted into the container
 * @param gpuDevices       explicit device mappings, used instead of vendor logic when GPUs are allocated
 * @param hostSshUser      host user whose authorized_keys get {@code hostSshKeys}
 * @param hostSshKeys      public keys added to the host user for the task's life
 * @param containerSshKeys public keys the runner authorises
 */
public record TaskSpec(@JsonProperty("id") String id, @JsonProperty("name") String name,
                       @JsonProperty("image_name") String imageName,
                       @JsonProperty("registry_username") String registryUsername,
                       @JsonProperty("registry_password") String registryPassword,
                       @JsonProperty("container_user") String containerUser,
                       @JsonProperty("privileged") boolean privileged, @JsonProperty("gpu") int gpu,
                       @JsonProperty("cpu") double cpu, @JsonProperty("memory") long memory,
                       @JsonProperty("shm_size") long shmSize, @JsonProperty("network_mode") String networkMode,
                       @JsonProperty("volumes") List<VolumeSpec> volumes,
                       @JsonProperty("volume_mounts") List<VolumeMount> volumeMounts,
                       @JsonProperty("instance_mounts") List<InstanceMount> instanceMounts,
                       @JsonProperty("gpu_devices") List<GpuDevice> gpuDevices,
                       @JsonProperty("host_ssh_user") String hostSshUser,
                       @JsonProperty("host_ssh_keys") List<String> hostSshKeys,
                       @JsonProperty("container_ssh_keys") List<String> containerSshKeys) {
    public TaskSpec {
        volumes = List.copyOf(volumes);
        volumeMounts = List.copyOf(volumeMounts);
        instanceMounts = List.copyOf(instanceMounts);
        gpuDevices = List.copyOf(gpuDevices);
        hostSshKeys = List.copyOf(hostSshKeys);
        containerSshKeys = List.copyOf(containerSshKeys);
    }

    /** Whether the container uses the host's network. */
    public boolean hostNetwork() {
        return "host".equals(networkMode);
    }

    /**
     * A volume attached to the container.
     *
     * @param name volume name
     * @param path path inside the container
     */
    public record VolumeMount(@JsonProperty("name") String name, @JsonProperty("path") String path) {
    }

    /**
     * A host path bind-mounted into the container.
     *
     * @param instancePath host path, created 0777 when missing
     * @param path         path inside the container
     */
    public record InstanceMount(@JsonProperty("instance_path") String instancePath, @JsonProperty("path") String path) {
    }

    /**
     * A device node mapped as given.
     *
     * @param pathOnHost      host device path
     * @param pathInContainer path inside the container
     */
    public record GpuDevice(@JsonProperty("path_on_host") String pathOnHost,
                            @JsonProperty("path_in_container") String pathInContainer) {
    }
}
