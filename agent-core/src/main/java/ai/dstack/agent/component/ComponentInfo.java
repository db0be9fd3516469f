package ai.dstack.agent.component;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonValue;

/**
 * A component's cached state (docs/shim.md §2.7).
 *
 * @param name    {@code dstack-runner} or {@code dstack-shim}
 * @param version "" unless installed
 * @param status  install state
 */
public record ComponentInfo(@JsonProperty("name") String name, @JsonProperty("version") String version,
                            @JsonProperty("status") Status status) {
    /** The four states the server accepts. */
    public enum Status {
        NOT_INSTALLED("not-installed"), INSTALLED("installed"), INSTALLING("installing"), ERROR("error");

        private final String wire;

        Status(String wire) {
            this.wire = wire;
        }

        @JsonValue
        public String wire() {
            return wire;
        }
    }
}
