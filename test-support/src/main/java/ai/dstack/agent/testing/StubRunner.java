package ai.dstack.agent.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * A stand-in for dstack-runner until the Java runner exists: a busybox {@code sh} script the shim
 * mounts at {@code /usr/local/bin/dstack-runner} (runner choice case 3). It answers
 * {@code --version}; started as the runner, it runs {@code /stub/run} if a test mounted one there
 * (an instance mount), else serves {@code GET /api/healthcheck} on the runner HTTP port with
 * busybox {@code httpd}.
 */
public final class StubRunner {
    public static final String VERSION = "0.0.0-stub";
    /** Where a test may mount a directory whose {@code run} script replaces the default behaviour. */
    public static final String OVERRIDE_DIR = "/stub";

    private static final String SCRIPT = """
            #!/bin/sh
            if [ "$1" = --version ]; then echo "dstack-runner version %s"; exit 0; fi
            echo "stub runner: $*"
            if [ -x %s/run ]; then exec %s/run "$@"; fi
            port=10999
            while [ $# -gt 0 ]; do
              case "$1" in --http-port) port=$2; shift ;; esac
              shift
            done
            mkdir -p /tmp/stub-www/api
            echo '{"service":"dstack-runner"}' > /tmp/stub-www/api/healthcheck
            echo "serving on $port"
            exec httpd -f -p "$port" -h /tmp/stub-www
            """.formatted(VERSION, OVERRIDE_DIR, OVERRIDE_DIR);

    private StubRunner() {
    }

    /** Writes the stub as {@code dir/dstack-runner} (0755) and returns its path. */
    public static Path write(Path dir) {
        try {
            Files.createDirectories(dir);
            Path file = dir.resolve("dstack-runner");
            Files.writeString(file, SCRIPT);
            Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwxr-xr-x"));
            return file;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Writes a directory to mount at {@link #OVERRIDE_DIR} whose {@code run} script is {@code body}
     * (busybox sh), e.g. {@code "echo bye; exit 3"}.
     */
    public static Path override(Path dir, String body) {
        try {
            Files.createDirectories(dir);
            Path run = dir.resolve("run");
            Files.writeString(run, "#!/bin/sh\n" + body + "\n");
            Files.setPosixFilePermissions(run, PosixFilePermissions.fromString("rwxr-xr-x"));
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
