package ai.dstack.agent.plugin;

import static org.assertj.core.api.Assertions.assertThat;

import ai.dstack.agent.spi.BindMount;
import ai.dstack.agent.spi.ContainerEdits;
import ai.dstack.agent.spi.ContainerView;
import ai.dstack.agent.spi.DeviceNode;
import ai.dstack.agent.spi.DeviceRequest;
import com.github.dockerjava.api.command.InspectContainerResponse;
import com.github.dockerjava.api.model.Capability;
import com.github.dockerjava.api.model.Device;
import com.github.dockerjava.api.model.HostConfig;
import com.github.dockerjava.api.model.Mount;
import com.github.dockerjava.api.model.MountType;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class DockerEditsTest {
    @Test
    void editsLandInTheCreateRequestBesideWhatWasThere() {
        HostConfig config = HostConfig.newHostConfig().withDevices(Device.parse("/dev/infiniband:/dev/infiniband:rwm"))
                .withCapAdd(Capability.IPC_LOCK);
        ContainerEdits edits = ContainerEdits.builder()
                .deviceNode(DeviceNode.same("/dev/kfd"))
                .deviceRequest(new DeviceRequest("", List.of("GPU-1"), List.of("gpu", "utility")))
                .runtime("habana").capAdd("SYS_PTRACE").ipcMode("host").securityOpt("seccomp=unconfined")
                .mount(new BindMount("/dev/hugepages-1G", "/dev/hugepages-1G", false))
                .env("HABANA_VISIBLE_DEVICES", "0,1")
                .build();

        DockerEdits.apply(config, edits);

        assertThat(config.getDevices()).extracting(Device::getPathOnHost).containsExactly("/dev/infiniband", "/dev/kfd");
        assertThat(config.getDeviceRequests()).singleElement().satisfies(r -> {
            assertThat(r.getDeviceIds()).containsExactly("GPU-1");
            assertThat(r.getCapabilities()).containsExactly(List.of("gpu", "utility"));
        });
        assertThat(config.getRuntime()).isEqualTo("habana");
        assertThat(config.getCapAdd()).containsExactly(Capability.IPC_LOCK, Capability.SYS_PTRACE);
        assertThat(config.getIpcMode()).isEqualTo("host");
        assertThat(config.getSecurityOpts()).containsExactly("seccomp=unconfined");
        assertThat(config.getMounts()).containsExactly(new Mount().withType(MountType.BIND).withSource("/dev/hugepages-1G")
                .withTarget("/dev/hugepages-1G").withReadOnly(false));
        assertThat(DockerEdits.env(edits)).containsExactly("HABANA_VISIBLE_DEVICES=0,1");
    }

    @Test
    void noEditsChangeNothing() {
        HostConfig config = HostConfig.newHostConfig();
        DockerEdits.apply(config, ContainerEdits.NONE);
        assertThat(config.getDevices()).isNull();
        assertThat(config.getRuntime()).isNull();
    }

    @Test
    void anInspectedContainerBecomesTheViewPluginsRecoverFrom() throws Exception {
        InspectContainerResponse inspected = new ObjectMapper().readValue("""
                {"Config": {"Env": ["PATH=/bin", "HABANA_VISIBLE_DEVICES=2,3", "EMPTY="]},
                 "HostConfig": {"Runtime": "habana",
                   "Devices": [{"PathOnHost": "/dev/dri/renderD130", "PathInContainer": "/dev/dri/renderD130", "CgroupPermissions": "rwm"}],
                   "DeviceRequests": [{"Driver": "", "Count": 0, "DeviceIDs": ["GPU-a", "GPU-b"], "Capabilities": [["gpu", "utility"]]}]}}
                """, InspectContainerResponse.class);
        ContainerView view = DockerEdits.view(inspected);
        assertThat(view.env()).containsEntry("HABANA_VISIBLE_DEVICES", "2,3").containsEntry("EMPTY", "");
        assertThat(view.deviceNodes()).containsExactly(DeviceNode.same("/dev/dri/renderD130"));
        assertThat(view.deviceRequests()).containsExactly(new DeviceRequest("", List.of("GPU-a", "GPU-b"), List.of("gpu", "utility")));
        assertThat(view.runtime()).isEqualTo("habana");
        assertThat(DockerEdits.view(new ObjectMapper().readValue("{}", InspectContainerResponse.class)))
                .isEqualTo(new ContainerView(Map.of(), List.of(), List.of(), ""));
    }
}
