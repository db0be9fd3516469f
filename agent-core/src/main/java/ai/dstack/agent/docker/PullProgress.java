package ai.dstack.agent.docker;

import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * Bytes of an image pull so far, summed over layers (docs/shim.md §4.1).
 *
 * @param downloadedBytes  bytes downloaded
 * @param extractedBytes   bytes extracted
 * @param totalBytes       bytes to download, as far as known
 * @param totalBytesFinal  whether every layer's size is known
 */
public record PullProgress(@JsonProperty("downloaded_bytes") long downloadedBytes,
                           @JsonProperty("extracted_bytes") long extractedBytes,
                           @JsonProperty("total_bytes") long totalBytes,
                           @JsonProperty("is_total_bytes_final") boolean totalBytesFinal) {
}
