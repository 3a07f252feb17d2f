package io.nfscsi.controller;

import io.nfscsi.concurrent.Deadline;
import io.nfscsi.concurrent.TreeWorkPool;
import io.nfscsi.error.CsiException;
import io.nfscsi.metrics.DriverMetrics;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
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
    /** How long before the caller's deadline a wait for a job gives up and answers "still running". */
    static final Duration ANSWER_MARGIN = Duration.ofMillis(500);

    /** Work that reports progress through the job it runs in. */
    @FunctionalInterface
    interface Work {
        void run(Job job) throws Exception;
    }

    /** Thrown inside a job's work once the job is cancelled: its object was deleted. */
    static final class CancelledException extends java.util.concurrent.CancellationException {
        CancelledException(String what) {
            super(what + " was cancelled: its object was deleted");
        }
    }

    /** One running or finished piece of work. */
    static final class Job {
        final String key;
        /** snapshot, restore or clone: the {@code kind} label of the job's metrics. */
        final String kind;
        /** The object the job makes (a snapshot's or volume's name): the {@code job} label of its progress. */
        final String name;
        final String what;
        /** What the work was started for (a volume's content source), for telling a different request apart. */
        final String tag;
        final Instant started;
        final AtomicLong entries = new AtomicLong();
        final AtomicLong bytes = new AtomicLong();
        final CompletableFuture<Void> done = new CompletableFuture<>();
        /** Completed when the job is cancelled; tests wait on it. */
        final CompletableFuture<Void> cancelled = new CompletableFuture<>();
        volatile Thread thread;
        private final java.util.function.Consumer<Job> hook;
        private final DriverMetrics metrics;
        /** What the metrics have counted of this job so far: they are told the increments. */
        private long countedEntries;
        private long countedBytes;
        /** The size of the job's input where it is known ({@link #expect}), and how much of it has been read. */
        private volatile long inputTotal = -1;
        private volatile LongSupplier inputRead = () -> 0;
        /** For work that counts on its own ({@link Jobs#track}): its count of entries so far. */
        private volatile LongSupplier live;
        /** Checked on every progress report and before the commit: the job's hold on its object (Ownership). */
        private volatile Runnable guard = () -> { };

        Job(String key, String kind, String name, String what, String tag, Instant started,
            java.util.function.Consumer<Job> hook, DriverMetrics metrics) {
            this.key = key;
            this.kind = kind;
            this.name = name;
            this.what = what;
            this.tag = tag;
            this.started = started;
            this.hook = hook;
            this.metrics = metrics;
        }

        /** Progress reporting for the work: totals so far. Stops the work once the job is cancelled. */
        void progress(long entryCount, long byteCount) {
            entries.set(entryCount);
            bytes.set(byteCount);
            synchronized (this) {
                metrics.jobProgressed(kind, entryCount - countedEntries, byteCount - countedBytes);
                countedEntries = Math.max(countedEntries, entryCount);
                countedBytes = Math.max(countedBytes, byteCount);
            }
            hook.accept(this);
            checkCancelled();
            guard.run();
        }

        /**
         * Says that the work reads {@code total} bytes of input in all, and {@code read} tells how many so far: the
         * progress then has a percentage.
         */
        void expect(long total, LongSupplier read) {
            inputRead = read;
            inputTotal = total;
        }

        /** How much of its input the job has read, 0 to 1; negative when the total is not known. */
        double ratio() {
            long total = inputTotal;
            if (total < 0) {
                return -1;
            }
            return total == 0 ? 1 : Math.clamp((double) inputRead.getAsLong() / total, 0, 1);
        }

        /** Makes every progress report and the commit run {@code check}, which stops the work by throwing. */
        void guardWith(Runnable check) {
            guard = check;
        }

        boolean isCancelled() {
            return cancelled.isDone();
        }

        void checkCancelled() {
            if (isCancelled()) {
                throw new CancelledException(what);
            }
        }

        /**
         * Runs the work's last write (the record that makes its object visible) unless the job is cancelled, and
         * atomically with respect to {@link #cancel}: either the write happens before the cancel, and the delete
         * that cancelled sees it, or it never happens.
         *
         * @throws CancelledException when the job was cancelled
         */
        synchronized void commit(Runnable write) {
            checkCancelled();
            guard.run();
            write.run();
        }

        private synchronized void cancel() {
            cancelled.complete(null);
            Thread t = thread;
            if (t != null) {
                t.interrupt();
            }
        }

        private synchronized void clearThread() {
            thread = null;
            Thread.interrupted(); // a cancel's interrupt must not reach the pool thread's next job
        }

        String describe(Clock clock) {
            refresh();
            double ratio = ratio();
            return what + ": " + entries.get() + " entries, " + bytes.get() / (1 << 20) + " MiB"
                    + (ratio >= 0 ? String.format(Locale.ROOT, " (%d%% of %d MiB of input read)",
                            (int) Math.floor(ratio * 100), inputTotal / (1 << 20)) : "")
                    + " after " + Duration.between(started, clock.instant()).toSeconds() + "s";
        }

        /** Tracked work: its count of entries is read from {@code entries} from now on. */
        void follow(LongSupplier entries) {
            live = entries;
        }

        private void refresh() {
            LongSupplier l = live;
            if (l != null) {
                entries.set(l.getAsLong());
            }
        }

        DriverMetrics.JobProgress snapshot() {
            refresh();
            return new DriverMetrics.JobProgress(kind, name, entries.get(), bytes.get(), ratio());
        }
    }

    private final Map<String, Job> jobs = new ConcurrentHashMap<>();
    /** Long work that runs in a call, not in the background (a delete of a big tree): reported as jobs are. */
    private final Set<Job> tracked = ConcurrentHashMap.newKeySet();
    private final Clock clock;
    /** Runs the work on its platform threads: the work makes native calls that would pin a virtual thread's carrier. */
    private final TreeWorkPool treeWork;
    /** Called on every progress report, before the cancel check; tests slow a job down with it. */
    private final java.util.function.Consumer<Job> progressHook;
    private final DriverMetrics metrics;

    Jobs(Clock clock, TreeWorkPool treeWork) {
        this(clock, treeWork, job -> { });
    }

    Jobs(Clock clock, TreeWorkPool treeWork, java.util.function.Consumer<Job> progressHook) {
        this(clock, treeWork, progressHook, DriverMetrics.unexported());
    }

    Jobs(Clock clock, TreeWorkPool treeWork, DriverMetrics metrics) {
        this(clock, treeWork, job -> { }, metrics);
    }

    Jobs(Clock clock, TreeWorkPool treeWork, java.util.function.Consumer<Job> progressHook, DriverMetrics metrics) {
        this.clock = clock;
        this.treeWork = treeWork;
        this.progressHook = progressHook;
        this.metrics = metrics;
        metrics.jobs("controller", () -> java.util.stream.Stream.concat(
                jobs.values().stream().filter(j -> !j.done.isDone()), tracked.stream()).map(Job::snapshot).toList());
        ScheduledExecutorService reporter = Executors.newSingleThreadScheduledExecutor(
                r -> Thread.ofPlatform().daemon().name("job-progress").unstarted(r));
        reporter.scheduleWithFixedDelay(this::report, PROGRESS_INTERVAL.toSeconds(), PROGRESS_INTERVAL.toSeconds(),
                TimeUnit.SECONDS);
    }

    /** The job running under {@code key}, starting {@code work} if there is none. */
    Job start(String key, String what, Work work) {
        return start(key, "other", key, what, "", work);
    }

    /**
     * As {@link #start(String, String, Work)}, remembering {@code tag} with the job; {@code kind} and {@code name}
     * label its metrics.
     */
    Job start(String key, String kind, String name, String what, String tag, Work work) {
        Job existing = jobs.get(key);
        if (existing != null) {
            return existing;
        }
        Job job = new Job(key, kind, name, what, tag, clock.instant(), progressHook, metrics);
        Job raced = jobs.putIfAbsent(key, job);
        if (raced != null) {
            return raced;
        }
        metrics.jobStarted(kind);
        treeWork.startJob(() -> {
            Thread self = Thread.currentThread();
            String poolName = self.getName();
            self.setName("job-" + key);
            job.thread = self;
            try {
                work.run(job);
                log.info("{} finished: {}", what, job.describe(clock));
                metrics.jobEnded(kind, "ok");
                job.done.complete(null);
            } catch (Throwable t) {
                if (job.isCancelled()) {
                    log.info("{} stopped: cancelled after {}", what, job.describe(clock));
                    metrics.jobEnded(kind, "cancelled");
                } else {
                    log.warn("{} failed: {}", what, t.toString());
                    metrics.jobEnded(kind, "failed");
                }
                job.done.completeExceptionally(t);
            } finally {
                if (job.isCancelled()) {
                    // nobody awaits a cancelled job: the next start under this key begins afresh
                    jobs.remove(key, job);
                }
                job.clearThread(); // the pool thread moves on: a later cancel must not interrupt its next job
                self.setName(poolName);
            }
        });
        return job;
    }

    /**
     * Work that runs in the calling thread but may take long (a delete of a big tree), reported in the progress log
     * line and the job metrics while it runs: the caller gives it a count to follow ({@link Job#follow}) and ends
     * it with {@link #end}.
     */
    Job track(String kind, String name, String what) {
        Job job = new Job(kind + "\0" + name, kind, name, what, "", clock.instant(), j -> { }, metrics);
        tracked.add(job);
        metrics.jobStarted(kind);
        return job;
    }

    /** Ends tracked work with {@code outcome} (ok, failed, unfinished), counting what it did. */
    void end(Job job, String outcome) {
        if (tracked.remove(job)) {
            job.refresh();
            metrics.jobProgressed(job.kind, job.entries.get(), job.bytes.get());
            metrics.jobEnded(job.kind, outcome);
            if (Duration.between(job.started, clock.instant()).compareTo(PROGRESS_INTERVAL) >= 0) {
                log.info("{} {}: {}", job.what, outcome, job.describe(clock));
            }
        }
    }

    /** The job under {@code key}, running or finished but not yet awaited (its outcome not yet reported). */
    Optional<Job> find(String key) {
        return Optional.ofNullable(jobs.get(key));
    }

    /** A running job whose tag is {@code tag}, if there is one. */
    Optional<Job> runningWithTag(String tag) {
        return jobs.values().stream().filter(j -> !j.done.isDone() && j.tag.equals(tag)).findFirst();
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
            // answer well before the deadline: a reply that arrives after it is lost, and the caller's retry would
            // then find this call still holding the volume's lock
            job.done.get(Math.max(0, deadline.timeRemaining(TimeUnit.NANOSECONDS) - ANSWER_MARGIN.toNanos()),
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

    /**
     * Cancels the job under {@code key}, if there is one, and waits until it has stopped, at most until the
     * deadline. A cancelled job never writes its record ({@link Job#commit}); its own clean-up runs before it
     * stops.
     *
     * @return true when no job runs under the key any more; false when it is still stopping at the deadline
     */
    boolean cancel(String key, Deadline deadline) {
        Job job = jobs.get(key);
        if (job == null) {
            return true;
        }
        job.cancel();
        try {
            job.done.get(Math.max(0, deadline.timeRemaining(TimeUnit.NANOSECONDS) - ANSWER_MARGIN.toNanos()),
                    TimeUnit.NANOSECONDS);
        } catch (ExecutionException | java.util.concurrent.CancellationException e) {
            // cancelled work ends with an exception: it has stopped, which is all the caller needs
        } catch (TimeoutException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
        jobs.remove(key, job);
        return true;
    }

    private void report() {
        for (Job job : jobs.values()) {
            if (!job.done.isDone()) {
                log.info("in progress: {}", job.describe(clock));
            }
        }
        for (Job job : tracked) {
            log.info("in progress: {}", job.describe(clock));
        }
    }
}
