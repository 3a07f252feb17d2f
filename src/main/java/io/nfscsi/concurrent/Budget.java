package io.nfscsi.concurrent;

import static java.util.concurrent.TimeUnit.NANOSECONDS;

import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A fixed amount of something shared by all background tree work (open directory handles, buffered bytes), taken
 * in leases and given back. A lease that does not fit waits until others are given back: work queues on the budget
 * instead of exceeding it. Leases are granted in the order they are asked for, so a large one is not starved by a
 * stream of small ones.
 */
public final class Budget {

    private final String what;
    private final long capacity;
    private final ReentrantLock lock = new ReentrantLock(true);
    private final Condition returned = lock.newCondition();
    // guarded by lock
    private long used;
    private long peak;
    private int waiting;
    private long nextTicket;
    private long serving;
    /** Tickets whose holder stopped waiting before its turn. */
    private final Set<Long> abandoned = new HashSet<>();

    /**
     * @param what     what is counted, for messages ("open directory handles")
     * @param capacity the most that is ever leased at once, at least 1
     */
    public Budget(String what, long capacity) {
        if (capacity < 1) {
            throw new IllegalArgumentException(what + ": capacity must be at least 1, not " + capacity);
        }
        this.what = what;
        this.capacity = capacity;
    }

    public String what() {
        return what;
    }

    public long capacity() {
        return capacity;
    }

    /** How much is leased now. */
    public long used() {
        lock.lock();
        try {
            return used;
        } finally {
            lock.unlock();
        }
    }

    /** The most that was leased at once. */
    public long peak() {
        lock.lock();
        try {
            return peak;
        } finally {
            lock.unlock();
        }
    }

    /** Whether a lease is waiting: a holder that can give back part of its own should. */
    public boolean hasWaiters() {
        lock.lock();
        try {
            return waiting > 0;
        } finally {
            lock.unlock();
        }
    }

    /** Leases {@code amount} if it fits now and nobody waits before it. */
    public boolean tryAcquire(long amount) {
        check(amount);
        lock.lock();
        try {
            if (waiting > 0 || used + amount > capacity) {
                return false;
            }
            take(amount);
            return true;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Leases {@code amount}, waiting for it at most until the deadline.
     *
     * @return false when the deadline came first; nothing is leased then
     * @throws InterruptedException when interrupted while waiting; nothing is leased then
     */
    public boolean acquire(long amount, Deadline deadline) throws InterruptedException {
        check(amount);
        lock.lock();
        try {
            long ticket = nextTicket++;
            waiting++;
            try {
                while (ticket != serving || used + amount > capacity) {
                    long nanos = deadline.timeRemaining(NANOSECONDS);
                    if (nanos <= 0) {
                        return false;
                    }
                    returned.awaitNanos(nanos);
                }
                take(amount);
                return true;
            } finally {
                waiting--;
                if (ticket == serving) {
                    serving++;
                } else {
                    abandoned.add(ticket); // left before its turn (deadline, interrupt): the queue skips it
                }
                while (abandoned.remove(serving)) {
                    serving++;
                }
                returned.signalAll();
            }
        } finally {
            lock.unlock();
        }
    }

    /** Leases {@code amount}, waiting as long as it takes. */
    public void acquire(long amount) throws InterruptedException {
        acquire(amount, Deadline.after(Long.MAX_VALUE, NANOSECONDS));
    }

    /** Gives back {@code amount} of what was leased. */
    public void release(long amount) {
        if (amount == 0) {
            return;
        }
        lock.lock();
        try {
            if (amount < 0 || amount > used) {
                throw new IllegalStateException(what + ": releasing " + amount + " of " + used + " leased");
            }
            used -= amount;
            returned.signalAll();
        } finally {
            lock.unlock();
        }
    }

    private void check(long amount) {
        if (amount < 1 || amount > capacity) {
            throw new IllegalArgumentException(what + ": a lease of " + amount + " can never fit in " + capacity);
        }
    }

    private void take(long amount) {
        used += amount;
        peak = Math.max(peak, used);
    }
}
