package io.nfscsi.controller;

import static io.nfscsi.testing.InProcessCsi.assertCode;
import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.nfscsi.concurrent.BoundedIo;
import io.nfscsi.csi.v1.ControllerGrpc;
import io.nfscsi.csi.v1.Csi;
import io.nfscsi.testing.FakeMounter;
import io.nfscsi.testing.InProcessCsi;
import io.nfscsi.testing.MutableClock;
import io.nfscsi.testing.TestPools;
import io.nfscsi.volume.OnDelete;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two controller replicas (each with its own jobs and owner identity) on one share directory: a fill or archive
 * owned by one is ABORTED on the other while it is live, taken over once it is stale, and the old job, when it
 * wakes, stops without removing what the new owner finished. The clock is injected; the "pause" of replica A is a
 * progress hook that holds its job.
 */
class TwoReplicasProvisionerTest {

    static final Duration STALE = Duration.ofMinutes(1);
    static final int FILES = 40;

    @TempDir
    Path work;
    final MutableClock clock = new MutableClock(Instant.parse("2026-12-01T10:00:00Z"));
    final FakeMounter mounter = new FakeMounter();
    Replica a;
    Replica b;
    /** Replica A's jobs stop here on every progress report while it is set. */
    volatile CountDownLatch pauseA;
    final CountDownLatch pausedA = new CountDownLatch(1);

    /** One replica: its own jobs and owners over the shared share pool (the share is one directory). */
    static final class Replica implements AutoCloseable {
        final Jobs jobs;
        final InProcessCsi csi;
        final ControllerGrpc.ControllerBlockingStub controller;

        Replica(String id, SharePool pool, BoundedIo io, MutableClock clock, Consumer<Jobs.Job> hook)
                throws Exception {
            Owners owners = new Owners(id, clock, STALE);
            jobs = new Jobs(clock, TestPools.shared(), hook);
            Provisioner provisioner = new Provisioner(pool, clock, OnDelete.DELETE, Duration.ofSeconds(5),
                    TestPools.walkers(4), jobs, owners);
            Snapshots snapshots = new Snapshots(pool, provisioner, jobs, clock, TestPools.compressing(2), owners);
            provisioner.useSnapshots(snapshots);
            csi = new InProcessCsi(new ControllerService(provisioner, snapshots, OnDelete.DELETE, () -> { }));
            controller = ControllerGrpc.newBlockingStub(csi.channel());
        }

        ControllerGrpc.ControllerBlockingStub call() {
            return controller.withDeadlineAfter(20, TimeUnit.SECONDS);
        }

        @Override
        public void close() {
            csi.close();
        }
    }

