package ai.dstack.agent.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class CliPartsTest {
    @Test
    void optionsStopAtDoubleDashAndTheRestIsTheCommand() {
        CliArgs args = CliArgs.parse(List.of("--image", "img", "--gpu=2", "--", "echo", "--image"),
                RunCommand.VALUED, Set.of());
        assertThat(args.get("image", null)).isEqualTo("img");
        assertThat(args.intValue("gpu", 0)).isEqualTo(2);
        assertThat(args.words()).containsExactly("echo", "--image");
    }

    @Test
    void unknownOptionsAndMissingValuesAreRefused() {
        assertThatThrownBy(() -> CliArgs.parse(List.of("--nope"), RunCommand.VALUED, Set.of()))
                .hasMessageContaining("unknown option --nope");
        assertThatThrownBy(() -> CliArgs.parse(List.of("--image"), RunCommand.VALUED, Set.of()))
                .hasMessageContaining("needs a value");
    }

    @Test
    void sizesUseBinaryUnits() {
        assertThat(Sizes.parseBytes("512M")).isEqualTo(512L << 20);
        assertThat(Sizes.parseBytes("2Gi")).isEqualTo(2L << 30);
        assertThat(Sizes.parseBytes("1024")).isEqualTo(1024);
        assertThat(Sizes.human(1536)).isEqualTo("1.5 KB");
        assertThatThrownBy(() -> Sizes.parseBytes("lots")).hasMessageContaining("not a size");
    }
}
