package io.nfscsi.fs;

import static java.util.concurrent.TimeUnit.NANOSECONDS;

import io.nfscsi.concurrent.Deadline;
import io.nfscsi.concurrent.TreeWorkPool;
import io.nfscsi.error.CsiException;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.atomic.AtomicReference;

/**
 * What a parallel tree walk ({@link ParallelCopy}, {@link ParallelDelete}) needs besides its own work: its tasks on
 * the shared walkers of the {@link TreeWorkPool} (platform threads, shared with every other walk), the first failure
 * (later ones are dropped), the latch the last task opens, the deadline checked between file-system calls, and the
 * end of the walk, which may outlive a task blocked in the kernel.
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
    private final ForkJoinPool walkers;
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    private final CountDownLatch finished = new CountDownLatch(1);
    // guarded by this
    /** Tasks forked and not yet returned. */
    private int tasks;
    /** What the last task to return runs, when the walk ended with tasks still in the kernel. */
    private Runnable cleanup;

    RunControl(String context, Deadline deadline, TreeWorkPool pool) {
        this.context = context;
        this.deadline = deadline;
        this.walkers = pool.walkers();
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
        synchronized (this) {
            tasks++;
        }
        // Called from a walker, execute() pushes onto that walker's own queue: LIFO, hence depth-first.
        walkers.execute(() -> {
            try {
                checkpoint();
                step.run();
            } catch (Stopped e) {
                // the failure that stopped us is already recorded
            } catch (IOException | RuntimeException | Error e) {
                fail(e);
            } finally {
                returned();
            }
        });
    }

    private void returned() {
        Runnable last = null;
        synchronized (this) {
            if (--tasks == 0) {
                notifyAll();
                last = cleanup;
                cleanup = null;
            }
        }
        if (last != null) {
            last.run();
        }
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
     * Ends the walk and runs {@code closeAll}: at once when every task has returned, else on the last task to
     * return, once it comes back from the kernel (closing a handle waits for the calls in progress on it). Tasks
     * still queued find the walk stopped and return at once.
     */
    void shutDown(Runnable closeAll) {
        long end = System.nanoTime() + STRAGGLERS.toNanos();
        synchronized (this) {
            try {
                for (long left = STRAGGLERS.toNanos(); tasks > 0 && left > 0; left = end - System.nanoTime()) {
                    NANOSECONDS.timedWait(this, left);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            if (tasks > 0) {
                cleanup = closeAll;
                return;
            }
        }
        closeAll.run();
    }
}
