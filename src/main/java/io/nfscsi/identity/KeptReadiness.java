package io.nfscsi.identity;

import java.time.Clock;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link Readiness} whose answer is kept current in the background, so that Probe answers from memory and never
 * waits on the file system. The check runs once when this is made; afterwards, a read that finds the answer older
 * than {@code maxAge} starts one re-check on a platform thread of its own and returns the answer it has. So the
 * answer is at most {@code maxAge} plus one check old while something asks, and no check runs while nothing does.
 * A check that throws counts as not ready.
 */
final class KeptReadiness implements Readiness {

    private static final Logger log = LoggerFactory.getLogger(KeptReadiness.class);

    private record Answer(Optional<String> reason, long checkedMillis) {}

    private final Readiness check;
    private final long maxAgeMillis;
    private final Clock clock;
    private final AtomicBoolean checking = new AtomicBoolean();
    private volatile Answer answer;

    KeptReadiness(Readiness check, Duration maxAge, Clock clock) {
        this.check = check;
        this.maxAgeMillis = maxAge.toMillis();
        this.clock = clock;
        this.answer = run();
    }

    @Override
    public Optional<String> notReadyReason() {
        Answer a = answer;
        if (clock.millis() - a.checkedMillis() >= maxAgeMillis && checking.compareAndSet(false, true)) {
            try {
                Thread.ofPlatform().daemon().name("readiness-check").start(() -> {
                    try {
                        answer = run();
                    } finally {
                        checking.set(false);
                    }
                });
            } catch (RuntimeException | OutOfMemoryError e) {
                checking.set(false);
                log.warn("cannot start the readiness check: {}", e.toString());
            }
        }
        return a.reason();
    }

    /** Whether a re-check is running now (for tests). */
    boolean checking() {
        return checking.get();
    }

    private Answer run() {
        Optional<String> reason;
        try {
            reason = check.notReadyReason();
        } catch (RuntimeException e) {
            reason = Optional.of("the readiness check failed: " + e);
        }
        return new Answer(reason, clock.millis());
    }
}
