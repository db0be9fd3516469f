package ai.dstack.runner.activity;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * {@code no_connections_secs} (docs/runner.md §6.8): every tick, the ESTABLISHED TCP connections to
 * the sshd port are read from {@code /proc/net/tcp} and {@code tcp6}; one that has lasted more
 * than 10 s is a user (shorter ones are the server's tunnels). The value is the whole seconds
 * from the last tick with user activity (initially the first tick) to the latest tick.
 */
public final class SshActivity {
    static final long USER_AFTER_MS = 10_000;
    private static final long TICK_MS = 2_500;

    private final Path procNet;
    private final int port;
    private final Map<String, Long> firstSeen = new HashMap<>();
    private long lastActive = -1;
    private long lastTick = -1;
    private ScheduledExecutorService timer;

    /** @param procNet {@code /proc/net} (a fake one in tests) */
    public SshActivity(Path procNet, int port) {
        this.procNet = procNet;
        this.port = port;
    }

    /** Starts ticking every 2.5 s on a daemon thread (idempotent). */
    public synchronized void start() {
        if (timer == null) {
            timer = Executors.newSingleThreadScheduledExecutor(Thread.ofPlatform().name("ssh-activity").daemon().factory());
            timer.scheduleWithFixedDelay(() -> tick(System.currentTimeMillis()), 0, TICK_MS, TimeUnit.MILLISECONDS);
        }
    }

    /** One scan at {@code now}; a tick whose files cannot be read is skipped (as Go does). */
    synchronized void tick(long now) {
        Set<String> current = new HashSet<>();
        try {
            for (String file : List.of("tcp", "tcp6")) {
                current.addAll(established(Files.readAllLines(procNet.resolve(file))));
            }
        } catch (IOException e) {
            return;
        }
        firstSeen.keySet().retainAll(current);
        boolean user = false;
        for (String remote : current) {
            long since = firstSeen.computeIfAbsent(remote, r -> now);
            user |= now - since > USER_AFTER_MS;
        }
        if (lastActive < 0 || user) {
            lastActive = now;
        }
        lastTick = now;
    }

    private List<String> established(List<String> lines) {
        return lines.stream().skip(1).map(String::trim).map(l -> l.split("\\s+"))
                .filter(f -> f.length > 3 && f[3].equals("01") && localPort(f[1]) == port)
                .map(f -> f[2]).toList();
    }

    private static int localPort(String address) {
        int colon = address.lastIndexOf(':');
        try {
            return Integer.parseInt(address.substring(colon + 1), 16);
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /** Whole seconds without user SSH activity; 0 before the first tick. */
    public synchronized long noConnectionsSecs() {
        return lastTick < 0 ? 0 : (lastTick - lastActive) / 1000;
    }

    public synchronized void stop() {
        if (timer != null) {
            timer.shutdownNow();
        }
    }
}
