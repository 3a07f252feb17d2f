package io.nfscsi.identity;

import static org.assertj.core.api.Assertions.assertThat;

import io.nfscsi.testing.MutableClock;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class KeptReadinessTest {

    final MutableClock clock = new MutableClock(Instant.parse("2026-01-01T00:00:00Z"));
    final AtomicReference<Optional<String>> reason = new AtomicReference<>(Optional.empty());
    final AtomicInteger checks = new AtomicInteger();
    /** A permit per check that may finish; a check holds the calling thread until it gets one. */
    final Semaphore mayFinish = new Semaphore(1);
    final CountDownLatch secondCheckDone = new CountDownLatch(1);

    final Readiness check = () -> {
        int n = checks.incrementAndGet();
        mayFinish.acquireUninterruptibly();
        Optional<String> r = reason.get();
        if (n == 2) {
            secondCheckDone.countDown();
        }
        return r;
    };

    @Test
    void answersFromTheCheckMadeAtStart_untilItIsOlderThanMaxAge() {
        KeptReadiness kept = new KeptReadiness(check, Duration.ofSeconds(5), clock);
        reason.set(Optional.of("mount.nfs missing"));
        clock.advance(Duration.ofMillis(4999));
        assertThat(kept.notReadyReason()).isEmpty();
        assertThat(checks).hasValue(1);
    }

    @Test
    void anOldAnswer_isReturnedAtOnce_whileOneBackgroundCheckReplacesIt() throws Exception {
        KeptReadiness kept = new KeptReadiness(check, Duration.ofSeconds(5), clock);
        reason.set(Optional.of("mount.nfs missing"));
        clock.advance(Duration.ofSeconds(5));
        // the re-check cannot finish yet: the reads must not wait for it, nor start a second one
        assertThat(kept.notReadyReason()).isEmpty();
        assertThat(kept.notReadyReason()).isEmpty();
        mayFinish.release();
        assertThat(secondCheckDone.await(10, TimeUnit.SECONDS)).isTrue();
        while (kept.checking()) {
            Thread.onSpinWait();
        }
        assertThat(kept.notReadyReason()).contains("mount.nfs missing");
        assertThat(checks).hasValue(2);
    }

    @Test
    void aCheckThatThrows_isNotReady() {
        KeptReadiness kept = new KeptReadiness(() -> {
            throw new IllegalStateException("boom");
        }, Duration.ofSeconds(5), clock);
        assertThat(kept.notReadyReason()).hasValueSatisfying(r -> assertThat(r).contains("boom"));
    }
}
