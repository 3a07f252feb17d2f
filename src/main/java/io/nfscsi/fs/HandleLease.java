package io.nfscsi.fs;

import io.nfscsi.concurrent.Deadline;
import io.nfscsi.concurrent.TreeWorkPool;
import io.nfscsi.error.CsiException;

/**
 * A walk's share of the pool's open-handle budget: its own budget, plus one for the handle it starts from. Held
 * until the walk's last handle is closed, which may be after the walk returned (a task blocked in the kernel).
 */
final class HandleLease {

    private final TreeWorkPool pool;
    private final int amount;
    private boolean handedOff;

    private HandleLease(TreeWorkPool pool, int amount) {
        this.pool = pool;
        this.amount = amount;
    }

    /**
     * Leases {@code budget + 1} handles, waiting until the deadline for other walks to give theirs back.
     *
     * @throws CsiException.DeadlineExceeded when the deadline comes first
     * @throws CsiException.Aborted          when the waiting thread is interrupted (its job was cancelled)
     */
    static HandleLease take(TreeWorkPool pool, int budget, Deadline deadline, String context, String progress) {
        int amount = (int) Math.min(budget + 1L, pool.handles().capacity());
        try {
            if (!pool.handles().acquire(amount, deadline)) {
                throw new CsiException.DeadlineExceeded(context + ": every open-handle budget of the tree work pool "
                        + "was held by other operations until the deadline; " + progress);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CsiException.Aborted(context + ": interrupted while waiting for the tree work pool; " + progress);
        }
        return new HandleLease(pool, amount);
    }

    /** The walk takes the lease over: it runs the returned action once its last handle is closed. */
    Runnable handOff() {
        handedOff = true;
        return () -> pool.handles().release(amount);
    }

    void closeUnlessHandedOff() {
        if (!handedOff) {
            handedOff = true;
            pool.handles().release(amount);
        }
    }
}
