package io.nfscsi.concurrent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class DeadlineTest {

    private final AtomicLong now = new AtomicLong(Long.MAX_VALUE - 5_000);
    private final Deadline.Ticker ticker = now::get;

    @Test
    void after_expiresWhenTheTickerPassesIt_evenAcrossNanoTimeOverflow() {
        Deadline d = Deadline.after(10, TimeUnit.SECONDS, ticker);

        assertThat(d.isExpired()).isFalse();
        assertThat(d.timeRemaining(TimeUnit.SECONDS)).isEqualTo(10);
        now.addAndGet(TimeUnit.SECONDS.toNanos(10));
        assertThat(d.isExpired()).isTrue();
        assertThat(d.timeRemaining(TimeUnit.NANOSECONDS)).isZero();
        now.addAndGet(TimeUnit.SECONDS.toNanos(1));
        assertThat(d.remaining()).isEqualTo(Duration.ofSeconds(-1));
    }

    @Test
    void minimum_isTheEarlier() {
        Deadline soon = Deadline.after(1, TimeUnit.SECONDS, ticker);
        Deadline late = Deadline.after(1, TimeUnit.HOURS, ticker);

        assertThat(soon.minimum(late)).isSameAs(soon);
        assertThat(late.minimum(soon)).isSameAs(soon);
        assertThat(soon).isLessThan(late);
    }

    @Test
    void minimum_ofDeadlinesOnDifferentTickers_isRefused() {
        Deadline mine = Deadline.after(1, TimeUnit.SECONDS, ticker);
        Deadline system = Deadline.after(1, TimeUnit.SECONDS);

        assertThatThrownBy(() -> mine.minimum(system)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void after_aHugeDuration_saturatesInsteadOfOverflowing() {
        Deadline forever = Deadline.after(Duration.ofSeconds(Long.MAX_VALUE));

        assertThat(forever.isExpired()).isFalse();
        assertThat(forever.timeRemaining(TimeUnit.DAYS)).isGreaterThan(365L * 99);
        assertThat(Deadline.after(Long.MIN_VALUE, TimeUnit.DAYS).isExpired()).isTrue();
    }

    @Test
    void forCall_outsideACall_isTheCap() {
        Deadline d = Deadlines.forCall(Duration.ofSeconds(30));

        assertThat(d.timeRemaining(TimeUnit.SECONDS)).isBetween(28L, 30L);
    }
}
