package ai.dstack.runner.ssh;

import static org.assertj.core.api.Assertions.assertThat;

import ai.dstack.runner.user.JobUser;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ProfileTest {
    private static final JobUser APP = new JobUser(1000, 1001, List.of(1001L), "app", "/home/app");

    @TempDir
    Path tmp;

    @Test
    void exportsEveryShellNamedVariableQuotedAndEndsWithCd() {
        Map<String, String> env = new LinkedHashMap<>();
        env.put("B", "it's");
        env.put("A", "plain");
        env.put("HOME", "/root");
        env.put("_", "/usr/bin/env");
        env.put("SHLVL", "1");
        env.put("BASH_FUNC_x%%", "() { :; }");
        env.put("not-a-name", "x");
        env.put("1ST", "x");
        env.put("MULTI", "line1\nline2");
        assertThat(Profile.render(env)).isEqualTo("""
                export A='plain'
                export B='it'\\''s'
                export MULTI='line1
                line2'
                cd "$DSTACK_WORKING_DIR"
                """);
    }

    @Test
    void aShellReadsBackExactlyTheValues() throws Exception {
        String nasty = "a'b\"c $X `id` \\n ; | & * ' '' \u00e9";
        Path profile = tmp.resolve("dstack/profile");
        Profile.write(profile, tmp.resolve("etc/profile"), Map.of("V", nasty, "DSTACK_WORKING_DIR", tmp.toString()),
                new JobUser(0, 0, List.of(0L), "root", "/root"));
        Process p = new ProcessBuilder("sh", "-c", ". \"$1\"; printf '%s|' \"$V\"; pwd", "sh", tmp.resolve("etc/profile").toString())
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor()).as(out).isZero();
        assertThat(out).isEqualTo(nasty + "|" + tmp + "\n");
    }

    @Test
    void onlyRootAndTheJobUserCanReadItAndEtcProfileGetsTheLineOnce() throws Exception {
        Path profile = tmp.resolve("dstack/profile");
        Path etcProfile = tmp.resolve("etc/profile");
        Files.createDirectories(etcProfile.getParent());
        Files.writeString(etcProfile, "# distro profile\n");
        for (int run = 0; run < 3; run++) {
            Profile.write(profile, etcProfile, Map.of("SECRET", "s" + run), APP);
        }
        assertThat(Files.readString(profile)).startsWith("export SECRET='s2'\n");
        assertThat(Files.getPosixFilePermissions(profile)).isEqualTo(PosixFilePermissions.fromString("rw-------"));
        assertThat(Files.getAttribute(profile, "unix:uid", LinkOption.NOFOLLOW_LINKS)).isEqualTo(1000);
        assertThat(Files.getAttribute(profile, "unix:gid", LinkOption.NOFOLLOW_LINKS)).isEqualTo(1001);
        assertThat(Files.readString(etcProfile)).isEqualTo("# distro profile\n\n. '" + profile + "'\n");
        try (var leftovers = Files.list(profile.getParent())) {
            assertThat(leftovers).containsExactly(profile);
        }
    }

    @Test
    void aMissingEtcProfileIsCreatedWorldReadable() throws Exception {
        Path etcProfile = tmp.resolve("etc/profile");
        Profile.write(tmp.resolve("dstack/profile"), etcProfile, Map.of(), APP);
        assertThat(Files.getPosixFilePermissions(etcProfile)).isEqualTo(PosixFilePermissions.fromString("rw-r--r--"));
        assertThat(Files.readString(tmp.resolve("dstack/profile"))).isEqualTo("cd \"$DSTACK_WORKING_DIR\"\n");
    }
}
