package ai.dstack.agent.docker;

import ai.dstack.agent.spi.ContainerView;
import java.util.List;
import java.util.Map;

/**
 * What the engine says about one container.
 *
 * @param id         engine id
 * @param name       name without the leading slash
 * @param state      engine state: created, running, paused, restarting, exited, dead, removing
 * @param exitCode   last exit code (meaningful once exited)
 * @param startedAt  when it last started, as the engine writes it
 * @param labels     its labels
 * @param runnerDir  host source of the mount at /tmp/runner, "" when none
 * @param ports      published TCP ports on non-IPv6 host addresses
 * @param runnerRuntime host source of the mount at /opt/dstack-runner, "" when none
 * @param view       env, devices and runtime, for recovering which accelerators it holds
 */
public record ContainerFacts(String id, String name, String state, int exitCode, String startedAt,
                             Map<String, String> labels, String runnerDir, List<PortMapping> ports,
                             String runnerRuntime, ContainerView view) {
    public boolean live() {
        return state.equals("running") || state.equals("paused") || state.equals("restarting");
    }
}
