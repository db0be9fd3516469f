package ai.dstack.agent.api;

import static org.assertj.core.api.Assertions.assertThat;

import ai.dstack.agent.testing.ApiClient;
import ai.dstack.agent.testing.ShimProcess;
import ai.dstack.agent.testing.fuzz.FuzzRun;
import ai.dstack.agent.testing.fuzz.Rss;
import ai.dstack.agent.testing.fuzz.ShimFuzz;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Hostile and broken input against the real shim process (docs/api-errors.md): a few thousand
 * deterministic raw-socket requests over every endpoint, each judged by its family's oracle (a 4xx
 * with a one-line message or, where the body cannot be read, a closed connection; 2xx only for what
 * the contract calls valid), then the shim must still run and hold exactly the tasks it accepted, and
 * once those are removed nothing is left of them. {@code -Dfuzz.only=1234} replays single cases,
 * {@code -Dfuzz.count} and {@code -Dfuzz.seed} change the run.
 */
class ShimFuzzIT {
    @TempDir
    Path tmp;

    @Test
    void malformedRequestsGetA4xxAndLeaveNothingBehind() throws IOException {
        long seed = Long.getLong("fuzz.seed", ShimFuzz.DEFAULT_SEED);
        List<Integer> indices = FuzzRun.selected(3000);
        Path noPlugins = Files.createDirectories(tmp.resolve("no-plugins"));
        try (ShimProcess shim = ShimProcess.builder(tmp).args("--plugins-dir", noPlugins.toString()).start()) {
            ApiClient api = shim.api();
            long rssBefore = Rss.mib(shim.pid());
            FuzzRun.Result result = FuzzRun.run(shim.port(), new ShimFuzz(seed)::at, indices, Duration.ofSeconds(30));
            long rssAfter = Rss.mib(shim.pid());

            System.out.println(result.report("shim", seed, rssBefore, rssAfter));

            assertThat(shim.alive()).as("the shim survived the run").isTrue();
            assertThat(api.get("/api/healthcheck").status()).isEqualTo(200);
            // Exactly the tasks whose submit was accepted: nothing half-created by a rejected one.
            Set<String> listed = new TreeSet<>();
            for (JsonNode t : api.get("/api/tasks").json().get("tasks")) {
                listed.add(t.get("id").asText());
            }
            assertThat(listed).as("tasks the shim holds").isEqualTo(new TreeSet<>(result.created()));
            for (String id : listed) {
                api.post("/api/tasks/" + id + "/terminate", "{\"timeout\":0}");
                assertThat(api.post("/api/tasks/" + id + "/remove", "").status()).as("remove " + id).isEqualTo(200);
            }
            assertThat(entries(shim.home().resolve("tasks"))).as("task files left").isEmpty();
            assertThat(entries(shim.home().resolve("runners"))).as("runner dirs left").isEmpty();
            assertThat(shim.containers()).as("containers left").isEmpty();
            assertThat(escapes()).as("files named by traversal payloads").isEmpty();
            assertThat(result.failures()).as(result.summary()).isEmpty();
        }
    }

    private static List<String> entries(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).toList();
        }
    }

    /** Anything named like a traversal payload, in the test's folder, /, /tmp or /root. */
    private List<Path> escapes() throws IOException {
        List<Path> found = new ArrayList<>();
        try (Stream<Path> s = Files.walk(tmp)) {
            s.filter(p -> p.getFileName().toString().contains("fuzz-escape")).forEach(found::add);
        }
        for (String dir : new String[] {"/", "/tmp", "/root"}) {
            try (Stream<Path> s = Files.list(Path.of(dir))) {
                s.filter(p -> p.getFileName().toString().contains("fuzz-escape")).forEach(found::add);
            }
        }
        return found;
    }
}
