package ai.dstack.agent.docker;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ImageRefTest {
    @ParameterizedTest
    @CsvSource({
            "ubuntu, ubuntu:latest, true",
            "ubuntu:24.04, ubuntu:24.04, false",
            "127.0.0.1:5000/img, 127.0.0.1:5000/img:latest, true",
            "127.0.0.1:5000/team/img:v1, 127.0.0.1:5000/team/img:v1, false",
            "ghcr.io/a/b:latest, ghcr.io/a/b:latest, true",
            "img@sha256:abcd, img@sha256:abcd, false",
            "127.0.0.1:5000/img:v2@sha256:abcd, 127.0.0.1:5000/img:v2@sha256:abcd, false"})
    void tagsAreAddedAsDockerDoes(String given, String canonical, boolean floating) {
        ImageRef ref = ImageRef.parse(given);
        assertThat(ref.canonical()).isEqualTo(canonical);
        assertThat(ref.floating()).isEqualTo(floating);
    }

    @ParameterizedTest
    @CsvSource({"127.0.0.1:5000/img, 127.0.0.1:5000/img, latest", "img@sha256:abcd, img, sha256:abcd"})
    void pullParametersSplitRepositoryAndTagOrDigest(String given, String repository, String tag) {
        ImageRef ref = ImageRef.parse(given);
        assertThat(ref.repository()).isEqualTo(repository);
        assertThat(ref.pullTag()).isEqualTo(tag);
    }
}
