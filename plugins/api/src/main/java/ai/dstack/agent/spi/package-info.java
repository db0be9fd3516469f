/**
 * The agent's plugin SPI, modelled on Nomad's device-plugin contract: plain data records plus one
 * interface per extension point ({@link AcceleratorPlugin}, {@link StoragePlugin}) and the interfaces
 * the agent lends or is handed ({@link HostContext}, {@link TaskMetrics}); no policy lives here. Plugins only
 * know their vendor; the agent core owns allocation, orchestration and the container engine.
 * Errors travel inside results where a failing vendor tool is a state to report, not a crash.
 */
package ai.dstack.agent.spi;
