package ai.dstack.agent.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.dstack.agent.task.TaskSpec;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** JSON bodies decoded as Go's encoding/json does (docs/api-errors.md): found wrong by the fuzz test. */
class JsonBodyTest {
    private static final String TASK = "{\"id\":\"t1\",\"name\":\"n\",\"image_name\":\"i\"";

    private static TaskSpec submit(byte[] body) throws ApiException {
        return JsonBody.parse(body, TaskSubmitRequest.class).toSpec();
    }

    private static TaskSpec submit(String body) throws ApiException {
        return submit(body.getBytes(StandardCharsets.UTF_8));
    }

    private static int status(String body) {
        try {
            submit(body);
            return 200;
        } catch (ApiException e) {
            return e.status();
        }
    }

    @Test
    void invalidUtf8InsideAStringIsAcceptedAsReplacementCharacters() throws ApiException {
        byte[] body = (TASK + ",\"registry_password\":\"a\u0001b\",\"x\":\"\u0002\"}").getBytes(StandardCharsets.UTF_8);
        body[indexOf(body, (byte) 1)] = (byte) 0xff;
        body[indexOf(body, (byte) 2)] = (byte) 0xc0;
        assertThat(submit(body).registryPassword()).isEqualTo("a\uFFFDb");
    }

    @Test
    void invalidUtf8OutsideStringsABomAndUtf16AreRefused() {
        byte[] between = (TASK + ",\u0001\"x\":1}").getBytes(StandardCharsets.UTF_8);
        between[indexOf(between, (byte) 1)] = (byte) 0xff;
        assertThatThrownBy(() -> submit(between)).isInstanceOf(ApiException.class);
        assertThatThrownBy(() -> submit("\uFEFF" + TASK + "}")).isInstanceOf(ApiException.class);
        assertThatThrownBy(() -> submit((TASK + "}").getBytes(StandardCharsets.UTF_16LE))).isInstanceOf(ApiException.class);
    }

    @Test
    void aKeyGivenTwiceKeepsItsLastValue() throws ApiException {
        assertThat(submit(TASK + ",\"image_name\":\"j\"}").imageName()).isEqualTo("j");
        ComponentsService.InstallRequest install = JsonBody.parse(
                "{\"name\":\"a\",\"url\":\"u1\",\"url\":\"u2\"}".getBytes(StandardCharsets.UTF_8), ComponentsService.InstallRequest.class);
        assertThat(install.url()).isEqualTo("u2");
    }

    @Test
    void nestingUpTo10000LevelsIsAcceptedInUnknownFieldsAndDeeperIsRefused() {
        assertThat(status(TASK + ",\"x\":" + "[".repeat(9000) + "]".repeat(9000) + "}")).isEqualTo(200);
        assertThat(status(TASK + ",\"x\":" + "[".repeat(10_050) + "]".repeat(10_050) + "}")).isEqualTo(400);
    }

    @Test
    void numbersOfAnyLengthAreJsonButMustFitTheirField() {
        assertThat(status(TASK + ",\"x\":1" + "0".repeat(5000) + "}")).isEqualTo(200);
        assertThat(status(TASK + ",\"gpu\":1" + "0".repeat(5000) + "}")).isEqualTo(400);
    }

    @Test
    void cpuMustBeFinite() {
        assertThat(status(TASK + ",\"cpu\":1e309}")).isEqualTo(400);
        assertThat(status(TASK + ",\"cpu\":1e300}")).isEqualTo(400);
        assertThat(status(TASK + ",\"cpu\":0.5}")).isEqualTo(200);
    }

    @Test
    void aVolumeNameWithAControlCharacterIsRefused() {
        assertThat(status(TASK + ",\"volume_mounts\":[{\"name\":\"a\\u0000b\",\"path\":\"/v\"}]}")).isEqualTo(400);
        assertThat(status(TASK + ",\"volumes\":[{\"backend\":\"aws\",\"name\":\"a\\nb\",\"volume_id\":\"v\"}]}")).isEqualTo(400);
    }

    @Test
    void oneLineEscapesControlCharactersAndCutsLongInput() {
        assertThat(Replies.oneLine("a\nb\u0000")).isEqualTo("a\\u000ab\\u0000");
        assertThat(Replies.oneLine("x".repeat(2000))).hasSizeLessThan(600).endsWith("… (2000 characters)");
    }

    private static int indexOf(byte[] b, byte v) {
        for (int i = 0; i < b.length; i++) {
            if (b[i] == v) {
                return i;
            }
        }
        throw new AssertionError();
    }
}
