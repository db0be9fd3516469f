package ai.dstack.agent.task;

import ai.dstack.agent.config.Waits;
import ai.dstack.agent.docker.Engine;
import ai.dstack.agent.host.HostKeys;
import ai.dstack.agent.pluginhost.GpuPool;
import ai.dstack.agent.volume.VolumeManager;
import java.util.concurrent.ScheduledExecutorService;

/**
 * What tasks run on: the engine, the container planner, and the host resources tasks hold.
 *
 * @param engine   the Docker engine
 * @param planner  turns tasks into container plans
 * @param gpus     the accelerator pool
 * @param volumes  network volumes
 * @param hostKeys the host users' authorized_keys
 * @param waits    every long wait
 * @param timer    runs deadlines
 * @param stats    step durations, for the agent's metrics
 */
public record PipelineServices(Engine engine, ContainerPlanner planner, GpuPool gpus, VolumeManager volumes, HostKeys hostKeys,
                   Waits waits, ScheduledExecutorService timer, PipelineStats stats) {
}
