package ai.dstack.agent;

import static org.assertj.core.api.Assertions.assertThat;

import ai.dstack.agent.testing.RepoPaths;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The core's packages import one way (README "Layout"): {@code api}/{@code cli} → {@code task} →
 * {@code docker} | {@code pluginhost} | {@code volume} | {@code host} | {@code component} →
 * {@code config} | {@code files} | {@code json} | {@code shell}. A package may use only packages of a lower layer,
 * never one of its own layer or above; the entry point ({@code Main}) wires everything.
 */
class PackageLayersTest {
    /** Layer of each package under {@code ai.dstack.agent}; higher uses lower. */
    static final Map<String, Integer> LAYERS = Map.ofEntries(
            Map.entry("api", 4), Map.entry("cli", 4),
            Map.entry("task", 3),
            Map.entry("docker", 2), Map.entry("pluginhost", 2), Map.entry("volume", 2), Map.entry("host", 2),
            Map.entry("component", 2),
            Map.entry("config", 1), Map.entry("files", 1), Map.entry("json", 1), Map.entry("shell", 1));
    private static final Pattern PACKAGE = Pattern.compile("^package ai\\.dstack\\.agent\\.(\\w+)", Pattern.MULTILINE);
    private static final Pattern REFERENCE = Pattern.compile("\\bai\\.dstack\\.agent\\.([a-z]\\w*)\\.");

    static Path mainSources() {
        return RepoPaths.root().resolve("agent-core/src/main/java");
    }

    @Test
    void everyArrowPointsDown() throws IOException {
        List<String> problems = new ArrayList<>();
        try (Stream<Path> files = Files.walk(mainSources())) {
            for (Path file : files.filter(p -> p.toString().endsWith(".java")).toList()) {
                problems.addAll(violations(file.getFileName().toString(), Files.readString(file)));
            }
        }
        assertThat(problems).as("imports that point sideways or up, or packages without a layer").isEmpty();
    }

    @Test
    void theRuleRefusesArrowsUpAndSideways() {
        assertThat(violations("ContainerPlanner.java", "package ai.dstack.agent.docker;\nimport ai.dstack.agent.task.TaskSpec;"))
                .containsExactly("ContainerPlanner.java: docker → task");
        assertThat(violations("PluginRuntime.java", "package ai.dstack.agent.pluginhost;\nimport ai.dstack.agent.volume.VolumeManager;"))
                .containsExactly("PluginRuntime.java: pluginhost → volume");
        assertThat(violations("Pipeline.java", "package ai.dstack.agent.task;\nimport ai.dstack.agent.docker.Engine;\n"
                + "import ai.dstack.agent.spi.Device;\nimport ai.dstack.agent.config.Waits;")).isEmpty();
        assertThat(violations("X.java", "package ai.dstack.agent.newthing;")).containsExactly("X.java: package newthing has no layer");
    }

    /** What in one source file breaks the layering. */
    static List<String> violations(String fileName, String source) {
        List<String> problems = new ArrayList<>();
        Matcher own = PACKAGE.matcher(source);
        if (!own.find()) {
            return problems; // the entry point's package wires everything
        }
        String from = own.group(1);
        Integer fromLayer = LAYERS.get(from);
        if (fromLayer == null) {
            problems.add(fileName + ": package " + from + " has no layer");
            return problems;
        }
        Matcher ref = REFERENCE.matcher(source.substring(own.end()));
        while (ref.find()) {
            String to = ref.group(1);
            if (to.equals(from) || to.equals("spi")) {
                continue;
            }
            Integer layer = LAYERS.get(to);
            if (layer == null || layer >= fromLayer) {
                problems.add(fileName + ": " + from + " → " + to);
            }
        }
        return problems.stream().distinct().toList();
    }
}
