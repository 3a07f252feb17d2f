package io.nfscsi.node;

import static org.assertj.core.api.Assertions.assertThat;

import io.nfscsi.concurrent.BoundedIo;
import io.nfscsi.fs.UsageWalk;
import io.nfscsi.testing.MutableClock;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;

/**
 * The rules of the usage walks, with a walker that hands out figures and a dispatcher that the test runs by hand:
 * a call never waits for a walk, a figure is served until the next walk replaces it, a volume is walked at most
 * once per TTL and never twice at once, and a forgotten volume's walk is told to stop and its figure dropped.
 */
class UsageWalksTest {

    static final Duration TTL = Duration.ofMinutes(5);
    static final Path ROOT = Path.of("/var/lib/kubelet/pods/p/volumes/v/mount");
    static final String KEY = ROOT.toString();

    final MutableClock clock = new MutableClock(Instant.parse("2026-01-01T00:00:00Z"));
    final Deque<Runnable> dispatched = new ArrayDeque<>();
    final Deque<Object> results = new ArrayDeque<>();
    final List<BooleanSupplier> stops = new ArrayList<>();
    final UsageWalks walks = new UsageWalks(TTL, clock, this::walk, dispatched::add, new BoundedIo(4), () -> { });

    private UsageWalk.Usage walk(Path root, BooleanSupplier stop) throws IOException {
        assertThat(root).isEqualTo(ROOT);
        stops.add(stop);
        Object next = results.remove();
        if (next instanceof IOException e) {
            throw e;
        }
        return (UsageWalk.Usage) next;
    }

    private static UsageWalk.Usage usage(long bytes) {
        return new UsageWalk.Usage(bytes, bytes / 100, 1);
    }

    /** Runs the one dispatched walk to its end. */
    private void runWalk() {
        assertThat(dispatched).hasSize(1);
        dispatched.remove().run();
    }

    @Test
    void figure_beforeTheFirstWalkEnds_isNone_andOneWalkIsStarted() {
        assertThat(walks.figure(KEY, ROOT)).isEmpty();
        assertThat(walks.figure(KEY, ROOT)).isEmpty();

        assertThat(dispatched).as("one walk, not one per call").hasSize(1);
    }

    @Test
    void figure_afterAWalk_isItsFigure_servedWithoutWalkingAgainWithinTheTtl() {
        walks.figure(KEY, ROOT);
        results.add(usage(4096));
        runWalk();

        clock.advance(TTL.minusSeconds(1));
        var figure = walks.figure(KEY, ROOT);

        assertThat(figure).get().extracting(f -> f.usage().bytes()).isEqualTo(4096L);
        assertThat(figure.get().age(clock.instant())).isEqualTo(TTL.minusSeconds(1));
        assertThat(dispatched).isEmpty();
    }

    @Test
    void figure_aTtlAfterTheWalkStarted_isTheOldFigure_whileANewWalkStarts() {
        walks.figure(KEY, ROOT);
        results.add(usage(4096));
        runWalk();

        clock.advance(TTL);
        assertThat(walks.figure(KEY, ROOT)).get().extracting(f -> f.usage().bytes()).isEqualTo(4096L);
        assertThat(dispatched).hasSize(1);

        results.add(usage(8192));
        runWalk();
        assertThat(walks.figure(KEY, ROOT)).get().extracting(f -> f.usage().bytes()).isEqualTo(8192L);
    }

    @Test
    void figure_whileAWalkIsInFlight_startsNoOther_evenPastTheTtl() {
        walks.figure(KEY, ROOT);
        clock.advance(TTL.multipliedBy(3));

        walks.figure(KEY, ROOT);

        assertThat(dispatched).hasSize(1);
    }

    @Test
    void failedWalk_keepsTheLastFigure_andTheNextWalkWaitsForTheTtl() {
        walks.figure(KEY, ROOT);
        results.add(usage(4096));
        runWalk();
        clock.advance(TTL);
        walks.figure(KEY, ROOT);
        results.add(new IOException("getdents64 a: input/output error (EIO)"));
        runWalk();

        clock.advance(Duration.ofSeconds(1));
        assertThat(walks.figure(KEY, ROOT)).get().extracting(f -> f.usage().bytes()).isEqualTo(4096L);
        assertThat(dispatched).as("walked at most once per TTL, failed walks included").isEmpty();
        clock.advance(TTL);
        walks.figure(KEY, ROOT);
        assertThat(dispatched).hasSize(1);
    }

    @Test
    void forget_dropsTheFigure_andStopsTheWalkInFlight() {
        walks.figure(KEY, ROOT);
        results.add(usage(4096));
        runWalk();
        clock.advance(TTL);
        walks.figure(KEY, ROOT);
        Runnable second = dispatched.remove();
        AtomicBoolean stopSeen = new AtomicBoolean();
        results.add(usage(1));

        walks.forget(KEY);
        second.run(); // the walk began after forget: it is told to stop from the start
        stopSeen.set(stops.getLast().getAsBoolean());

        assertThat(stopSeen).isTrue();
        assertThat(walks.figure(KEY, ROOT)).as("the old figure is not the new mount's").isEmpty();
        assertThat(walks.size()).isEqualTo(1);
    }

    @Test
    void figure_ofTwoVolumes_areKeptApart() {
        Path other = Path.of("/var/lib/kubelet/pods/q/volumes/v/mount");
        walks.figure(KEY, ROOT);
        results.add(usage(100));
        runWalk();

        assertThat(walks.figure(other.toString(), other)).isEmpty();
        assertThat(dispatched).hasSize(1);
    }
}
