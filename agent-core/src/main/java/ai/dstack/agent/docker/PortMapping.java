package ai.dstack.agent.docker;

import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * A container port published on the host.
 *
 * @param host      host port (on 127.0.0.1)
 * @param container container port
 */
public record PortMapping(@JsonProperty("host") int host, @JsonProperty("container") int container) {
}
