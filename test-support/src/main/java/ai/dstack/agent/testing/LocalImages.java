package ai.dstack.agent.testing;

/**
 * The images {@code bin/test} builds locally before any test runs (no registry is reachable).
 * Tests never pull: these exist or the run stopped earlier with a clear message.
 */
public final class LocalImages {
    /** Debian bookworm with openssh-server, git, ca-certificates, procps. */
    public static final String BASE = "dstack-local/base:bookworm";
    /** busybox-static with applet links and an /etc/passwd; no C library. */
    public static final String BUSYBOX = "dstack-local/busybox:1";

    private LocalImages() {
    }
}
