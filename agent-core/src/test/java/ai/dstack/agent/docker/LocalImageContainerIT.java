package ai.dstack.agent.docker;

import static org.assertj.core.api.Assertions.assertThat;

import ai.dstack.agent.testing.Docker;
import ai.dstack.agent.testing.LocalImages;
import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.async.ResultCallback;
import com.github.dockerjava.api.model.Frame;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The locally built images start real containers through docker-java and their output comes back. */
class LocalImageContainerIT {
    private final DockerClient docker = Docker.client();

    @ParameterizedTest
    @ValueSource(strings = {LocalImages.BASE, LocalImages.BUSYBOX})
    void containerFromLocalImagePrintsItsOutput(String image) throws Exception {
        String id = docker.createContainerCmd(image)
                .withCmd("/bin/sh", "-c", "echo hello from $(cat /etc/hostname | head -c 0)container; id -u")
                .withLabels(java.util.Map.of("ai.dstack.agent.test", "true"))
                .exec().getId();
        try {
            docker.startContainerCmd(id).exec();
            int exit = docker.waitContainerCmd(id).start().awaitStatusCode(60, TimeUnit.SECONDS);
            StringBuilder out = new StringBuilder();
            docker.logContainerCmd(id).withStdOut(true).withStdErr(true)
                    .exec(new ResultCallback.Adapter<Frame>() {
                        @Override
                        public void onNext(Frame frame) {
                            out.append(new String(frame.getPayload()));
                        }
                    }).awaitCompletion(30, TimeUnit.SECONDS);
            assertThat(exit).isZero();
            assertThat(out.toString()).contains("hello from container").contains("0");
        } finally {
            docker.removeContainerCmd(id).withForce(true).exec();
        }
    }
}
