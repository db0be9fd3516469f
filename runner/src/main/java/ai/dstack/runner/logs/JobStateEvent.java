package ai.dstack.runner.logs;

/**
 * One entry of the job-state history.
 *
 * @param state              running, done, failed or terminated
 * @param timestamp          shared log timestamp (epoch ms)
 * @param terminationReason  a server JobTerminationReason value, or "" when none
 * @param terminationMessage human-readable detail, or ""
 * @param exitStatus         the job's exit status, null when it has none
 */
public record JobStateEvent(String state, long timestamp, String terminationReason, String terminationMessage,
                            Integer exitStatus) {
}
