package ai.dstack.runner.job;

/** The sshd the runner starts for users and the server (docs/runner.md §8, §6.8). */
public interface SshServer {
    /** Prepares and starts sshd (startup step 5); a thrown exception makes the runner exit 1. */
    void start() throws Exception;

    /** Null while sshd runs, else why SSH is unavailable (the runner goes on without it). */
    String unavailableReason();

    /** Appends a public key line to the authorized keys (multi-node jobs). */
    void authorize(String publicKey);

    /** Starts connection tracking (when the job starts); no tracking by default. */
    default void trackConnections() {
    }

    /** Whole seconds since the last user SSH activity (docs/runner.md §6.8), 0 before tracking. */
    default long noConnectionsSecs() {
        return 0;
    }

    /** SIGTERM to sshd and wait. */
    void stop();

    /** Until sshd support is wired in: SSH is unavailable and the runner says so. */
    static SshServer unavailable() {
        return new SshServer() {
            @Override
            public void start() {
            }

            @Override
            public String unavailableReason() {
                return "sshd support is not wired into this runner yet";
            }

            @Override
            public void authorize(String publicKey) {
            }

            @Override
            public void stop() {
            }
        };
    }
}
