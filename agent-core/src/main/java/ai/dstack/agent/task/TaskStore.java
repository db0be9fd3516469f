package ai.dstack.agent.task;

import ai.dstack.agent.files.AtomicFiles;
import ai.dstack.agent.json.StrictJson;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.logging.Logger;

/**
 * Task state on disk: {@code <home>/tasks/<id>.json}, mode 0600 (it holds registry passwords), one
 * atomic write per change. Never inside the runner dir, which the job can write to.
 */
public final class TaskStore {
    private static final Logger LOG = Logger.getLogger(TaskStore.class.getName());
    private final Path dir;

    public TaskStore(Path dir) {
        this.dir = dir;
    }

    public void save(TaskState state) throws IOException {
        AtomicFiles.write(file(state.id()), StrictJson.mapper().writeValueAsBytes(state), "rw-------");
    }

    public void delete(String id) throws IOException {
        if (Files.deleteIfExists(file(id))) {
            AtomicFiles.syncDirectory(dir);
        }
    }

    /** Every readable task file; a corrupt one is moved aside to {@code <id>.json.corrupt-<millis>} and logged. */
    public List<TaskState> loadAll() throws IOException {
        List<TaskState> states = new ArrayList<>();
        if (!Files.isDirectory(dir)) {
            return states;
        }
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, "*.json")) {
            for (Path f : files) {
                try {
                    TaskState state = StrictJson.mapper().readValue(f.toFile(), TaskState.class);
                    if (state == null || state.spec() == null || !f.getFileName().toString().equals(state.id() + ".json")) {
                        throw new IOException("not a task state");
                    }
                    states.add(state);
                } catch (IOException | RuntimeException e) {
                    Path aside = f.resolveSibling(f.getFileName() + ".corrupt-" + System.currentTimeMillis());
                    LOG.warning("task file " + f + " is unreadable (" + e.getMessage().lines().findFirst().orElse("")
                                + "); moved aside to " + aside);
                    Files.move(f, aside, StandardCopyOption.REPLACE_EXISTING);
                }
            }
        }
        return states;
    }

    private Path file(String id) {
        return dir.resolve(id + ".json");
    }
}
