package io.nfscsi.controller;

import static io.nfscsi.testing.InProcessCsi.assertCode;
import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.Status;
import io.nfscsi.concurrent.BoundedIo;
import io.nfscsi.csi.v1.ControllerGrpc;
import io.nfscsi.csi.v1.Csi;
import io.nfscsi.testing.FakeMounter;
import io.nfscsi.testing.InProcessCsi;
import io.nfscsi.testing.TestPools;
import io.nfscsi.volume.NfsSource;
import io.nfscsi.volume.OnDelete;
import java.io.FileOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A controller call whose file-system access on a share blocks in the kernel, as on a share whose NFS server stopped
 * answering: the record file of the volume is a FIFO without a writer, so opening it blocks in open(2) and ignores
 * interrupts, as a hung NFS LOOKUP does. The call must answer at its deadline, free its volume lock and its share
 * lease, and the share must leave a bounded number of calls stuck.
 */
@Timeout(60)
class HungShareTest {

    static final NfsSource SHARE = NfsSource.of("nfs.example.com", "/exports", null);
    /** The pool key of CreateVolume calls without mount flags. */
    static final SharePool.ShareKey KEY = new SharePool.ShareKey(SHARE, List.of());

    @TempDir
    Path work;
    Clock clock = Clock.fixed(Instant.parse("2026-11-25T23:15:00Z"), ZoneOffset.UTC);
    InProcessCsi csi;
    SharePool pool;
    ControllerGrpc.ControllerBlockingStub controller;
    Path fifo;

    @BeforeEach
    void start() throws Exception {
        // more slots than a share's lane: a hung share fills its lane, not the whole of bounded I/O
        pool = new SharePool(work, new FakeMounter(), new BoundedIo(2 * SharePool.BLOCKED_PER_SHARE), clock,
                Duration.ofMinutes(5), false, Duration.ofSeconds(10));
        Jobs jobs = new Jobs(clock, TestPools.shared());
        Provisioner provisioner = new Provisioner(pool, clock, OnDelete.DELETE, Duration.ofSeconds(5),
                TestPools.walkers(4), jobs);
        Snapshots snapshots = new Snapshots(pool, provisioner, jobs, clock, TestPools.compressing(2));
        provisioner.useSnapshots(snapshots);
        csi = new InProcessCsi(new ControllerService(provisioner, snapshots, OnDelete.DELETE, pool::closeIdle));
        controller = ControllerGrpc.newBlockingStub(csi.channel());
        call(30_000).createVolume(create("pvc-first", "/exports"));
        Path root;
        try (SharePool.Lease lease = pool.acquire(KEY, io.nfscsi.concurrent.Deadline.after(5, TimeUnit.SECONDS))) {
            root = lease.root();
        }
        fifo = VolumeRecords.file(root, "pvc-hung");
        Process mkfifo = new ProcessBuilder("mkfifo", fifo.toString()).inheritIO().start();
        assertThat(mkfifo.waitFor()).isZero();
    }

    @AfterEach
    void stop() throws Exception {
        unblock();
        if (csi != null) {
            csi.close();
        }
    }

    ControllerGrpc.ControllerBlockingStub call(long millis) {
        return controller.withDeadlineAfter(millis, TimeUnit.MILLISECONDS);
    }

    static Csi.CreateVolumeRequest create(String name, String share) {
        return Csi.CreateVolumeRequest.newBuilder().setName(name)
                .setCapacityRange(Csi.CapacityRange.newBuilder().setRequiredBytes(1 << 20))
                .addVolumeCapabilities(ControllerServiceTest.mount())
                .putParameters("server", "nfs.example.com").putParameters("share", share)
                .build();
    }

    /** Lets every open(2) blocked on the FIFO return: a writer opens it and closes it (the readers see EOF). */
    void unblock() throws Exception {
        if (fifo != null && Files.exists(fifo) && pool.stuckCalls(SHARE) > 0) {
            new FileOutputStream(fifo.toFile()).close();
        }
    }

