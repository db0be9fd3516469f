package ai.dstack.runner.repo;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** The real git CLI for building fixture repositories in tests. */
final class GitCli {
    private GitCli() {
    }

    /** A bare {@code tmp/origin.git} and its clone {@code tmp/work} (main as default branch); returns the clone. */
    static Path originAndWorkClone(Path tmp) throws IOException, InterruptedException {
        Path origin = tmp.resolve("origin.git");
        git(tmp, "init", "-q", "--bare", origin.toString());
        git(origin, "symbolic-ref", "HEAD", "refs/heads/main");
        Path work = tmp.resolve("work");
        git(tmp, "clone", "-q", origin.toString(), work.toString());
        return work;
    }

    /** {@link #originAndWorkClone} with one commit on main: {@code README.md} holding {@code readme}; returns the clone. */
    static Path originWithReadme(Path tmp, String readme) throws IOException, InterruptedException {
        Path work = originAndWorkClone(tmp);
        Files.writeString(work.resolve("README.md"), readme);
        commitAndPush(work, "first");
        return work;
    }

    /** Stages everything in {@code work}, commits it and pushes main. */
    static void commitAndPush(Path work, String message) throws IOException, InterruptedException {
        git(work, "add", "-A");
        git(work, "commit", "-qm", message);
        git(work, "push", "-q", "origin", "main");
    }

    /** Runs {@code git args…} in {@code dir} and returns its stdout; fails on a non-zero exit. */
    static String git(Path dir, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("git", "-c", "protocol.file.allow=always",
                "-c", "init.defaultBranch=main", "-c", "user.name=Fixture", "-c", "user.email=fixture@example.com"));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true);
        pb.environment().put("GIT_CONFIG_NOSYSTEM", "1");
        pb.environment().put("HOME", dir.toString());
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (p.waitFor() != 0) {
            throw new IOException("git " + String.join(" ", args) + " failed: " + out);
        }
        return out;
    }
}
