package io.nfscsi.concurrent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.grpc.Status;
import io.nfscsi.mount.MountException;
import io.nfscsi.metrics.DriverMetrics;
import io.nfscsi.mount.Posix;
import io.nfscsi.testing.Scrape;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(30)
class BoundedIoTest {

    private static Deadline in(long millis) {
        return Deadline.after(millis, TimeUnit.MILLISECONDS);
    }

    /** A call that, like a stat on a hung NFS mount, ignores interrupts until {@code release} opens. */
    private static BoundedIo.Call<String> blockedUntil(CountDownLatch release) {
        return () -> {
            boolean interrupted = false;
            while (true) {
                try {
                    release.await();
                    break;
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
            return "late";
        };
    }

    @Test
    void run_callThatReturns_givesItsResult() throws Exception {
        BoundedIo io = new BoundedIo(4);

        assertThat(io.run("stat /x", in(10_000), () -> "ok")).isEqualTo("ok");
        assertThat(io.run("stat /x", in(10_000), () -> 42)).isEqualTo(42);
    }

    @Test
    void run_runsOnAnotherPlatformThread() throws Exception {
        BoundedIo io = new BoundedIo(1);

        Thread worker = io.run("which thread", in(10_000), Thread::currentThread);

        assertThat(worker).isNotSameAs(Thread.currentThread());
        assertThat(worker.isVirtual()).isFalse();
    }

    @Test
    void run_callThatThrowsMountException_rethrowsItAsIs() {
        BoundedIo io = new BoundedIo(4);
        MountException thrown = new MountException(MountException.Kind.STALE, "stale");

        MountException e = catchThrowableOfType(MountException.class,
                () -> io.run("stat /x", in(10_000), () -> { throw thrown; }));

        assertThat(e).isSameAs(thrown);
    }

    @Test
    void run_callThatThrowsRuntimeException_rethrowsIt() {
        BoundedIo io = new BoundedIo(4);

        assertThatThrownBy(() -> io.run("stat /x", in(10_000), () -> { throw new IllegalStateException("x"); }))
                .isExactlyInstanceOf(IllegalStateException.class);
    }

    @Test
    void run_successiveCalls_releaseTheirSlot() throws Exception {
        BoundedIo io = new BoundedIo(1);

        for (int i = 0; i < 20; i++) {
            int n = i;
            assertThat(io.run("stat", in(10_000), () -> n)).isEqualTo(n);
        }
    }

    @Test
    void run_failedCalls_releaseTheirSlot() throws Exception {
        BoundedIo io = new BoundedIo(1);

        for (int i = 0; i < 5; i++) {
            assertThatThrownBy(() -> io.run("stat", in(10_000), () -> {
                throw new MountException(MountException.Kind.NO_SUCH_PATH, "gone");
            })).isInstanceOf(MountException.class);
        }
        assertThat(io.run("stat", in(10_000), () -> "ok")).isEqualTo("ok");
    }

    @Test
    void run_callBlockedPastDeadline_isTimedOutQuickly() {
        BoundedIo io = new BoundedIo(4);
        CountDownLatch release = new CountDownLatch(1);
        try {
            long start = System.nanoTime();

            MountException e = catchThrowableOfType(MountException.class,
                    () -> io.run("stat /hung", in(200), blockedUntil(release)));

            assertThat(e).isNotNull();
            assertThat(e.kind()).isEqualTo(MountException.Kind.TIMED_OUT);
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(10));
        } finally {
            release.countDown();
        }
    }

    @Test
    void run_allSlotsHeldByBlockedCalls_nextCallIsBusyAtOnceWithoutRunning() {
        BoundedIo io = new BoundedIo(1);
        CountDownLatch release = new CountDownLatch(1);
        AtomicBoolean secondRan = new AtomicBoolean();
        try {
            MountException first = catchThrowableOfType(MountException.class,
                    () -> io.run("stat /hung", in(200), blockedUntil(release)));
            assertThat(first).isNotNull();
            assertThat(first.kind()).isEqualTo(MountException.Kind.TIMED_OUT);

            MountException second = catchThrowableOfType(MountException.class,
                    () -> io.run("stat /other", in(10_000), () -> {
                        secondRan.set(true);
                        return "ran";
                    }));

            assertThat(second).isNotNull();
            assertThat(second.kind()).isEqualTo(MountException.Kind.BUSY);
            assertThat(second.retryAfter()).hasValue(BoundedIo.RETRY_AFTER);
            assertThat(second.toCsi("stat").code()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
            assertThat(secondRan).isFalse();
        } finally {
            release.countDown();
        }
    }

    @Test
    void run_expiredDeadlineAndBlockingCall_isTimedOut() {
        BoundedIo io = new BoundedIo(2);
        CountDownLatch release = new CountDownLatch(1);
        try {
            MountException e = catchThrowableOfType(MountException.class,
                    () -> io.run("stat /hung", Deadline.after(-1, TimeUnit.SECONDS), blockedUntil(release)));

            assertThat(e).isNotNull();
            assertThat(e.kind()).isEqualTo(MountException.Kind.TIMED_OUT);
        } finally {
            release.countDown();
        }
    }

    @Test
    void run_callerInterrupted_isTimedOutAndKeepsInterruptFlag() {
        BoundedIo io = new BoundedIo(2);
        CountDownLatch release = new CountDownLatch(1);
        Thread.currentThread().interrupt();
        try {
            MountException e = catchThrowableOfType(MountException.class,
                    () -> io.run("stat /hung", in(10_000), blockedUntil(release)));

            assertThat(e).isNotNull();
            assertThat(e.kind()).isEqualTo(MountException.Kind.TIMED_OUT);
            assertThat(Thread.currentThread().isInterrupted()).isTrue();
        } finally {
            Thread.interrupted();
            release.countDown();
        }
    }

    @Test
    void run_callsAbandonedBeforeTheyStart_releaseTheirSlots() throws Exception {
        BoundedIo io = new BoundedIo(2);

        for (int i = 0; i < 50; i++) {
            try {
                io.run("stat", Deadline.after(-1, TimeUnit.SECONDS), () -> "late");
            } catch (MountException expected) {
                // BUSY while the workers have not yet come to the abandoned calls and freed their slots
                assertThat(expected.kind()).isIn(MountException.Kind.TIMED_OUT, MountException.Kind.BUSY);
            }
        }

        awaitHeld(io, 0);
        assertThat(io.run("stat", in(10_000), () -> "ok")).isEqualTo("ok");
    }

    @Test
    void run_abandonedCall_isInterrupted_andHoldsItsSlotUntilItReturns() throws Exception {
        BoundedIo io = new BoundedIo(4);
        CountDownLatch release = new CountDownLatch(1);
        AtomicBoolean sawInterrupt = new AtomicBoolean();
        CountDownLatch returned = new CountDownLatch(1);

        assertThatThrownBy(() -> io.run("stat /hung", in(200), () -> {
            String r = blockedUntil(release).call();
            sawInterrupt.set(Thread.currentThread().isInterrupted());
            returned.countDown();
            return r;
        })).isInstanceOf(MountException.class);
        assertThat(io.held()).isEqualTo(1);

        release.countDown();
        returned.await();
        awaitHeld(io, 0);
        assertThat(sawInterrupt).isTrue();
    }

    @Test
    void lane_withMaxCallsStuck_refusesAtOnceAsUnreachable_otherLanesStillRun_andRecoversWhenTheyReturn()
            throws Exception {
        BoundedIo io = new BoundedIo(16);
        BoundedIo.Lane hung = io.lane("share nfs:/hung", 2);
        BoundedIo.Lane healthy = io.lane("share nfs:/ok", 2);
        CountDownLatch release = new CountDownLatch(1);
        AtomicBoolean ran = new AtomicBoolean();
        try {
            for (int i = 0; i < 2; i++) {
                MountException e = catchThrowableOfType(MountException.class,
                        () -> hung.run("stat /hung", in(100), blockedUntil(release)));
                assertThat(e.kind()).isEqualTo(MountException.Kind.TIMED_OUT);
            }
            assertThat(hung.stuck()).isEqualTo(2);

            long start = System.nanoTime();
            MountException refused = catchThrowableOfType(MountException.class,
                    () -> hung.run("stat /hung", in(10_000), () -> {
                        ran.set(true);
                        return "ran";
                    }));
            System.out.printf("lane full: refused in %d ms%n", (System.nanoTime() - start) / 1_000_000);

            assertThat(refused.kind()).isEqualTo(MountException.Kind.UNREACHABLE);
            assertThat(refused.toCsi("stat").code()).isEqualTo(Status.Code.UNAVAILABLE);
            assertThat(ran).isFalse();
            assertThat(healthy.run("stat /ok", in(10_000), () -> "ok")).isEqualTo("ok");
            assertThat(io.held()).isEqualTo(2);
        } finally {
            release.countDown();
        }
        awaitHeld(io, 0);
        assertThat(hung.stuck()).isZero();
        assertThat(hung.run("stat /hung", in(10_000), () -> "back")).isEqualTo("back");
    }

    @Test
    void lane_callsThatReturnInTime_areNotCountedAsStuck() throws Exception {
        BoundedIo io = new BoundedIo(8);
        BoundedIo.Lane lane = io.lane("share nfs:/ok", 1);

        for (int i = 0; i < 20; i++) {
            assertThat(lane.run("stat", in(10_000), () -> "ok")).isEqualTo("ok");
        }
        assertThat(lane.stuck()).isZero();
    }

    @Test
    void metrics_slotsInUse_stuckCalls_andCallsFailedFastPerServer() throws Exception {
        DriverMetrics metrics = new DriverMetrics();
        BoundedIo io = new BoundedIo(16, "controller", metrics);
        BoundedIo.Lane hung = io.lane("share nfs:/hung", "nfs", 1);
        CountDownLatch release = new CountDownLatch(1);
        try {
            catchThrowableOfType(MountException.class, () -> hung.run("stat /hung", in(100), blockedUntil(release)));
            catchThrowableOfType(MountException.class, () -> io.run("stat /other", in(100), blockedUntil(release)));
            for (int i = 0; i < 3; i++) {
                catchThrowableOfType(MountException.class, () -> hung.run("stat /hung", in(10_000), () -> "ran"));
            }
            Scrape s = Scrape.of(metrics);

            assertThat(s.value("nfs_csi_bounded_io_slots", "pool", "controller")).isEqualTo(16);
            assertThat(s.value("nfs_csi_bounded_io_slots_in_use", "pool", "controller")).isEqualTo(2);
            assertThat(s.value("nfs_csi_bounded_io_stuck_calls", "pool", "controller")).isEqualTo(2);
            assertThat(s.value("nfs_csi_nfs_server_calls_failed_fast_total", "server", "nfs")).isEqualTo(3);
        } finally {
            release.countDown();
        }
        awaitHeld(io, 0);
        Scrape after = Scrape.of(metrics);
        assertThat(after.value("nfs_csi_bounded_io_slots_in_use", "pool", "controller")).isZero();
        assertThat(after.value("nfs_csi_bounded_io_stuck_calls", "pool", "controller")).isZero();
    }

    /** Slots are released on the worker thread: wait (bounded) for the count to settle. */
    private static void awaitHeld(BoundedIo io, int expected) throws InterruptedException {
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (io.held() != expected && System.nanoTime() < until) {
            Thread.sleep(5);
        }
        assertThat(io.held()).isEqualTo(expected);
    }
}