    /**
     * A CreateVolume of {@code pvc-hung} that blocks on its record until {@code millis} pass. The client gives up at
     * the same moment as the server, so a retry may come while the server is still letting go of the volume's lock:
     * ABORTED then, for a moment, and the retry is repeated; a lock that stayed held would be ABORTED for good.
     */
    long blockedCreate(long millis) throws InterruptedException {
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (true) {
            long start = System.nanoTime();
            Status status = Status.fromThrowable(org.assertj.core.api.Assertions.catchThrowable(
                    () -> call(millis).createVolume(create("pvc-hung", "/exports"))));
            if (status.getCode() != Status.Code.ABORTED || System.nanoTime() > until) {
                assertThat(status.getCode()).as(status.toString()).isEqualTo(Status.Code.DEADLINE_EXCEEDED);
                return (System.nanoTime() - start) / 1_000_000;
            }
            Thread.sleep(5);
        }
    }

    /**
     * The open leases of the share once the server has let go of its calls. The client and the server reach the
     * deadline at the same moment, so the server may still be closing the lease when the client has its answer;
     * a lease that stayed open would still be counted after this wait.
     */
    int leasesAfterLettingGo() throws InterruptedException {
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (pool.users(KEY) > 0 && System.nanoTime() < until) {
            Thread.sleep(5);
        }
        return pool.users(KEY);
    }

    /**
     * The share's stuck calls once the server has counted them: it counts a call when its own deadline passes, the
     * same moment the client gives up. Waits at most 5 s for {@code expected}, then answers what it sees.
     */
    int stuckCallsOnceCounted(int expected) throws InterruptedException {
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (pool.stuckCalls(SHARE) < expected && System.nanoTime() < until) {
            Thread.sleep(5);
        }
        return pool.stuckCalls(SHARE);
    }

    @Test
    void createVolume_onABlockedRecord_answersAtItsDeadline_andFreesItsLockAndLease() throws Exception {
        for (int attempt = 0; attempt < 2; attempt++) {
            long ms = blockedCreate(300);
            System.out.printf("CreateVolume on a blocked record file answered after %d ms (deadline 300 ms)%n", ms);
            assertThat(ms).isLessThan(5_000);
        }
        assertThat(leasesAfterLettingGo()).as("leases still open").isZero();
        assertThat(stuckCallsOnceCounted(2)).isEqualTo(2);
    }

    @Test
    void aShareWithItsLaneFullOfStuckCalls_refusesAtOnceAsUnavailable_otherSharesServe_andItRecoversByItself()
            throws Exception {
        for (int i = 0; i < SharePool.BLOCKED_PER_SHARE; i++) {
            blockedCreate(200);
        }
        assertThat(stuckCallsOnceCounted(SharePool.BLOCKED_PER_SHARE)).isEqualTo(SharePool.BLOCKED_PER_SHARE);

        long start = System.nanoTime();
        assertCode(Status.Code.UNAVAILABLE, () -> call(30_000).createVolume(create("pvc-hung", "/exports")));
        assertCode(Status.Code.UNAVAILABLE, () -> call(30_000).createVolume(create("pvc-other-name", "/exports")));
        long ms = (System.nanoTime() - start) / 1_000_000;
        System.out.printf("two calls on a share with %d stuck calls refused in %d ms%n",
                SharePool.BLOCKED_PER_SHARE, ms);
        assertThat(ms).as("refused without waiting for the 30 s deadline").isLessThan(10_000);
        assertThat(leasesAfterLettingGo()).isZero();

        call(30_000).createVolume(create("pvc-elsewhere", "/exports-2"));

        unblock();
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (pool.stuckCalls(SHARE) > 0 && System.nanoTime() < until) {
            Thread.sleep(10);
        }
        assertThat(pool.stuckCalls(SHARE)).isZero();
        Files.delete(fifo);
        var volume = call(30_000).createVolume(create("pvc-hung", "/exports")).getVolume();
        assertThat(volume.getVolumeId()).contains("pvc-hung");
    }
}