    @BeforeEach
    void start() throws Exception {
        BoundedIo io = new BoundedIo(8);
        SharePool pool = new SharePool(work, mounter, io, clock, Duration.ofMinutes(5), false, Duration.ofSeconds(10));
        a = new Replica("replica-a", pool, io, clock, job -> {
            CountDownLatch pause = pauseA;
            if (pause != null) {
                pausedA.countDown();
                try {
                    pause.await(30, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        });
        b = new Replica("replica-b", pool, io, clock, job -> { });
    }

    @AfterEach
    void stop() {
        CountDownLatch pause = pauseA;
        if (pause != null) {
            pause.countDown();
        }
        a.close();
        b.close();
    }

    Path share() throws Exception {
        try (Stream<Path> dirs = Files.list(work)) {
            return dirs.filter(Files::isDirectory).findFirst().orElseThrow();
        }
    }

    static Csi.CreateVolumeRequest cloneRequest(String name, String sourceId) {
        return ControllerServiceTest.create(name).setVolumeContentSource(SnapshotServiceTest.fromVolume(sourceId))
                .build();
    }

    static Csi.Volume createRetrying(Replica r, Csi.CreateVolumeRequest request) {
        for (int i = 0; ; i++) {
            try {
                return r.call().createVolume(request).getVolume();
            } catch (StatusRuntimeException e) {
                if (e.getStatus().getCode() != Status.Code.ABORTED || i > 50) {
                    throw e;
                }
            }
        }
    }

    /** A source volume of {@link #FILES} files on the share, made through replica A. */
    String sourceVolume() throws Exception {
        String id = createRetrying(a, ControllerServiceTest.create("pvc-src").build()).getVolumeId();
        for (int i = 0; i < FILES; i++) {
            Files.writeString(share().resolve("pvc-src/file-" + i), "content " + i);
        }
        return id;
    }

    /** Starts a clone on A and holds its job at its first progress report, as if A were paused. */
    void cloneHeldOnA(String sourceId) throws Exception {
        pauseA = new CountDownLatch(1);
        assertCode(Status.Code.ABORTED, () -> a.controller.withDeadlineAfter(2, TimeUnit.SECONDS)
                .createVolume(cloneRequest("pvc-clone", sourceId)));
        assertThat(pausedA.await(20, TimeUnit.SECONDS)).isTrue();
    }

    void assertCloneComplete() throws Exception {
        for (int i = 0; i < FILES; i++) {
            assertThat(share().resolve("pvc-clone/file-" + i)).hasContent("content " + i);
        }
        assertThat(share().resolve(".nfs-csi/volumes/pvc-clone.properties")).exists();
        try (Stream<Path> staged = Files.list(share().resolve(Staging.DIRECTORY))) {
            assertThat(staged).as("no staging directory is left").isEmpty();
        }
    }

    @Test
    void createVolume_whileAnotherReplicaFillsIt_isAbortedNamingTheOwner_andTouchesNothing() throws Exception {
        String source = sourceVolume();
        cloneHeldOnA(source);
        Status status = assertCode(Status.Code.ABORTED, () -> b.call().createVolume(cloneRequest("pvc-clone", source)));
        assertThat(status.getDescription()).contains("replica-a");
        assertCode(Status.Code.ABORTED, () -> b.call().deleteVolume(Csi.DeleteVolumeRequest.newBuilder()
                .setVolumeId("nfs-csi:1#nfs.example.com#/exports#pvc-clone#pvc-clone#delete").build()));
        try (Stream<Path> staged = Files.list(share().resolve(Staging.DIRECTORY))) {
            assertThat(staged).as("A's staging directory is untouched").hasSize(1);
        }
        pauseA.countDown();
        assertThat(createRetrying(a, cloneRequest("pvc-clone", source)).getVolumeId()).contains("pvc-clone");
        assertCloneComplete();
    }

    @Test
    void createVolume_ownerStale_isTakenOverAndCompleted_andTheOldJobRemovesNothingWhenItWakes() throws Exception {
        String source = sourceVolume();
        cloneHeldOnA(source);
        Jobs.Job oldJob = a.jobs.find(Provisioner.fillKey("pvc-clone")).orElseThrow();
        clock.advance(STALE.plusSeconds(5));

        Csi.Volume clone = createRetrying(b, cloneRequest("pvc-clone", source));
        assertCloneComplete();

        // A wakes: it finds that it lost the volume, and stops without its failure clean-up
        pauseA.countDown();
        oldJob.done.handle((ok, failed) -> null).get(20, TimeUnit.SECONDS);
        assertThat(oldJob.done).isCompletedExceptionally();
        assertCloneComplete();
        // A's retried call reports the job's end once (ABORTED: taken over), then the finished volume
        Status status = assertCode(Status.Code.ABORTED, () -> a.call().createVolume(cloneRequest("pvc-clone", source)));
        assertThat(status.getDescription()).contains("taken over");
        assertThat(a.call().createVolume(cloneRequest("pvc-clone", source)).getVolume()).isEqualTo(clone);
        assertCloneComplete();
        try (Stream<Path> owners = Files.list(share().resolve(Owners.DIRECTORY))) {
            assertThat(owners.filter(f -> !f.getFileName().toString().startsWith("."))).as("no owner record is left")
                    .isEmpty();
        }
    }

    @Test
    void createSnapshot_whileAnotherReplicaArchivesIt_isAborted_thenTakenOverOnceStale() throws Exception {
        String source = sourceVolume();
        pauseA = new CountDownLatch(1);
        var request = Csi.CreateSnapshotRequest.newBuilder().setName("snap-1").setSourceVolumeId(source).build();
        // A answers ready_to_use false at once and archives behind it; its job is held at its first progress report
        assertThat(a.call().createSnapshot(request).getSnapshot().getReadyToUse()).isFalse();
        assertThat(pausedA.await(20, TimeUnit.SECONDS)).isTrue();
        Status status = assertCode(Status.Code.ABORTED, () -> b.call().createSnapshot(request));
        assertThat(status.getDescription()).contains("replica-a");

        clock.advance(STALE.plusSeconds(5));
        Csi.Snapshot snapshot = null;
        for (int i = 0; i < 100 && (snapshot == null || !snapshot.getReadyToUse()); i++) {
            snapshot = b.call().createSnapshot(request).getSnapshot();
            Thread.sleep(snapshot.getReadyToUse() ? 0 : 50);
        }
        assertThat(snapshot.getReadyToUse()).isTrue();
        Jobs.Job oldJob = a.jobs.find(Snapshots.jobKey(io.nfscsi.volume.SnapshotId.parse(snapshot.getSnapshotId())))
                .orElseThrow();
        pauseA.countDown();
        oldJob.done.handle((ok, failed) -> null).get(20, TimeUnit.SECONDS);
        try (Stream<Path> files = Files.list(share().resolve("snap-1"))) {
            assertThat(files.map(f -> f.getFileName().toString())).as("the finished archive, and no partial one")
                    .containsExactly("pvc-src.tar.gz");
        }
        // the finished archive restores every file
        pauseA = null;
        Csi.Volume restored = createRetrying(b, ControllerServiceTest.create("pvc-restored")
                .setVolumeContentSource(SnapshotServiceTest.fromSnapshot(snapshot.getSnapshotId())).build());
        assertThat(restored.getVolumeId()).contains("pvc-restored");
        for (int i = 0; i < FILES; i++) {
            assertThat(share().resolve("pvc-restored/file-" + i)).hasContent("content " + i);
        }
    }
}
