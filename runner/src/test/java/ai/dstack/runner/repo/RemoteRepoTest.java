package ai.dstack.runner.repo;

import static ai.dstack.runner.repo.GitCli.git;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.dstack.agent.testing.FreePorts;
import java.io.IOException;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Random;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RemoteRepoTest {
    @TempDir
    Path tmp;
    Path origin;
    Path work;
    String firstCommit;
    String mainTip;
    String featureTip;

    /** A bare origin with main (two commits, binary file) and feature; {@code work} is a clone to make diffs in. */
    @BeforeEach
    void origin() throws Exception {
        work = GitCli.originAndWorkClone(tmp);
        origin = tmp.resolve("origin.git");
        Files.writeString(work.resolve("README.md"), "hello\n");
        Files.writeString(work.resolve("to-delete.txt"), "bye\n");
        Files.writeString(work.resolve("to-rename.txt"), "same content in a file\nthat is renamed\n");
        Files.createDirectories(work.resolve("bin"));
        Files.write(work.resolve("bin/blob.dat"), randomBytes(1, 20_000));
        Files.writeString(work.resolve("run.sh"), "#!/bin/sh\necho run\n");
        GitCli.commitAndPush(work, "first");
        firstCommit = git(work, "rev-parse", "HEAD").trim();
        Files.writeString(work.resolve("README.md"), "hello\nworld\n");
        GitCli.commitAndPush(work, "second");
        mainTip = git(work, "rev-parse", "HEAD").trim();
        git(work, "checkout", "-qb", "feature");
        Files.writeString(work.resolve("feature.txt"), "feature\n");
        git(work, "add", "-A");
        git(work, "commit", "-qm", "feature");
        featureTip = git(work, "rev-parse", "HEAD").trim();
        git(work, "push", "-q", "origin", "feature");
        git(work, "checkout", "-q", "main");
    }

    private static byte[] randomBytes(long seed, int n) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        b[0] = 0; // a NUL makes git treat the file as binary
        return b;
    }

    private RepoCredentials file() {
        return new RepoCredentials("file://" + origin, null, null);
    }

    private static RemoteRepoSpec spec(String branch, String hash, boolean singleBranch) {
        return new RemoteRepoSpec(branch, hash, "Jane Doe", "jane@example.com", singleBranch);
    }

    @Test
    void clonesTheBranchTipAndSetsTheLocalIdentity() throws Exception {
        Path dir = tmp.resolve("repo");
        RemoteRepo.setUp(dir, file(), spec("feature", null, false), null);
        assertThat(git(dir, "rev-parse", "HEAD").trim()).isEqualTo(featureTip);
        assertThat(git(dir, "symbolic-ref", "HEAD").trim()).isEqualTo("refs/heads/feature");
        assertThat(git(dir, "config", "--local", "user.name").trim()).isEqualTo("Jane Doe");
        assertThat(git(dir, "config", "--local", "user.email").trim()).isEqualTo("jane@example.com");
        assertThat(git(dir, "branch", "-r")).contains("origin/main").contains("origin/feature");
        assertThat(Files.isExecutable(dir.resolve("run.sh"))).isFalse();
    }

    @Test
    void withoutAnIdentityNoneIsWrittenSoTheUsersOwnGitConfigCommits() throws Exception {
        Path dir = tmp.resolve("repo");
        RemoteRepo.setUp(dir, file(), new RemoteRepoSpec("main", null, null, "", false), null);
        String local = git(dir, "config", "--local", "--list");
        assertThat(local).doesNotContain("user.name").doesNotContain("user.email");
        Path home = Files.createDirectories(tmp.resolve("home"));
        Files.writeString(home.resolve(".gitconfig"), "[user]\n\tname = Own Name\n\temail = own@example.com\n");
        Files.writeString(dir.resolve("new.txt"), "x\n");
        ProcessBuilder commit = new ProcessBuilder("sh", "-c", "git add -A && git commit -qm mine && git log -1 --format=%an")
                .directory(dir.toFile()).redirectErrorStream(true);
        commit.environment().put("HOME", home.toString());
        commit.environment().put("GIT_CONFIG_NOSYSTEM", "1");
        Process p = commit.start();
        String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertThat(p.waitFor()).as(out).isZero();
        assertThat(out.trim()).isEqualTo("Own Name");
    }

    @Test
    void branchWithAnOlderHashChecksOutThatHashDetached() throws Exception {
        Path dir = tmp.resolve("repo");
        RemoteRepo.setUp(dir, file(), spec("main", firstCommit, false), null);
        assertThat(git(dir, "rev-parse", "HEAD").trim()).isEqualTo(firstCommit);
        assertThatThrownBy(() -> git(dir, "symbolic-ref", "-q", "HEAD")).as("detached").isInstanceOf(IOException.class);
        assertThat(Files.readString(dir.resolve("README.md"))).isEqualTo("hello\n");
    }

    @Test
    void branchWithItsTipHashStaysOnTheBranch() throws Exception {
        Path dir = tmp.resolve("repo");
        RemoteRepo.setUp(dir, file(), spec("main", mainTip, true), null);
        assertThat(git(dir, "symbolic-ref", "HEAD").trim()).isEqualTo("refs/heads/main");
        assertThat(git(dir, "branch", "-r")).as("single branch").contains("origin/main").doesNotContain("origin/feature");
    }

    @Test
    void noBranchChecksOutTheHashOrTheRemoteHead() throws Exception {
        Path byHash = tmp.resolve("by-hash");
        RemoteRepo.setUp(byHash, file(), spec(null, featureTip, false), null);
        assertThat(git(byHash, "rev-parse", "HEAD").trim()).isEqualTo(featureTip);

        Path byHead = tmp.resolve("by-head");
        RemoteRepo.setUp(byHead, file(), new RemoteRepoSpec(null, "", null, null, true), null);
        assertThat(git(byHead, "symbolic-ref", "HEAD").trim()).isEqualTo("refs/heads/main");
        assertThat(git(byHead, "branch", "-r")).doesNotContain("origin/feature");
        assertThat(git(byHead, "config", "--local", "--list")).doesNotContain("user.name");
    }

    @Test
    void unknownBranchOrCommitFails() {
        assertThatThrownBy(() -> RemoteRepo.setUp(tmp.resolve("a"), file(), spec("nosuch", null, false), null))
                .isInstanceOf(RepoSetupException.class).hasMessageContaining("Failed to set up the repo (");
        assertThatThrownBy(() -> RemoteRepo.setUp(tmp.resolve("b"), file(),
                spec("main", "0123456789012345678901234567890123456789", false), null))
                .hasMessage("Failed to set up the repo (commit 0123456789012345678901234567890123456789 not found)");
    }

    @Test
    void appliesABinaryDiffWithAddsDeletesRenamesAndModes() throws Exception {
        Files.writeString(work.resolve("README.md"), "hello\nworld\nlocal change\n");
        Files.delete(work.resolve("to-delete.txt"));
        Files.createDirectories(work.resolve("renamed"));
        git(work, "mv", "to-rename.txt", "renamed/now-here.txt");
        Files.createDirectories(work.resolve("new/deep"));
        Files.writeString(work.resolve("new/deep/file.txt"), "brand new\n");
        byte[] blob = randomBytes(1, 20_000);
        blob[10_000] ^= 0x55;
        blob[15_000] ^= 0x55;
        Files.write(work.resolve("bin/blob.dat"), blob);
        Files.write(work.resolve("bin/new.dat"), randomBytes(2, 3_000));
        Files.setPosixFilePermissions(work.resolve("run.sh"), PosixFilePermissions.fromString("rwxr-xr-x"));
        git(work, "add", "-A");
        Path diff = tmp.resolve("blob.diff");
        Files.writeString(diff, git(work, "diff", "--cached", "--binary", "-M"));
        assertThat(Files.readString(diff)).contains("GIT binary patch").contains("delta ").contains("literal ")
                .contains("rename from to-rename.txt").contains("new mode 100755").contains("deleted file mode");

        Path dir = tmp.resolve("repo");
        RemoteRepo.setUp(dir, file(), spec("main", mainTip, false), diff);

        assertThat(Files.readString(dir.resolve("README.md"))).isEqualTo("hello\nworld\nlocal change\n");
        assertThat(dir.resolve("to-delete.txt")).doesNotExist();
        assertThat(dir.resolve("to-rename.txt")).doesNotExist();
        assertThat(Files.readString(dir.resolve("renamed/now-here.txt"))).isEqualTo("same content in a file\nthat is renamed\n");
        assertThat(Files.readString(dir.resolve("new/deep/file.txt"))).isEqualTo("brand new\n");
        assertThat(Files.readAllBytes(dir.resolve("bin/blob.dat"))).isEqualTo(blob);
        assertThat(Files.readAllBytes(dir.resolve("bin/new.dat"))).isEqualTo(randomBytes(2, 3_000));
        assertThat(Files.isExecutable(dir.resolve("run.sh"))).isTrue();
        // like git apply: changes are in the working tree, the index stays at the commit
        assertThat(git(dir, "status", "--porcelain").lines().sorted().toList()).containsExactly(
                " D to-delete.txt", " D to-rename.txt", " M README.md", " M bin/blob.dat", " M run.sh",
                "?? bin/new.dat", "?? new/", "?? renamed/");
    }

    @Test
    void aDiffThatDoesNotApplyFails() throws Exception {
        Path diff = tmp.resolve("bad.diff");
        Files.writeString(diff, """
                diff --git a/README.md b/README.md
                index 0000000..1111111 100644
                --- a/README.md
                +++ b/README.md
                @@ -1,2 +1,2 @@
                -not what is there
                -at all
                +x
                +y
                """);
        assertThatThrownBy(() -> RemoteRepo.setUp(tmp.resolve("repo"), file(), spec("main", null, false), diff))
                .isInstanceOf(RepoSetupException.class).hasMessageStartingWith("Failed to set up the repo (the diff does not apply");
        Files.writeString(diff, "diff --git a/x b/x\n@@ garbage\n");
        assertThatThrownBy(() -> RemoteRepo.setUp(tmp.resolve("repo2"), file(), spec("main", null, false), diff))
                .isInstanceOf(RepoSetupException.class);
    }

    @Test
    void theCloneNeitherReadsNorWritesGitConfigOutsideTheRepo() throws Exception {
        Path jgitConfig = Path.of(System.getProperty("user.home"), ".config/jgit/config");
        Files.deleteIfExists(jgitConfig);
        Path home = Path.of(System.getProperty("user.home"));
        Files.writeString(home.resolve(".gitconfig"), "[url \"file:///nonexistent/\"]\n\tinsteadOf = file://\n");
        try {
            RemoteRepo.setUp(tmp.resolve("repo"), file(), spec("main", null, false), null);
        } finally {
            Files.delete(home.resolve(".gitconfig"));
        }
        assertThat(Files.readString(tmp.resolve("repo/README.md"))).isEqualTo("hello\nworld\n");
        assertThat(jgitConfig).doesNotExist();
    }

    @Test
    void anEmptyDiffIsNoDiff() throws Exception {
        Path diff = Files.createFile(tmp.resolve("empty.diff"));
        RemoteRepo.setUp(tmp.resolve("repo"), file(), spec("main", null, false), diff);
        assertThat(git(tmp.resolve("repo"), "status", "--porcelain")).isEmpty();
    }

    @Test
    void missingCredentialsUnsupportedSchemesAndSshWithoutKeyFail() {
        Path dir = tmp.resolve("repo");
        assertThatThrownBy(() -> RemoteRepo.setUp(dir, null, spec("main", null, false), null))
                .hasMessage("Failed to set up the repo (no repo credentials for a remote repo)");
        assertThatThrownBy(() -> RemoteRepo.setUp(dir, new RepoCredentials("ftp://h/x", null, null), spec(null, null, false), null))
                .hasMessage("Failed to set up the repo (unsupported clone URL scheme: ftp)");
        assertThatThrownBy(() -> RemoteRepo.setUp(dir, new RepoCredentials("git@github.com:a/b.git", null, null), spec(null, null, false), null))
                .hasMessageContaining("unsupported clone URL scheme");
        assertThatThrownBy(() -> RemoteRepo.setUp(dir, new RepoCredentials("ssh://git@127.0.0.1:1/x", null, null), spec(null, null, false), null))
                .hasMessage("Failed to set up the repo (private key is required for an ssh clone URL)");
    }

    @Test
    void clonesOverTheGitProtocolFromGitDaemon() throws Exception {
        Files.createFile(origin.resolve("git-daemon-export-ok"));
        int port = FreePorts.next();
        Process daemon = new ProcessBuilder("git", "daemon", "--reuseaddr", "--listen=127.0.0.1", "--port=" + port,
                "--base-path=" + tmp, tmp.toString()).redirectErrorStream(true)
                .redirectOutput(tmp.resolve("daemon.log").toFile()).start();
        try {
            waitForPort(port, daemon);
            Path dir = tmp.resolve("repo");
            RemoteRepo.setUp(dir, new RepoCredentials("git://127.0.0.1:" + port + "/origin.git", null, null),
                    spec("feature", null, true), null);
            assertThat(Files.readString(dir.resolve("feature.txt"))).isEqualTo("feature\n");
        } finally {
            daemon.destroy();
            daemon.waitFor();
        }
    }

    static void waitForPort(int port, Process server) throws Exception {
        for (int i = 0; i < 200; i++) {
            if (!server.isAlive()) {
                throw new IllegalStateException("server exited with " + server.exitValue());
            }
            try (Socket s = new Socket("127.0.0.1", port)) {
                return;
            } catch (IOException notYet) {
                Thread.sleep(50);
            }
        }
        throw new IllegalStateException("nothing listens on " + port);
    }

    @Test
    void submodulesAreClonedRecursively() throws Exception {
        Path leaf = tmp.resolve("leaf.git");
        Path mid = tmp.resolve("mid.git");
        for (Path bare : new Path[] {leaf, mid}) {
            git(tmp, "init", "-q", "--bare", bare.toString());
        }
        Path w = tmp.resolve("w-leaf");
        git(tmp, "clone", "-q", leaf.toString(), w.toString());
        Files.writeString(w.resolve("leaf.txt"), "leaf\n");
        GitCli.commitAndPush(w, "leaf");
        Path m = tmp.resolve("w-mid");
        git(tmp, "clone", "-q", mid.toString(), m.toString());
        git(m, "submodule", "add", "-q", "file://" + leaf, "leaf");
        git(m, "commit", "-qm", "mid");
        git(m, "push", "-q", "origin", "main");
        git(work, "submodule", "add", "-q", "file://" + mid, "mid");
        git(work, "commit", "-qm", "with submodule");
        git(work, "push", "-q", "origin", "main");

        Path dir = tmp.resolve("repo");
        RemoteRepo.setUp(dir, file(), spec("main", null, false), null);
        assertThat(Files.readString(dir.resolve("mid/leaf/leaf.txt"))).isEqualTo("leaf\n");
        assertThat(git(dir, "submodule", "status", "--recursive")).doesNotContain("-").doesNotContain("+");
    }

    @Test
    void aRepoDirHoldingOnlyLostAndFoundIsClonedIntoAndLostAndFoundStays() throws Exception {
        Path dir = tmp.resolve("volume");
        Path lostFound = Files.createDirectories(dir.resolve("lost+found"));
        Files.writeString(lostFound.resolve("#1234"), "recovered");
        Object inode = Files.getAttribute(lostFound, "unix:ino");
        RemoteRepo.setUp(dir, file(), spec("main", null, false), null);
        assertThat(Files.readString(dir.resolve("README.md"))).isEqualTo("hello\nworld\n");
        assertThat(Files.getAttribute(lostFound, "unix:ino")).isEqualTo(inode);
        assertThat(Files.readString(lostFound.resolve("#1234"))).isEqualTo("recovered");
        try (var entries = Files.list(dir)) {
            assertThat(entries.map(p -> p.getFileName().toString()).filter(n -> n.startsWith(".dstack"))).isEmpty();
        }
        assertThat(git(dir, "status", "--porcelain")).isEqualTo("?? lost+found/\n");
    }
}
