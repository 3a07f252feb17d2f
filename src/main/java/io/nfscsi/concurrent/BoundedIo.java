package io.nfscsi.concurrent;

import io.nfscsi.mount.MountException;
import java.time.Duration;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Runs a file-system call that may block in the kernel (a stat on a hung NFS mount cannot be interrupted) on a
 * platform thread of its own, and waits for it no longer than a deadline. A call that overstays is abandoned,
 * still blocked, and holds one of a bounded number of slots until the kernel lets it go; when every slot is held
 * new calls fail at once ({@link MountException.Kind#BUSY}, RESOURCE_EXHAUSTED with a retry hint) instead of piling
 * up threads.
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

    public BoundedIo(int maxBlocked) {
        this.maxBlocked = maxBlocked;
        this.slots = new Semaphore(maxBlocked);
        AtomicInteger n = new AtomicInteger();
        // platform threads: a virtual thread blocked in a native call would pin a carrier thread indefinitely
        this.threads = Executors.newCachedThreadPool(r -> Thread.ofPlatform().daemon().name("fs-io-" + n.incrementAndGet())
                .unstarted(r));
    }

    /**
     * Runs {@code call} and returns its result, or throws a {@code TIMED_OUT} {@link MountException} when the
     * deadline expires first.
     */
    public <T> T run(String what, Deadline deadline, Call<T> call) throws MountException {
        if (!slots.tryAcquire()) {
            throw MountException.busy(what + ": not started, all " + maxBlocked
                    + " slots are held by earlier file-system calls still blocked in the kernel", RETRY_AFTER);
        }
        Future<T> future;
        try {
            future = threads.submit(() -> {
                try {
                    return call.call();
                } finally {
                    slots.release();
                }
            });
        } catch (RuntimeException e) {
            slots.release();
            throw e;
        }
        try {
            return future.get(Math.max(0, deadline.timeRemaining(TimeUnit.NANOSECONDS)), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            future.cancel(true);
            throw new MountException(MountException.Kind.TIMED_OUT, what + " did not return before the deadline");
        } catch (ExecutionException e) {
            if (e.getCause() instanceof MountException me) {
                throw me;
            }
            if (e.getCause() instanceof RuntimeException re) {
                throw re;
            }
            throw new IllegalStateException(what + " failed", e.getCause());
        } catch (InterruptedException | CancellationException e) {
            Thread.currentThread().interrupt();
            throw new MountException(MountException.Kind.TIMED_OUT, what + " interrupted");
        }
    }
}
