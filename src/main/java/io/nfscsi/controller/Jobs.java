package io.nfscsi.controller;

import io.grpc.Deadline;
import io.nfscsi.error.CsiException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Long work (archiving a snapshot, restoring or cloning a volume) that must not be bound to one call's deadline:
 * the first call starts it in the background, every call with the same key joins it, and a call whose deadline
 * comes first answers "still running" while the work goes on. Running jobs report their progress in the log every
 * ten seconds.
 */
final class Jobs {

    private static final Logger log = LoggerFactory.getLogger(Jobs.class);
    static final Duration PROGRESS_INTERVAL = Duration.ofSeconds(10);

    /** Work that reports progress through the job it runs in. */
    @FunctionalInterface
    interface Work {
        void run(Job job) throws Exception;
    }

    /** One running or finished piece of work. */
    static final class Job {
        final String key;
        final String what;
        final Instant started;
        final AtomicLong entries = new AtomicLong();
        final AtomicLong bytes = new AtomicLong();
        final CompletableFuture<Void> done = new CompletableFuture<>();
        volatile Thread thread;

        Job(String key, String what, Instant started) {
            this.key = key;
            this.what = what;
            this.started = started;
        }

        /** Progress reporting for the work: totals so far. */
        void progress(long entryCount, long byteCount) {
            entries.set(entryCount);
            bytes.set(byteCount);
        }

        String describe(Clock clock) {
            return what + ": " + entries.get() + " entries, " + bytes.get() / (1 << 20) + " MiB after "
                    + Duration.between(started, clock.instant()).toSeconds() + "s";
        }
    }

    private final Map<String, Job> jobs = new ConcurrentHashMap<>();
    private final Clock clock;

    Jobs(Clock clock) {
        this.clock = clock;
        ScheduledExecutorService reporter = Executors.newSingleThreadScheduledExecutor(
                r -> Thread.ofPlatform().daemon().name("job-progress").unstarted(r));
        reporter.scheduleWithFixedDelay(this::report, PROGRESS_INTERVAL.toSeconds(), PROGRESS_INTERVAL.toSeconds(),
                TimeUnit.SECONDS);
    }

    /** The job running under {@code key}, starting {@code work} if there is none. */
    Job start(String key, String what, Work work) {
        Job existing = jobs.get(key);
        if (existing != null) {
            return existing;
        }
        Job job = new Job(key, what, clock.instant());
        Job raced = jobs.putIfAbsent(key, job);
        if (raced != null) {
            return raced;
        }
        Thread.ofVirtual().name("job-" + key).start(() -> {
            job.thread = Thread.currentThread();
            try {
                work.run(job);
                log.info("{} finished: {}", what, job.describe(clock));
                job.done.complete(null);
            } catch (Throwable t) {
                log.warn("{} failed: {}", what, t.toString());
                job.done.completeExceptionally(t);
            }
        });
        return job;
    }

    Optional<Job> running(String key) {
        return Optional.ofNullable(jobs.get(key)).filter(j -> !j.done.isDone());
    }

    /**
     * Waits for the job until the deadline. Returns true when it finished; rethrows its failure (and forgets it,
     * so that the next call starts afresh); returns false while it is still running.
     */
    boolean await(Job job, Deadline deadline) {
        try {
            job.done.get(Math.max(0, deadline.timeRemaining(TimeUnit.NANOSECONDS) - 50_000_000L),
                    TimeUnit.NANOSECONDS);
            jobs.remove(job.key, job);
            return true;
        } catch (TimeoutException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        } catch (ExecutionException e) {
            jobs.remove(job.key, job);
            if (e.getCause() instanceof CsiException ce) {
                throw ce;
            }
            throw new CsiException.Internal(job.what + " failed: " + e.getCause(), e.getCause());
        }
    }

    /** Stops the job under {@code key}, if one runs, and waits a little for it to notice. */
    void cancel(String key) {
        Job job = jobs.remove(key);
        if (job != null && job.thread != null) {
            job.thread.interrupt();
            try {
                job.done.get(5, TimeUnit.SECONDS);
            } catch (Exception ignored) {
                // cancelled work ends with an exception; the caller only needs it to have stopped writing
            }
        }
    }

    private void report() {
        for (Job job : jobs.values()) {
            if (!job.done.isDone()) {
                log.info("in progress: {}", job.describe(clock));
            }
        }
    }
}
