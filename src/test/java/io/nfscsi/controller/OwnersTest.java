package io.nfscsi.controller;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.nfscsi.error.CsiException;
import io.nfscsi.testing.MutableClock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Two {@link Owners} on one directory act as two controller replicas on one share; the clock is injected. */
class OwnersTest {

    static final Duration STALE = Duration.ofMinutes(1);
    static final String SUBJECT = Owners.volume("pvc-1");

    @TempDir
    Path share;
    final MutableClock clock = new MutableClock(Instant.parse("2026-12-01T10:00:00Z"));
    final Owners a = new Owners("replica-a", clock, STALE);
    final Owners b = new Owners("replica-b", clock, STALE);
    final List<Ownership> holds = new ArrayList<>();

    @AfterEach
    void closeHolds() {
        holds.forEach(Ownership::close);
    }

    Ownership take(Owners owners, String subject) {
        Ownership hold = owners.acquire(share, subject);
        holds.add(hold);
        return hold;
    }

    long records() throws Exception {
        try (Stream<Path> files = Files.list(share.resolve(Owners.DIRECTORY))) {
            return files.filter(f -> !f.getFileName().toString().startsWith(".")).count();
        }
    }

    @Test
    void close_beforeTheFirstPeriod_neverStartsAHeartbeatThread() throws Exception {
        Owners quick = new Owners("replica-q", clock, Duration.ofSeconds(1));
        // another test's heartbeat thread may still be ending
        java.util.Set<Thread> before = heartbeats();
        for (int i = 0; i < 20; i++) {
            quick.acquire(share, Owners.volume("pvc-quick-" + i)).close();
        }
        assertThat(heartbeats()).as("a hold closed within its first period costs no thread").isSubsetOf(before);
        assertThat(records()).isZero();
    }

