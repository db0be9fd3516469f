package ai.dstack.agent.docker;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

class PullTrackerTest {
    private final ObjectMapper json = new ObjectMapper();

    private void feed(PullTracker t, String... lines) throws Exception {
        for (String line : lines) {
            t.accept(json.readTree(line));
        }
    }

    @Test
    void progressIsSummedOverLayersAndFinalOnceSizesAreKnown() throws Exception {
        PullTracker t = new PullTracker();
        feed(t, "{\"status\":\"Pulling from it/img\",\"id\":\"v1\"}",
                "{\"status\":\"Already exists\",\"id\":\"a\"}",
                "{\"status\":\"Pulling fs layer\",\"id\":\"b\"}");
        assertThat(t.progress()).isEqualTo(new PullProgress(0, 0, 0, false));
        feed(t, "{\"status\":\"Downloading\",\"id\":\"b\",\"progressDetail\":{\"current\":100,\"total\":1000}}");
        assertThat(t.progress()).isEqualTo(new PullProgress(100, 0, 1000, true));
        feed(t, "{\"status\":\"Download complete\",\"id\":\"b\"}",
                "{\"status\":\"Extracting\",\"id\":\"b\",\"progressDetail\":{\"current\":500,\"total\":1000}}");
        assertThat(t.progress()).isEqualTo(new PullProgress(1000, 500, 1000, true));
        feed(t, "{\"status\":\"Pull complete\",\"id\":\"b\"}");
        assertThat(t.progress()).isEqualTo(new PullProgress(1000, 1000, 1000, true));
        assertThat(t.succeeded()).isFalse();
        feed(t, "{\"status\":\"Status: Downloaded newer image for it/img:v1\"}");
        assertThat(t.succeeded()).isTrue();
    }

    @Test
    void errorsAreQuotedAsGoDoes() throws Exception {
        PullTracker t = new PullTracker();
        assertThat(t.progress()).isNull();
        assertThat(t.quotedErrors()).isEqualTo("[]");
        feed(t, "{\"errorDetail\":{\"message\":\"manifest \\\"x\\\" unknown\"},\"error\":\"manifest unknown\"}",
                "{\"errorDetail\":{\"message\":\"second\"}}");
        assertThat(t.quotedErrors()).isEqualTo("[\"manifest \\\"x\\\" unknown\" \"second\"]");
    }

    @Test
    void theProgressMarkMovesOnlyWhenALayerMovesOn() throws Exception {
        PullTracker t = new PullTracker();
        long empty = t.progressMark();
        feed(t, "{\"status\":\"Pulling fs layer\",\"id\":\"b\"}");
        long started = t.progressMark();
        assertThat(started).isNotEqualTo(empty);
        feed(t, "{\"status\":\"Downloading\",\"id\":\"b\",\"progressDetail\":{\"current\":100,\"total\":1000}}");
        long hundred = t.progressMark();
        assertThat(hundred).isNotEqualTo(started);
        // The same figure again is no progress.
        feed(t, "{\"status\":\"Downloading\",\"id\":\"b\",\"progressDetail\":{\"current\":100,\"total\":1000}}");
        assertThat(t.progressMark()).isEqualTo(hundred);
        assertThat(t.unfinishedLayers()).isEqualTo("layer b at 100B of 1kB (Downloading)");
        feed(t, "{\"status\":\"Pull complete\",\"id\":\"b\"}");
        assertThat(t.unfinishedLayers()).isEqualTo("no layer started");
    }

    @Test
    void aPullOutOfSpaceSaysHowMuchTheDataRootHasLeft(@org.junit.jupiter.api.io.TempDir java.nio.file.Path root) {
        assertThat(Engine.spaceHint(root, java.util.List.of("unauthorized"))).isEmpty();
        assertThat(Engine.spaceHint(root, java.util.List.of("write /var/lib/docker/tmp/x: no space left on device")))
                .startsWith("; the engine's data root " + root + " has ").endsWith(" bytes free");
    }
}
