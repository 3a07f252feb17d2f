package io.nfscsi.concurrent;

import io.nfscsi.metrics.DriverMetrics;
import io.nfscsi.mount.MountException;
import java.time.Duration;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Runs a file-system call that may block in the kernel (a stat on a hung NFS mount cannot be interrupted) on a
 * platform thread of its own, and waits for it no longer than a deadline. A call that overstays is abandoned,
 * still blocked, and holds one of a bounded number of slots until the kernel lets it go; when every slot is held
 * new calls fail at once ({@link MountException.Kind#BUSY}, RESOURCE_EXHAUSTED with a retry hint) instead of piling
 * up threads. So the threads of a {@code BoundedIo} never number more than its slots (plus idle ones, which end
 * after a minute).
 *
 * <p>A {@link Lane} caps the calls on one NFS share that were abandoned and are still blocked: once a share whose
 * server stopped answering holds that many, its further calls fail at once ({@link MountException.Kind#UNREACHABLE},
 * UNAVAILABLE) and leave the other slots to the shares that answer.
 *
 * <p>An abandoned call's thread is interrupted: what it does after the blocked step (a write on an interruptible
 * channel, or a step that checks {@link Thread#isInterrupted()}) does not happen once its caller has given up.
 */
public final class BoundedIo {

    /** A file-system call. */
    @FunctionalInterface
    public interface Call<T> {
        T call() throws MountException;
    }

    /**
     * The retry hint when every slot is held. A call blocked in the kernel has no deadline that frees it (it returns
     * when the server answers or the mount is detached), so this is a guess: the order of an NFS client's
     * retransmission timeout.
     */
    static final Duration RETRY_AFTER = Duration.ofSeconds(30);

    private final int maxBlocked;
    private final Semaphore slots;
    private final ExecutorService threads;
    private final DriverMetrics metrics;
    /** Calls abandoned at their deadlines and still blocked in the kernel, in every lane and none. */
    private final AtomicInteger stuck = new AtomicInteger();

    public BoundedIo(int maxBlocked) {
        this(maxBlocked, "unnamed", DriverMetrics.unexported());
    }

    /**
     * @param name    the {@code pool} label of this instance's metrics: its slots in use, its stuck calls, and the
     *                calls its lanes refused without trying
     */
    public BoundedIo(int maxBlocked, String name, DriverMetrics metrics) {
        if (maxBlocked < 1) {
            throw new IllegalArgumentException("maxBlocked must be positive: " + maxBlocked);
        }
        this.maxBlocked = maxBlocked;
        this.slots = new Semaphore(maxBlocked);
        AtomicInteger n = new AtomicInteger();
        // platform threads: a virtual thread blocked in a native call would pin a carrier thread indefinitely
        this.threads = Executors.newCachedThreadPool(r -> Thread.ofPlatform().daemon().name("fs-io-" + n.incrementAndGet())
                .unstarted(r));
        this.metrics = metrics;
        metrics.boundedIo(name, maxBlocked, this::held, stuck::get);
    }

    /** How many calls were abandoned at their deadlines and are still blocked in the kernel, in any lane or none. */
    public int stuck() {
        return stuck.get();
    }

    /** How many calls hold a slot now: running, or abandoned and still blocked in the kernel. */
    public int held() {
        return maxBlocked - slots.availablePermits();
    }

    /**
     * A lane of at most {@code max} slots for the calls on one resource (an NFS share), named {@code name} in errors.
     */
    public Lane lane(String name, int max) {
        return lane(name, name, max);
    }

    /** As {@link #lane(String, int)}; its refusals count as calls failed fast on NFS server {@code server}. */
    public Lane lane(String name, String server, int max) {
        if (max < 1) {
            throw new IllegalArgumentException("a lane needs at least one slot: " + max);
        }
        return new Lane(name, server, max);
    }

    /**
     * Calls on one resource: while {@code max} of them are abandoned and still blocked in the kernel, further calls
     * are refused at once; see the class. Calls that run within their deadlines are limited only by the slots.
     */
    public final class Lane {
        private final String name;
        private final String server;
        private final int max;
        private final AtomicInteger stuck = new AtomicInteger();

        private Lane(String name, String server, int max) {
            this.name = name;
            this.server = server;
            this.max = max;
        }

        /**
         * As {@link BoundedIo#run}, and fails at once with {@link MountException.Kind#UNREACHABLE} when {@code max}
         * calls on the resource were abandoned at their deadlines and are still blocked.
         */
        public <T> T run(String what, Deadline deadline, Call<T> call) throws MountException {
            if (stuck.get() >= max) {
                metrics.serverFailedFast(server);
                throw new MountException(MountException.Kind.UNREACHABLE, what + ": not started, " + stuck.get()
                        + " earlier calls on " + name + " are still blocked in the kernel after their deadlines");
            }
            return BoundedIo.this.run(what, deadline, call, this);
        }

        /** How many calls on the resource were abandoned at their deadlines and are still blocked. */
        public int stuck() {
            return stuck.get();
        }
    }

    /**
     * Runs {@code call} and returns its result, or throws a {@code TIMED_OUT} {@link MountException} when the
     * deadline expires first.
     */
    public <T> T run(String what, Deadline deadline, Call<T> call) throws MountException {
        return run(what, deadline, call, null);
    }

    private <T> T run(String what, Deadline deadline, Call<T> call, Lane lane) throws MountException {
        if (!slots.tryAcquire()) {
            throw MountException.busy(what + ": not started, all " + maxBlocked
                    + " slots are held by earlier file-system calls still blocked in the kernel", RETRY_AFTER);
        }
        Attempt<T> attempt = new Attempt<>(call, lane == null ? null : lane.stuck, stuck, slots);
        try {
            threads.execute(attempt);
        } catch (RuntimeException e) {
            slots.release();
            throw e;
        }
        try {
            return attempt.result.get(Math.max(0, deadline.timeRemaining(TimeUnit.NANOSECONDS)), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            if (attempt.abandon()) {
                throw new MountException(MountException.Kind.TIMED_OUT, what + " did not return before the deadline");
            }
            return finished(what, attempt);
        } catch (ExecutionException e) {
            throw rethrown(what, e);
        } catch (InterruptedException | CancellationException e) {
            attempt.abandon();
            Thread.currentThread().interrupt();
            throw new MountException(MountException.Kind.TIMED_OUT, what + " interrupted");
        }
    }

    /** The result of an attempt that completed just as its deadline expired. */
    private static <T> T finished(String what, Attempt<T> attempt) throws MountException {
        try {
            return attempt.result.get();
        } catch (ExecutionException e) {
            throw rethrown(what, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new MountException(MountException.Kind.TIMED_OUT, what + " interrupted");
        }
    }

    private static MountException rethrown(String what, ExecutionException e) {
        if (e.getCause() instanceof MountException me) {
            return me;
        }
        if (e.getCause() instanceof RuntimeException re) {
            throw re;
        }
        if (e.getCause() instanceof Error err) {
            throw err;
        }
        throw new IllegalStateException(what + " failed", e.getCause());
    }

    /**
     * One call on a worker thread. Its slot is released when the call returns, or at once if it was abandoned
     * before it started; abandoning a started call interrupts its thread, and only while it runs this call. An
     * abandoned call counts as stuck in its lane until it returns.
     */
    private static final class Attempt<T> implements Runnable {
        final CompletableFuture<T> result = new CompletableFuture<>();
        private final Call<T> call;
        private final AtomicInteger stuck;
        private final AtomicInteger allStuck;
        private final Semaphore slots;
        private Thread runner;
        private boolean abandoned;
        private boolean returned;

        Attempt(Call<T> call, AtomicInteger stuck, AtomicInteger allStuck, Semaphore slots) {
            this.call = call;
            this.stuck = stuck;
            this.allStuck = allStuck;
            this.slots = slots;
        }

        @Override
        public void run() {
            if (!start()) {
                finish();
                return;
            }
            T value = null;
            Throwable failure = null;
            try {
                value = call.call();
            } catch (Throwable t) {
                failure = t;
            }
            // the slot is free before the caller hears of the result: its next call finds it free
            finish();
            if (failure == null) {
                result.complete(value);
            } else {
                result.completeExceptionally(failure);
            }
        }

        private synchronized boolean start() {
            runner = Thread.currentThread();
            return !abandoned;
        }

        private synchronized void finish() {
            runner = null;
            returned = true;
            Thread.interrupted(); // an abandon that came as the call returned must not reach the pool's next task
            slots.release();
            if (abandoned) {
                allStuck.decrementAndGet();
                if (stuck != null) {
                    stuck.decrementAndGet();
                }
            }
        }

        /** Gives up on the call; false when it has already completed. */
        synchronized boolean abandon() {
            if (returned || !result.completeExceptionally(new CancellationException("abandoned at its deadline"))) {
                return false;
            }
            abandoned = true;
            allStuck.incrementAndGet();
            if (stuck != null) {
                stuck.incrementAndGet();
            }
            if (runner != null) {
                runner.interrupt();
            }
            return true;
        }
    }
}
