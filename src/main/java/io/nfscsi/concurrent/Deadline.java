package io.nfscsi.concurrent;

import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.TimeUnit;

/**
 * An absolute point in time by which work must be done, read from a {@link Ticker} (the JVM's monotonic clock
 * unless a test injects one). Handed down from a call to every sub-operation, so that each one uses what is left
 * instead of a fixed timeout of its own. Immutable.
 */
public final class Deadline implements Comparable<Deadline> {

    /** A monotonic nanosecond clock. */
    @FunctionalInterface
    public interface Ticker {
        long nanoTime();

        /** {@link System#nanoTime()}. */
        static Ticker system() {
            return SYSTEM;
        }
    }

    private static final Ticker SYSTEM = System::nanoTime;
    /** Far enough away to mean "no deadline", near enough that adding it to nanoTime never overflows. */
    private static final long MAX_NANOS = TimeUnit.DAYS.toNanos(365L * 100);

    private final Ticker ticker;
    private final long deadlineNanos;

    private Deadline(Ticker ticker, long deadlineNanos) {
        this.ticker = ticker;
        this.deadlineNanos = deadlineNanos;
    }

    /** {@code duration} from now on the system clock. */
    public static Deadline after(long duration, TimeUnit unit) {
        return after(duration, unit, SYSTEM);
    }

    /** {@code duration} from now on {@code ticker}. */
    public static Deadline after(long duration, TimeUnit unit, Ticker ticker) {
        Objects.requireNonNull(unit, "unit");
        Objects.requireNonNull(ticker, "ticker");
        long nanos = Math.max(-MAX_NANOS, Math.min(MAX_NANOS, unit.toNanos(duration)));
        return new Deadline(ticker, ticker.nanoTime() + nanos);
    }

    /** {@code duration} from now on the system clock. */
    public static Deadline after(Duration duration) {
        return after(saturatedNanos(duration), TimeUnit.NANOSECONDS);
    }

    private static long saturatedNanos(Duration d) {
        try {
            return d.toNanos();
        } catch (ArithmeticException overflow) {
            return d.isNegative() ? -MAX_NANOS : MAX_NANOS;
        }
    }

    /** Whether the deadline has passed. */
    public boolean isExpired() {
        return ticker.nanoTime() - deadlineNanos >= 0;
    }

    /** Time left, in {@code unit}, rounded down; negative once expired. */
    public long timeRemaining(TimeUnit unit) {
        return unit.convert(deadlineNanos - ticker.nanoTime(), TimeUnit.NANOSECONDS);
    }

    /** Time left; negative once expired. */
    public Duration remaining() {
        return Duration.ofNanos(deadlineNanos - ticker.nanoTime());
    }

    /** The earlier of this and {@code other}. Both must read the same ticker. */
    public Deadline minimum(Deadline other) {
        checkSameTicker(other);
        return compareTo(other) <= 0 ? this : other;
    }

    @Override
    public int compareTo(Deadline other) {
        checkSameTicker(other);
        return Long.compare(deadlineNanos - other.deadlineNanos, 0);
    }

    private void checkSameTicker(Deadline other) {
        if (other.ticker != ticker) {
            throw new IllegalArgumentException("deadlines read different tickers and cannot be compared");
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Deadline d && d.ticker == ticker && d.deadlineNanos == deadlineNanos;
    }

    @Override
    public int hashCode() {
        return Long.hashCode(deadlineNanos);
    }

    @Override
    public String toString() {
        long ms = timeRemaining(TimeUnit.MILLISECONDS);
        return ms >= 0 ? "deadline in " + ms + " ms" : "deadline passed " + (-ms) + " ms ago";
    }
}
