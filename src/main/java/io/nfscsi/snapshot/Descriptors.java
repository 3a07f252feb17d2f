package io.nfscsi.snapshot;

import io.nfscsi.concurrent.TreeWorkPool;
import java.io.InterruptedIOException;

/** The descriptors an archive or a restore keeps open at most, leased from the pool's handle budget. */
final class Descriptors implements AutoCloseable {

    private final TreeWorkPool pool;
    private final int amount;

    private Descriptors(TreeWorkPool pool, int amount) {
        this.pool = pool;
        this.amount = amount;
    }

    /** Waits until {@code amount} handles are free (others give theirs back), and leases them. */
    static Descriptors lease(TreeWorkPool pool, int amount) throws InterruptedIOException {
        int fitting = (int) Math.min(amount, pool.handles().capacity());
        try {
            pool.handles().acquire(fitting);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while waiting for the tree work pool's handle budget");
        }
        return new Descriptors(pool, fitting);
    }

    @Override
    public void close() {
        pool.handles().release(amount);
    }
}
