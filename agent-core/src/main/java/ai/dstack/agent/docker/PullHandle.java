package ai.dstack.agent.docker;

import java.io.Closeable;
import java.io.IOException;

/** Lets another thread (terminate, the deadline) interrupt a pull in progress by closing its stream. */
public final class PullHandle {
    private volatile Closeable stream;
    private volatile String cancelCause;

    /** Stops the pull; it fails with "image pull interrupted: …: {@code cause}". */
    public void cancel(String cause) {
        if (cancelCause == null) {
            cancelCause = cause;
        }
        closeQuietly(stream);
    }

    String cancelCause() {
        return cancelCause;
    }

    void attach(Closeable s) {
        stream = s;
        if (cancelCause != null) {
            closeQuietly(s);
        }
    }

    private static void closeQuietly(Closeable c) {
        if (c != null) {
            try {
                c.close();
            } catch (IOException | RuntimeException ignored) {
                // the reader notices the closed stream
            }
        }
    }
}
