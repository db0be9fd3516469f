package ai.dstack.runner.incontainer;

import ai.dstack.runner.metrics.MetricsCollector;
import ai.dstack.runner.ssh.Profile;
import ai.dstack.runner.ssh.Sshd;
import ai.dstack.runner.ssh.SshdSettings;
import ai.dstack.runner.user.JobUser;
import ai.dstack.runner.user.JobUsers;
import ai.dstack.runner.user.UserSpec;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * Runs the runner's building blocks inside a container the way the executor will: {@code serve PORT KEYFILE}
 * starts sshd from the image and writes the job profile, {@code metrics} prints one metrics JSON line,
 * {@code user UID GID NAME GROUP} ({@code -} for null) prints the resolved job user.
 */
public final class Probe {
    private Probe() {
    }

    public static void main(String[] args) throws Exception {
        ObjectMapper json = new ObjectMapper();
        switch (args[0]) {
            case "serve" -> {
                JobUser root = JobUsers.resolve(null, Path.of("/"));
                Sshd sshd = Sshd.start(SshdSettings.standard(Integer.parseInt(args[1]), "INFO",
                        List.of(Files.readString(Path.of(args[2])))));
                sshd.awaitListening(Duration.ofSeconds(30));
                Profile.write(Path.of("/dstack/profile"), Path.of("/etc/profile"),
                        Map.of("GREETING", "hello from the job's env", "DSTACK_WORKING_DIR", "/tmp"), root);
                System.out.println("ready " + sshd.status());
                Thread.sleep(Long.MAX_VALUE);
            }
            case "metrics" -> System.out.println(json.writeValueAsString(MetricsCollector.forSystem(Duration.ofSeconds(5), Duration.ofSeconds(2)).collect()));
            case "user" -> System.out.println(json.writeValueAsString(JobUsers.resolve(new UserSpec(
                    id(args[1]), id(args[2]), name(args[3]), name(args[4])), Path.of("/"))));
            default -> throw new IllegalArgumentException(args[0]);
        }
    }

    private static Long id(String s) {
        return s.equals("-") ? null : Long.parseLong(s);
    }

    private static String name(String s) {
        return s.equals("-") ? null : s;
    }
}
