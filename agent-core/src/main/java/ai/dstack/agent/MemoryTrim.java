package ai.dstack.agent;

import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.time.Duration;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Gives heap freed by past work back to the system. The serial collector (agent-core/src/main/launcher/jvm.options)
 * shrinks the heap only at a full collection, which an idle shim never reaches on its own, so its RSS would
 * stay at the peak of its busiest moment. Every interval, if the heap was used since the last look (a
 * collection ran or 2 MiB more is in use; the first look always), one full collection shrinks it to the live data plus at most
 * MaxHeapFreeRatio (10 %); a shim that did nothing is left alone.
 */
final class MemoryTrim implements Runnable {
    private static final long USED_GROWTH = 2L << 20;
    private final MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
    // The first look always collects: what the start allocated is garbage by then.
    private long collections = -1;
    private long usedAfter;

    static void schedule(ScheduledExecutorService timer, Duration interval) {
        if (!interval.isZero()) {
            timer.scheduleWithFixedDelay(new MemoryTrim(), interval.toMillis(), interval.toMillis(), TimeUnit.MILLISECONDS);
        }
    }

    @Override
    public void run() {
        if (collections() == collections && memory.getHeapMemoryUsage().getUsed() - usedAfter < USED_GROWTH) {
            return;
        }
        System.gc();
        collections = collections();
        usedAfter = memory.getHeapMemoryUsage().getUsed();
    }

    private static long collections() {
        long n = 0;
        for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
            n += Math.max(0, gc.getCollectionCount());
        }
        return n;
    }
}
