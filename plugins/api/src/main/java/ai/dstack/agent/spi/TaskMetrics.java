package ai.dstack.agent.spi;

import java.io.IOException;
import java.util.Collection;

/**
 * A vendor's per-task metrics source, opened by {@link AcceleratorPlugin#openTaskMetrics} (e.g. an
 * exporter process the plugin started). The core asks it for the devices a task holds and serves the
 * text as is; it caches nothing itself.
 */
public interface TaskMetrics extends AutoCloseable {
    /**
     * Prometheus text of the samples that belong to the devices with these resource ids, "" for none.
     *
     * @throws IOException when the source cannot be read now (the core answers 502 with the message)
     */
    String scrape(Collection<String> deviceIds) throws IOException;

    /** Stops whatever the source runs; called once, at shutdown. */
    @Override
    void close();
}
