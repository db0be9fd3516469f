package ai.dstack.runner.job;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** Ids as file names in a container without a UTF-8 locale (a UTF-8 archive name answered 500). */
class StoredNamesTest {
    @Test
    void plainIdsAreTheirOwnNameOthersAreEscapedOrHashed() {
        assertThat(StoredNames.of("repo-1.tar")).isEqualTo("repo-1.tar");
        assertThat(StoredNames.of("\u00e9 /")).isEqualTo("%C3%A9%20%2F");
        assertThat(StoredNames.of("\u6587".repeat(100))).startsWith("%%").hasSize(66);
    }
}
