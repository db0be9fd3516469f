package ai.dstack.agent.component;

import ai.dstack.agent.component.ComponentInfo.Status;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;

/**
 * The two components the server manages on a host (docs/shim.md §7): their cached status from
 * {@code <path> --version}, and installs from a URL (temp file in the same directory, chmod 0755,
 * atomic rename). The check runs at startup and after each install, never per request.
 */
public final class Components {
    public static final String RUNNER = "dstack-runner";
    public static final String SHIM = "dstack-shim";
    private static final Logger LOG = Logger.getLogger(Components.class.getName());
    private final Map<String, Path> paths = new LinkedHashMap<>();
    private final Map<String, ComponentInfo> cache = new ConcurrentHashMap<>();
    private final Map<String, Future<?>> jobs = new ConcurrentHashMap<>();
    private final Duration downloadTimeout;
    private final ExecutorService workers;

    /** Thrown when an install request is refused. */
    public static final class InstallRefused extends Exception {
        private final boolean conflict;

        InstallRefused(boolean conflict, String message) {
            super(message);
            this.conflict = conflict;
        }

        /** True for 409 (already installing), false for 400. */
        public boolean conflict() {
            return conflict;
        }
    }

    public Components(Path runnerPath, Path shimPath, Duration downloadTimeout, ExecutorService workers) {
        paths.put(RUNNER, runnerPath);
        paths.put(SHIM, shimPath);
        this.downloadTimeout = downloadTimeout;
        this.workers = workers;
        paths.keySet().forEach(this::check);
    }

    /** Runner first, then shim. */
    public List<ComponentInfo> list() {
        return paths.keySet().stream().map(cache::get).toList();
    }

    public ComponentInfo info(String name) {
        return cache.get(name);
    }

    /** Starts a background install of {@code name} from {@code url}, replacing the file. */
    public void install(String name, String url) throws InstallRefused {
        if (name == null || name.isEmpty()) {
            throw new InstallRefused(false, "empty name");
        }
        if (!paths.containsKey(name)) {
            throw new InstallRefused(false, "unknown component");
        }
        if (url == null || url.isEmpty()) {
            throw new InstallRefused(false, "empty url");
        }
        synchronized (cache) {
            if (cache.get(name).status() == Status.INSTALLING) {
                throw new InstallRefused(true, "already installing");
            }
            cache.put(name, new ComponentInfo(name, "", Status.INSTALLING));
            jobs.put(name, workers.submit(() -> {
                try {
                    download(url, paths.get(name));
                    LOG.info(name + " installed from " + url);
                } catch (IOException | RuntimeException e) {
                    LOG.warning(name + " install from " + url + " failed: " + e.getMessage());
                } catch (InterruptedException e) {
                    LOG.warning(name + " install from " + url + " cancelled");
                } finally {
                    synchronized (cache) {
                        check(name);
                        jobs.remove(name);
                    }
                }
            }));
        }
    }

    /** The startup install (docs/shim.md §1.3): skipped when the file exists; a failure is fatal for the caller. */
    public void installIfAbsent(String name, String url) throws IOException, InterruptedException {
        Path target = paths.get(name);
        if (!Files.exists(target)) {
            download(url, target);
        }
        check(name);
    }

    /** Cancels running installs and waits up to {@code grace} for them to end. */
    public void cancelJobs(Duration grace) {
        jobs.values().forEach(f -> f.cancel(true));
        long until = System.nanoTime() + grace.toNanos();
        while (!jobs.isEmpty() && System.nanoTime() < until) {
            try {
                TimeUnit.MILLISECONDS.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    private void download(String url, Path target) throws IOException, InterruptedException {
        Path dir = target.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Path tmp = dir.resolve("." + UUID.randomUUID() + "-" + target.getFileName());
        try (HttpClient http = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NORMAL)
                .connectTimeout(downloadTimeout).build()) {
            HttpRequest request = HttpRequest.newBuilder(URI.create(url)).timeout(downloadTimeout).GET().build();
            HttpResponse<InputStream> response = http.send(request, HttpResponse.BodyHandlers.ofInputStream());
            try (InputStream body = response.body()) {
                if (response.statusCode() != 200) {
                    throw new IOException("unexpected status code: " + response.statusCode());
                }
                Files.copy(body, tmp, StandardCopyOption.REPLACE_EXISTING);
            }
            Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxr-xr-x"));
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IllegalArgumentException e) {
            throw new IOException("bad url: " + e.getMessage());
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    private void check(String name) {
        cache.put(name, probe(name, paths.get(name)));
    }

    /** {@code <path> --version} must print exactly three words: the name, anything, the version. */
    static ComponentInfo probe(String name, Path path) {
        if (!Files.exists(path)) {
            return new ComponentInfo(name, "", Status.NOT_INSTALLED);
        }
        try {
            Process p = new ProcessBuilder(path.toString(), "--version").redirectError(ProcessBuilder.Redirect.DISCARD).start();
            String out;
            try (InputStream in = p.getInputStream()) {
                out = new String(in.readNBytes(4096), StandardCharsets.UTF_8);
            }
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return new ComponentInfo(name, "", Status.ERROR);
            }
            String[] words = out.strip().split("\\s+");
            if (p.exitValue() == 0 && words.length == 3 && words[0].equals(name)) {
                return new ComponentInfo(name, words[2], Status.INSTALLED);
            }
        } catch (IOException e) {
            // not executable: an error state
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return new ComponentInfo(name, "", Status.ERROR);
    }
}
