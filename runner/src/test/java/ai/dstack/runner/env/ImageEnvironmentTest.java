package ai.dstack.runner.env;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The launcher's locale variables are undone: the image's own values come back, absent ones go. */
class ImageEnvironmentTest {
    @AfterEach
    void clear() {
        System.clearProperty("dstack.runner.image.LC_ALL");
        System.clearProperty("dstack.runner.image.LOCPATH");
    }

    @Test
    void theImagesOwnValuesComeBackAndUnsetOnesAreRemoved() {
        System.setProperty("dstack.runner.image.LC_ALL", "=de_DE.UTF-8");
        System.setProperty("dstack.runner.image.LOCPATH", "unset");
        Map<String, String> env = new HashMap<>(Map.of("LC_ALL", "C.UTF-8", "LOCPATH", "/opt/dstack-runner/locale",
                "GREET", "héllo"));
        ImageEnvironment.restore(env);
        assertThat(env).isEqualTo(Map.of("LC_ALL", "de_DE.UTF-8", "GREET", "héllo"));
    }

    @Test
    void anEmptyImageValueStaysEmptyAndWithoutTheLauncherNothingChanges() {
        System.setProperty("dstack.runner.image.LC_ALL", "=");
        Map<String, String> env = new HashMap<>(Map.of("LC_ALL", "C.UTF-8", "LOCPATH", "/somewhere"));
        ImageEnvironment.restore(env);
        assertThat(env).isEqualTo(Map.of("LC_ALL", "", "LOCPATH", "/somewhere"));
    }
}
