package ai.dstack.agent.spi;

/**
 * One health finding about one device.
 *
 * @param deviceIndex the device's index (DCGM entity id)
 * @param severity    {@link Severity#WARN} or {@link Severity#FAIL}
 * @param system      DCGM health-system bit the finding belongs to, 0 when not from DCGM
 * @param errorCode   DCGM error code, 0 when not from DCGM
 * @param message     what was found, for an operator
 */
public record HealthIncident(int deviceIndex, Severity severity, int system, int errorCode, String message) {
    /** DCGM's health levels; the wire values are 0, 10 and 20. */
    public enum Severity {
        PASS(0), WARN(10), FAIL(20);

        private final int dcgmValue;

        Severity(int dcgmValue) {
            this.dcgmValue = dcgmValue;
        }

        /** The value DCGM and the dstack server use. */
        public int dcgmValue() {
            return dcgmValue;
        }
    }
}
