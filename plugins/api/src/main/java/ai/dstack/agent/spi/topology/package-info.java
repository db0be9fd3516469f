/**
 * Device topology as a vendor plugin reports it ({@code AcceleratorPlugin.topology}): a {@link
 * ai.dstack.agent.spi.topology.Link} of some {@link ai.dstack.agent.spi.topology.LinkKind} between
 * each pair of devices and each device's NUMA node, gathered in a {@link
 * ai.dstack.agent.spi.topology.Topology}. The core picks a task's devices from it.
 */
package ai.dstack.agent.spi.topology;
