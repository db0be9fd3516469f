package ai.dstack.agent.pluginhost;

import static org.assertj.core.api.Assertions.assertThat;

import ai.dstack.agent.spi.HealthIncident;
import ai.dstack.agent.spi.HealthIncident.Severity;
import ai.dstack.agent.testing.FakeHost;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class InstanceHealthTest {
    @TempDir
    Path root;

    private InstanceHealth.Response check(StubAccelerator... plugins) {
        DeviceInventory inventory = new DeviceInventory(List.of(plugins), new FakeHost(root));
        inventory.refresh();
        return new InstanceHealth(inventory).check();
    }

    @Test
    void allPassIsOverallZeroWithoutIncidents() throws Exception {
        String json = new ObjectMapper().writeValueAsString(check(new StubAccelerator("nvidia", 0, 2)));
        assertThat(json).isEqualTo("{\"dcgm\":{\"overall_health\":0,\"incidents\":[]}}");
    }

    @Test
    void oneIncidentPerUnhealthyDeviceWithItsWorstFinding() throws Exception {
        InstanceHealth.Response r = check(new StubAccelerator("nvidia", 0, 4)
                .incident(new HealthIncident(2, Severity.WARN, 0x1, 0, "PCIe replays"))
                .incident(new HealthIncident(2, Severity.FAIL, 0x10, 7, "double bit ECC"))
                .incident(new HealthIncident(3, Severity.WARN, 0x80, 0, "thermal slowdown")));
        assertThat(r.dcgm().overallHealth()).isEqualTo(20);
        assertThat(r.dcgm().incidents()).containsExactly(
                new InstanceHealth.Incident(0x10, 20, "PCIe replays; double bit ECC", 7, 1, 2),
                new InstanceHealth.Incident(0x80, 10, "thermal slowdown", 0, 1, 3));
        assertThat(new ObjectMapper().writeValueAsString(r)).contains("\"error_message\":\"PCIe replays; double bit ECC\"",
                "\"entity_group_id\":1", "\"entity_id\":2", "\"error_code\":7", "\"system\":16", "\"health\":20");
    }

    @Test
    void warningsOnlyAreOverallTen() {
        assertThat(check(new StubAccelerator("nvidia", 0, 1).incident(new HealthIncident(0, Severity.WARN, 0, 0, "w"))).dcgm().overallHealth()).isEqualTo(10);
    }

    @Test
    void aHostWithoutAcceleratorsReportsNullEvenWhereNullsAreLeftOut() throws Exception {
        ObjectMapper leavingOutNulls = new ObjectMapper().setSerializationInclusion(com.fasterxml.jackson.annotation.JsonInclude.Include.NON_NULL);
        assertThat(leavingOutNulls.writeValueAsString(check(new StubAccelerator("nvidia", 0, 0)))).isEqualTo("{\"dcgm\":null}");
    }
}