    private static java.util.Set<Thread> heartbeats() {
        return new java.util.HashSet<>(Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.getName().equals("owner-heartbeat")).toList());
    }

    @Test
    void hold_outlivingItsFirstPeriod_isHeartbeatOnItsOwnThread() throws Exception {
        Owners slow = new Owners("replica-s", clock, Duration.ofSeconds(1));
        Ownership hold = slow.acquire(share, SUBJECT);
        holds.add(hold);
        clock.advance(Duration.ofSeconds(5));
        Path file;
        try (Stream<Path> files = Files.list(share.resolve(Owners.DIRECTORY))) {
            file = files.filter(f -> !f.getFileName().toString().startsWith(".")).findFirst().orElseThrow();
        }
        // the heartbeat thread starts a quarter of the bound (250 ms) after the hold was taken, and stamps the
        // record with this replica's clock: waited for, not timed
        long until = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (!Files.getLastModifiedTime(file).toInstant().equals(clock.instant()) && System.nanoTime() < until) {
            Thread.sleep(20);
        }
        assertThat(Files.getLastModifiedTime(file).toInstant()).isEqualTo(clock.instant());
        assertThatThrownBy(() -> b.acquire(share, SUBJECT)).isInstanceOf(CsiException.Aborted.class);
    }

    @Test
    void acquire_liveOwner_isAbortedNamingIt_andLeavesItsRecord() throws Exception {
        Ownership first = take(a, SUBJECT);
        clock.advance(Duration.ofSeconds(30));
        assertThatThrownBy(() -> b.acquire(share, SUBJECT)).isInstanceOf(CsiException.Aborted.class)
                .hasMessageContaining("replica-a");
        assertThat(first.beat()).isTrue();
        first.check();
        assertThat(first.lost()).isFalse();
        assertThat(records()).isEqualTo(1);
    }

    @Test
    void acquire_heartbeatingOwner_staysLive_pastTheBound() {
        Ownership first = take(a, SUBJECT);
        for (int i = 0; i < 8; i++) {
            clock.advance(Duration.ofSeconds(20));
            assertThat(first.beat()).isTrue();
            assertThatThrownBy(() -> b.acquire(share, SUBJECT)).isInstanceOf(CsiException.Aborted.class);
        }
    }

    @Test
    void acquire_staleOwner_isTakenOver_andTheOldJobFindsItLost_andCleansNothing() throws Exception {
        Ownership first = take(a, SUBJECT);
        clock.advance(STALE.plusSeconds(1));
        Ownership second = take(b, SUBJECT);
        assertThat(second.previous()).map(OwnerRecord::replica).contains("replica-a");
        assertThat(records()).as("the old generation's record is removed").isEqualTo(1);

        assertThatThrownBy(first::check).isInstanceOf(CsiException.Aborted.class).hasMessageContaining("replica-b");
        assertThat(first.lost()).isTrue();
        assertThat(first.confirm()).isFalse();
        first.close();
        assertThat(records()).as("a lost hold leaves the new owner's record alone").isEqualTo(1);
        assertThat(second.confirm()).isTrue();
        assertThatThrownBy(() -> a.acquire(share, SUBJECT)).isInstanceOf(CsiException.Aborted.class)
                .hasMessageContaining("replica-b");
    }

    @Test
    void check_afterAPauseLongerThanHalfTheBound_confirmsOnTheShareFirst() {
        Ownership first = take(a, SUBJECT);
        clock.advance(STALE.multipliedBy(2));
        // nobody took it: the late check confirms, and the job goes on
        first.check();
        assertThat(first.lost()).isFalse();
        clock.advance(STALE.multipliedBy(2));
        take(b, SUBJECT);
        assertThatThrownBy(first::check).isInstanceOf(CsiException.Aborted.class);
    }

    @Test
    void acquire_ownerWhoseClockIsAhead_isStaleOnceItsHeartbeatHasNotMovedForTheBound() throws Exception {
        MutableClock ahead = new MutableClock(clock.instant().plus(Duration.ofHours(1)));
        Owners skewed = new Owners("replica-skewed", ahead, STALE);
        take(skewed, SUBJECT);
        assertThatThrownBy(() -> b.acquire(share, SUBJECT)).isInstanceOf(CsiException.Aborted.class);
        clock.advance(STALE.minusSeconds(5));
        assertThatThrownBy(() -> b.acquire(share, SUBJECT)).isInstanceOf(CsiException.Aborted.class);
        clock.advance(Duration.ofSeconds(10));
        assertThat(take(b, SUBJECT).previous()).map(OwnerRecord::replica).contains("replica-skewed");
    }

    @Test
    void acquire_recordOfAnEarlierProcessOfThisReplica_isTakenOverAtOnce() {
        Owners before = new Owners("replica-a", clock, STALE);
        take(before, SUBJECT);
        assertThat(take(a, SUBJECT).previous()).isPresent();
    }

    @Test
    void acquire_subjectHeldByThisProcess_isAborted() {
        take(a, SUBJECT);
        assertThatThrownBy(() -> a.acquire(share, SUBJECT)).isInstanceOf(CsiException.Aborted.class);
    }

    @Test
    void close_removesTheRecord_andTheSubjectIsFreeForAnyReplica() throws Exception {
        Ownership first = a.acquire(share, SUBJECT);
        first.close();
        assertThat(records()).isZero();
        Ownership second = take(b, SUBJECT);
        assertThat(second.previous()).isEmpty();
        assertThat(take(b, Owners.snapshot("pvc-1")).previous()).as("another subject is another record").isEmpty();
    }

    @Test
    void acquire_twoTakersOfOneStaleOwner_exactlyOneWins() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            for (int round = 0; round < 20; round++) {
                String subject = Owners.volume("pvc-race-" + round);
                take(a, subject);
                clock.advance(STALE.plusSeconds(1));
                List<Owners> takers = List.of(new Owners("replica-b", clock, STALE),
                        new Owners("replica-c", clock, STALE), new Owners("replica-d", clock, STALE));
                CyclicBarrier start = new CyclicBarrier(takers.size());
                List<Future<Ownership>> results = new ArrayList<>();
                for (Owners taker : takers) {
                    results.add(pool.submit(() -> {
                        start.await();
                        return taker.acquire(share, subject);
                    }));
                }
                int won = 0;
                for (Future<Ownership> f : results) {
                    try {
                        holds.add(f.get());
                        won++;
                    } catch (java.util.concurrent.ExecutionException e) {
                        assertThat(e.getCause()).isInstanceOf(CsiException.Aborted.class);
                    }
                }
                assertThat(won).as("round " + round).isEqualTo(1);
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void liveOther_showsALiveOwner_andNotAStaleOne() {
        take(a, SUBJECT);
        assertThat(b.liveOther(share, SUBJECT)).map(c -> c.record().replica()).contains("replica-a");
        clock.advance(STALE.plusSeconds(1));
        assertThat(b.liveOther(share, SUBJECT)).isEmpty();
    }

    @Test
    void ownerRecord_roundTrips_andRejectsMissingFields() {
        OwnerRecord r = new OwnerRecord(SUBJECT, "replica-a", "1234abcd", "t-1", 3, clock.instant());
        assertThat(OwnerRecord.parse(r.format())).isEqualTo(r);
        assertThatThrownBy(() -> OwnerRecord.parse("subject=x\n")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> OwnerRecord.parse(r.format().replace("generation=3", "generation=0")))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
