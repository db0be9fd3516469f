package ai.dstack.agent.config;

import static org.assertj.core.api.Assertions.assertThat;

import ai.dstack.agent.testing.RepoPaths;
import java.nio.file.Files;
import org.junit.jupiter.api.Test;

/** The README's configuration table lists every flag with its env var and default. */
class ReadmeConfigTableTest {
    @Test
    void everyFlagIsDocumented() throws Exception {
        String readme = Files.readString(RepoPaths.root().resolve("agent-core/README.md"));
        for (FlagSpec f : ShimFlags.ALL) {
            assertThat(readme).contains("| `--" + f.name() + "` | `" + f.env() + "` |");
            if (!f.defaultValue().isEmpty()) {
                assertThat(readme).contains("`" + f.defaultValue() + "`");
            }
        }
    }
}
