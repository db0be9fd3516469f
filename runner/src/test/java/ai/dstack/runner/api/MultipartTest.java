package ai.dstack.runner.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.dstack.runner.job.Submission;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** Upload and submit checks the fuzz test (RunnerFuzzIT) found answered wrongly (docs/api-errors.md). */
class MultipartTest {
    private static Multipart form(String contentType, String body) throws Multipart.BadForm {
        return Multipart.open(contentType, new ByteArrayInputStream(body.getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void aPartCutBeforeItsDelimiterIsTruncatedNotAWholeFile() throws Exception {
        Multipart m = form("multipart/form-data; boundary=b", "--b\r\nContent-Disposition: form-data; name=\"archive\"; filename=\"a\"\r\n\r\npartial");
        Multipart.Part p = m.next();
        assertThatThrownBy(() -> p.content().transferTo(OutputStream.nullOutputStream())).isInstanceOf(Multipart.Truncated.class);
    }

    @Test
    void aBodyCutRightAfterTheDelimiterIsTruncatedToo() throws Exception {
        Multipart m = form("multipart/form-data; boundary=b", "--b\r\nContent-Disposition: form-data; name=\"archive\"; filename=\"a\"\r\n\r\nwhole\r\n--b");
        Multipart.Part p = m.next();
        assertThatThrownBy(() -> p.content().transferTo(OutputStream.nullOutputStream())).isInstanceOf(IOException.class);
    }

    @Test
    void malformedFormsAre400NotA500() {
        assertThatThrownBy(() -> form("multipart/form-data; boundary", "x")).satisfies(e -> assertThat(((Multipart.BadForm) e).status).isEqualTo(400));
        assertThatThrownBy(() -> form("nonsense", "x")).satisfies(e -> assertThat(((Multipart.BadForm) e).status).isEqualTo(400));
        assertThatThrownBy(() -> form("multipart/form-data; boundary=b", "--b\r\nContent-Disposition: form-data; name=\"archive\"").next())
                .satisfies(e -> assertThat(((Multipart.BadForm) e).status).isEqualTo(400));
    }

    @Test
    void fileNamesAreUtf8() throws Exception {
        Multipart m = form("multipart/form-data; boundary=b", "--b\r\nContent-Disposition: form-data; name=\"archive\"; filename=\"\u6587\u4ef6.tar\"\r\n\r\nx\r\n--b--\r\n");
        assertThat(m.next().filename()).isEqualTo("\u6587\u4ef6.tar");
    }

    @Test
    void idsALaterStepCannotUseAreRefusedAtSubmitNamingTheField() throws Exception {
        assertThat(RunnerApi.unusable(submission("{\"run\":{\"run_spec\":{\"repo_id\":\"..\"}}}"))).contains("run.run_spec.repo_id");
        assertThat(RunnerApi.unusable(submission("{\"run\":{\"run_spec\":{\"repo_id\":\"a/b\"}}}"))).contains("run.run_spec.repo_id");
        assertThat(RunnerApi.unusable(submission("{\"job_spec\":{\"file_archives\":[{\"id\":\"../x\",\"path\":\"/p\"}]}}")))
                .contains("job_spec.file_archives[0].id");
        assertThat(RunnerApi.unusable(submission("{\"run\":{\"run_spec\":{\"repo_id\":\"\u00e9t\u00e9\"}}}"))).isNull();
    }

    @Test
    void jsonIsReadAsGoReadsIt() throws Exception {
        // invalid UTF-8 in a string is accepted, a key given twice keeps its last value, UTF-16 is refused
        byte[] body = "{\"run\":{\"run_spec\":{\"repo_id\":\"a\",\"repo_id\":\"b\",\"x\":\"\u0001\"}}}".getBytes(StandardCharsets.UTF_8);
        body[new String(body, StandardCharsets.ISO_8859_1).indexOf('\u0001')] = (byte) 0xff;
        assertThat(Json.readLikeGo(body, Submission.class).repoId()).isEqualTo("b");
        assertThatThrownBy(() -> Json.readLikeGo("{}".getBytes(StandardCharsets.UTF_16LE), Submission.class)).isInstanceOf(IOException.class);
    }

    private static Submission submission(String json) throws IOException {
        return Json.readLikeGo(json.getBytes(StandardCharsets.UTF_8), Submission.class);
    }
}
