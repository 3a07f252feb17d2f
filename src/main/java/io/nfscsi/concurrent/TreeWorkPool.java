package io.nfscsi.concurrent;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinWorkerThread;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The one pool for all background tree work of the driver (clone, restore, delete, archive), created once at
 * start-up and handed down. Every thread in it is a platform thread: this work makes native read, write and openat
 * calls, which on a virtual thread would pin its carrier, and a few stuck on a hung NFS server would stall every
 * gRPC call. Everything is capped globally, whatever the number of operations:
 *
 * <ul>
 *   <li>threads: {@link Limits#jobThreads()} run jobs (the thread that archives, restores, or waits for a walk),
 *       as many read ahead of restores, {@link Limits#walkThreads()} run the tasks of parallel tree walks
 *       (LIFO per thread, so depth-first), {@link Limits#compressionThreads()} compress. A job beyond the cap
 *       waits in a queue for a thread; a walk's tasks share the walkers with every other walk.</li>
 *   <li>open directory handles: a walk or an archive leases its handle budget from {@link #handles()} before it
 *       starts, and waits for it when others hold it.</li>
 *   <li>buffered bytes: compressed blocks in flight and read-ahead chunks are leased from {@link #buffers()}.</li>
 * </ul>
 */
public final class TreeWorkPool implements AutoCloseable {

    /** A megabyte, in bytes. */
    public static final long MIB = 1L << 20;

    /**
     * The caps.
     *
     * @param jobThreads         jobs that run at once; more wait for a thread
     * @param walkThreads        tasks of tree walks (file-system calls) in flight across every walk
     * @param compressionThreads blocks compressed at once across every archive
     * @param handles            open directory handles leased at once across every walk and archive
     * @param bufferBytes        bytes of compression blocks and read-ahead chunks leased at once
     */
    public record Limits(int jobThreads, int walkThreads, int compressionThreads, int handles, long bufferBytes) {

        /** Jobs that run at once by default: with as many read-ahead threads, a fixed part of the thread cap. */
        public static final int DEFAULT_JOB_THREADS = 8;
        public static final int DEFAULT_HANDLES = 4096;
        public static final long DEFAULT_BUFFER_BYTES = 64 * MIB;
        /** Enough for one compression block (1 MiB in, up to as much again out) or one read-ahead lease. */
        public static final long MIN_BUFFER_BYTES = 4 * MIB;

        public Limits {
            if (jobThreads < 1 || walkThreads < 1 || compressionThreads < 1 || handles < 1) {
                throw new IllegalArgumentException("tree work pool: every thread count and the handle cap must be at "
                        + "least 1: " + jobThreads + " jobs, " + walkThreads + " walkers, " + compressionThreads
                        + " compressors, " + handles + " handles");
            }
            if (bufferBytes < MIN_BUFFER_BYTES) {
                throw new IllegalArgumentException("tree work pool: buffer bytes must be at least " + MIN_BUFFER_BYTES);
            }
        }

        /** The defaults, with the two thread counts that flags set. */
        public static Limits of(int walkThreads, int compressionThreads) {
            return new Limits(DEFAULT_JOB_THREADS, walkThreads, compressionThreads, DEFAULT_HANDLES,
                    DEFAULT_BUFFER_BYTES);
        }

        /** The most threads the pool ever has. */
        public int maxThreads() {
            return 2 * jobThreads + walkThreads + compressionThreads;
        }
    }

    private final Limits limits;
    private final ThreadPoolExecutor jobs;
    private final ThreadPoolExecutor readers;
    private final ForkJoinPool walkers;
    private final ThreadPoolExecutor compressors;
    private final Budget handles;
    private final Budget buffers;
    private final AtomicInteger liveThreads = new AtomicInteger();
    private final AtomicInteger peakThreads = new AtomicInteger();

    public TreeWorkPool(Limits limits) {
        this.limits = limits;
        this.jobs = fixed(limits.jobThreads(), "tree-job-");
        this.readers = fixed(limits.jobThreads(), "tree-read-ahead-");
        this.compressors = fixed(limits.compressionThreads(), "tree-compress-");
        AtomicInteger walker = new AtomicInteger();
        // maximumPoolSize = parallelism and a saturate predicate that accepts: a walker that blocks (a hard link
        // waiting for its first name's copy) never gets a compensating thread beyond the cap.
        this.walkers = new ForkJoinPool(limits.walkThreads(), pool -> {
            ForkJoinWorkerThread t = new ForkJoinWorkerThread(null, pool, true) {
                @Override
                protected void onStart() {
                    super.onStart();
                    started();
                }

                @Override
                protected void onTermination(Throwable exception) {
                    liveThreads.decrementAndGet();
                    super.onTermination(exception);
                }
            };
            t.setName("tree-walk-" + walker.incrementAndGet());
            t.setDaemon(true);
            return t;
        }, null, false, 0, limits.walkThreads(), 1, pool -> true, 60, TimeUnit.SECONDS);
        this.handles = new Budget("open directory handles", limits.handles());
        this.buffers = new Budget("buffered bytes", limits.bufferBytes());
    }

    private ThreadPoolExecutor fixed(int threads, String prefix) {
        AtomicInteger n = new AtomicInteger();
        ThreadFactory factory = r -> Thread.ofPlatform().daemon().name(prefix + n.incrementAndGet()).unstarted(() -> {
            started();
            try {
                r.run();
            } finally {
                liveThreads.decrementAndGet();
            }
        });
        ThreadPoolExecutor executor = new ThreadPoolExecutor(threads, threads, 60, TimeUnit.SECONDS,
                new LinkedBlockingQueue<>(), factory);
        executor.allowCoreThreadTimeOut(true); // an idle driver keeps no threads
        return executor;
    }

    private void started() {
        peakThreads.accumulateAndGet(liveThreads.incrementAndGet(), Math::max);
    }

    public Limits limits() {
        return limits;
    }

    /** Runs {@code job} on a job thread, when one is free. */
    public void startJob(Runnable job) {
        jobs.execute(job);
    }

    /** Runs a read-ahead loop, one per running restore: never waits behind the jobs it serves. */
    public void startReadAhead(Runnable reader) {
        readers.execute(reader);
    }

    /** The walkers: a task forked from a walker goes to its own queue, LIFO, hence depth-first. */
    public ForkJoinPool walkers() {
        return walkers;
    }

    /** The compressing threads, shared by every archive. */
    public ExecutorService compressors() {
        return compressors;
    }

    public int compressionThreads() {
        return limits.compressionThreads();
    }

    /** Open directory handles, leased by walks and archives. */
    public Budget handles() {
        return handles;
    }

    /** Bytes of compression blocks and read-ahead chunks. */
    public Budget buffers() {
        return buffers;
    }

    /** Threads of the pool alive now. */
    public int liveThreads() {
        return liveThreads.get();
    }

    /** The most threads of the pool that were alive at once. */
    public int peakThreads() {
        return peakThreads.get();
    }

    /** Stops taking work; threads end once their current task does (a call stuck in the kernel keeps its thread). */
    @Override
    public void close() {
        jobs.shutdownNow();
        readers.shutdownNow();
        compressors.shutdownNow();
        walkers.shutdownNow();
    }
}
