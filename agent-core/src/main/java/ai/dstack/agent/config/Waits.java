package ai.dstack.agent.config;

import java.time.Duration;

/**
 * Every long wait of the shim, each a setting ({@code --<name>-ms} / {@code DSTACK_SHIM_<NAME>_MS}),
 * so tests can run them short.
 *
 * @param pullDeadline         longest an image pull may take in all; zero: no limit
 * @param pullStall            a pull fails when no layer has made progress for this long
 * @param syncStopLimit        a terminate whose grace is at most this stops the container inside the request
 * @param removeWait           how long a remove waits for a stopping task before answering 409
 * @param componentInstall     longest a component download may take
 * @param shutdownGrace        how long in-flight requests and jobs get at shutdown
 * @param dockerCall           longest one ordinary engine call (create, start, inspect …) may take
 * @param tool                 longest a vendor tool run by a plugin may take
 * @param fingerprint          how often devices are looked for again (zero: only at start)
 * @param engineRetry          how often an unreachable Docker engine is asked again
 * @param health               how often device health is checked in the background
 * @param memoryTrim           how often memory taken by past work is given back (zero: never)
 */
public record Waits(Duration pullDeadline, Duration pullStall, Duration syncStopLimit, Duration removeWait,
                    Duration componentInstall, Duration shutdownGrace, Duration dockerCall, Duration tool,
                    Duration fingerprint, Duration engineRetry, Duration health,
                    Duration memoryTrim) {
}
