package io.nfscsi.fs;

import static java.util.concurrent.TimeUnit.NANOSECONDS;

import io.nfscsi.concurrent.Deadline;
import io.nfscsi.error.CsiException;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.atomic.AtomicReference;

/**
 * What a parallel tree walk ({@link ParallelCopy}, {@link ParallelDelete}) needs besides its own work: a pool of
 * platform threads, the first failure (later ones are dropped), the latch the last task opens, the deadline checked
 * between file-system calls, and the end of the pool, which may outlive a thread blocked in the kernel.
 */
final class RunControl {

    /** How long the end of a run waits for tasks still in a system call before it leaves them to finish alone. */
    private static final Duration STRAGGLERS = Duration.ofSeconds(1);

    /** Thrown to unwind a task once the run has failed; the failure itself is recorded in {@code failure}. */
    static final class Stopped extends RuntimeException {
        Stopped() {
            super(null, null, false, false);
        }
    }

    static final Stopped STOPPED = new Stopped();

    /** Stands for an expired deadline in {@code failure}; the message is written at the end, with final counts. */
    static final Throwable DEADLINE = new Stopped();

    @FunctionalInterface
    interface Step {
        void run() throws IOException;
    }

    private final String context;
    private final Deadline deadline;
    private final ForkJoinPool pool;
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    private final CountDownLatch finished = new CountDownLatch(1);

    RunControl(String context, Deadline deadline, int parallelism) {
        this.context = context;
        this.deadline = deadline;
        this.pool = new ForkJoinPool(parallelism, ForkJoinPool.defaultForkJoinWorkerThreadFactory, null, false);
    }

    /** The first failure, or null while none happened. */
    Throwable failure() {
        return failure.get();
    }

    /** The work is complete. */
    void finish() {
        finished.countDown();
    }

    /** Waits up to {@code nanos} for the work to finish or fail; true if it did. */
    boolean awaitFinished(long nanos) throws InterruptedException {
        return finished.await(Math.max(0, nanos), NANOSECONDS);
    }

    void fail(Throwable t) {
        failure.compareAndSet(null, t);
        finished.countDown();
    }

    /** Called before each file-system call: stops the task once the run has failed or the deadline passed. */
    void checkpoint() {
        if (failure.get() != null) {
            throw STOPPED;
        }
        if (deadline.isExpired()) {
            fail(DEADLINE);
            throw STOPPED;
        }
    }

    void fork(Step step) {
        // Called from a worker, execute() pushes onto that worker's own queue: LIFO, hence depth-first.
        pool.execute(() -> {
            try {
                checkpoint();
                step.run();
            } catch (Stopped e) {
                // the failure that stopped us is already recorded
            } catch (IOException | RuntimeException | Error e) {
                fail(e);
            }
        });
    }

    /** The exception a failed run ends with; {@code progress} says what was done, for the message. */
    CsiException describe(Throwable failed, String progress) {
        if (failed == DEADLINE) {
            return new CsiException.DeadlineExceeded(context + ": " + progress);
        }
        if (failed instanceof CsiException e) {
            return e;
        }
        if (failed instanceof InterruptedException) {
            return new CsiException.Internal(context + ": interrupted; " + progress, failed);
        }
        return new CsiException.Internal(context + ": " + failed.getMessage() + "; " + progress, failed);
    }

    /**
     * Stops the pool and runs {@code closeAll}: at once when every task has returned, else on a thread of its own
     * once the last task blocked in the kernel returns (closing a handle waits for the calls in progress on it).
     */
    void shutDown(Runnable closeAll, String cleanupThread) {
        pool.shutdown();
        boolean terminated;
        try {
            terminated = pool.awaitTermination(STRAGGLERS.toNanos(), NANOSECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            terminated = false;
        }
        if (terminated) {
            closeAll.run();
        } else {
            Thread.ofPlatform().daemon().name(cleanupThread).start(() -> {
                pool.close(); // waits for termination
                closeAll.run();
            });
        }
    }
}
