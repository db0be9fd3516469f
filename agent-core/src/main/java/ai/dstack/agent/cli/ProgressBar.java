package ai.dstack.agent.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintStream;

/** An image-pull progress line on a terminal, from the shim's {@code image_pull_progress}. */
final class ProgressBar {
    private static final int WIDTH = 30;
    private final PrintStream err;
    private final String image;
    private boolean shown;

    ProgressBar(PrintStream err, String image) {
        this.err = err;
        this.image = image;
    }

    void update(JsonNode progress) {
        if (progress == null || progress.isNull() || progress.isMissingNode()) {
            return;
        }
        long total = progress.path("total_bytes").asLong();
        long done = progress.path("downloaded_bytes").asLong();
        int filled = total > 0 ? (int) Math.min(WIDTH, done * WIDTH / total) : 0;
        err.printf("\rpulling %s [%s%s] %s / %s%s", image, "#".repeat(filled), ".".repeat(WIDTH - filled),
                Sizes.human(done), Sizes.human(total), progress.path("is_total_bytes_final").asBoolean() ? "" : "+");
        err.flush();
        shown = true;
    }

    void done() {
        if (shown) {
            err.println();
            shown = false;
        }
    }
}
