package ai.dstack.runner.repo;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;

/**
 * The clone child's entry point ({@link CloneProcess}): reads its request from stdin, honours the
 * proxy variables ({@link EnvProxySelector}), sets the repo up and exits 0, or prints one
 * {@code dstack-clone-error:} line and exits 2.
 */
public final class CloneMain {
    private CloneMain() {
    }

    public static void main(String[] args) {
        int status;
        try {
            CloneProcess.Request r = new ObjectMapper().configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false)
                    .readValue(System.in, CloneProcess.Request.class);
            EnvProxySelector.install(System.getenv());
            RemoteRepo.setUp(Path.of(r.repoDir()), r.credentials(), r.spec(), r.diff() == null ? null : Path.of(r.diff()));
            status = 0;
        } catch (RepoSetupException e) {
            System.out.println(CloneProcess.ERROR_PREFIX + e.detail());
            status = 2;
        } catch (Throwable t) { // anything unexpected still ends with a reason
            String m = t.getMessage();
            System.out.println(CloneProcess.ERROR_PREFIX
                    + (m == null || m.isBlank() ? t.getClass().getSimpleName() : t.getClass().getSimpleName() + ": " + m));
            status = 3;
        }
        System.out.flush();
        Runtime.getRuntime().halt(status);
    }
}
