/**
 * Device topology: what a vendor plugin reports about how its devices are wired ({@link
 * ai.dstack.agent.spi.topology.Topology}, {@link ai.dstack.agent.spi.topology.Link}, {@link
 * ai.dstack.agent.spi.topology.LinkKind}), and the vendor-neutral policy that picks a task's devices
 * from it ({@link ai.dstack.agent.spi.topology.TopologyAwareChoice}). Plain classes with no
 * dependency on the agent core or PF4J.
 */
package ai.dstack.agent.spi.topology;
