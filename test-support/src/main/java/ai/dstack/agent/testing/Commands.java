package ai.dstack.agent.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs host commands from tests (losetup, mkfs, ip, docker CLI). */
public final class Commands {
    private Commands() {
    }

    /** Runs a command, returns its output (stdout and stderr), throws with that output when it fails. */
    public static String run(String... command) {
        try {
            Process p = new ProcessBuilder(List.of(command)).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes());
            if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new IllegalStateException(String.join(" ", command) + " failed: " + out);
            }
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** Whether a command exits 0. */
    public static boolean succeeds(String... command) {
        try {
            run(command);
            return true;
        } catch (IllegalStateException | UncheckedIOException e) {
            return false;
        }
    }

    /** Whether the tests run as root. */
    public static boolean isRoot() {
        return "0".equals(run("id", "-u").strip());
    }
}
