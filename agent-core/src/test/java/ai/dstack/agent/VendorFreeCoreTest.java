package ai.dstack.agent;

import static org.assertj.core.api.Assertions.assertThat;

import ai.dstack.agent.testing.RepoPaths;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The core knows no GPU vendor (plugins/README.md): every vendor detail lives in its plugin behind
 * the SPI. No file under {@code agent-core/src/main} is named after a vendor or one of its products,
 * and none mentions NVIDIA.
 */
class VendorFreeCoreTest {
    /** Words of a file name (split at case changes, digits and punctuation) that name a vendor or its stack. */
    static final Set<String> VENDOR_WORDS = Set.of("nvidia", "amd", "rocm", "gaudi", "habana", "intel", "tenstorrent",
            "dcgm", "cuda", "nvml");

    @Test
    void noCoreFileIsNamedAfterAVendorOrMentionsNvidia() throws IOException {
        List<String> problems = new ArrayList<>();
        try (Stream<Path> files = Files.walk(RepoPaths.root().resolve("agent-core/src/main"))) {
            for (Path file : files.filter(Files::isRegularFile).toList()) {
                problems.addAll(problems(file.getFileName().toString(), Files.readString(file)));
            }
        }
        assertThat(problems).isEmpty();
    }

    @Test
    void theRuleCatchesVendorNamesAndMentions() {
        assertThat(problems("DcgmExporter.java", "class DcgmExporter {}")).containsExactly("DcgmExporter.java: named after dcgm");
        assertThat(problems("Health.java", "if (vendor.equals(\"nvidia\"))")).containsExactly("Health.java: mentions nvidia");
        assertThat(problems("RunCommand.java", "// the intelligent amdahl command")).isEmpty();
    }

    static List<String> problems(String fileName, String content) {
        List<String> problems = new ArrayList<>();
        String stem = fileName.replaceFirst("\\.[^.]*$", "");
        Arrays.stream(stem.split("(?<=[a-z])(?=[A-Z])|[^A-Za-z]+"))
                .map(w -> w.toLowerCase(Locale.ROOT))
                .filter(VENDOR_WORDS::contains)
                .forEach(w -> problems.add(fileName + ": named after " + w));
        if (content.toLowerCase(Locale.ROOT).contains("nvidia")) {
            problems.add(fileName + ": mentions nvidia");
        }
        return problems;
    }
}
