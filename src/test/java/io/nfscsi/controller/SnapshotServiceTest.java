package io.nfscsi.controller;

import static io.nfscsi.testing.InProcessCsi.assertCode;
import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.nfscsi.csi.v1.ControllerGrpc;
import io.nfscsi.csi.v1.Csi;
import io.nfscsi.concurrent.BoundedIo;
import io.nfscsi.testing.FakeMounter;
import io.nfscsi.testing.InProcessCsi;
import io.nfscsi.testing.TestPools;
import io.nfscsi.volume.OnDelete;
import io.nfscsi.volume.SnapshotId;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.function.Consumer;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Snapshot, restore and clone request handling with an in-memory mount table: the "share" is a local directory,
 * the archives and copies are real. The same against a real NFS server is {@code SnapshotTest}, in the test bed.
 */
class SnapshotServiceTest {

    @TempDir
    Path work;
    FakeMounter mounter = new FakeMounter();
    InProcessCsi csi;
    ControllerGrpc.ControllerBlockingStub controller;
    Jobs jobs;
    /** Called on every progress report of every background job; a test slows a job down with it. */
    volatile Consumer<Jobs.Job> progressHook = job -> { };

    @BeforeEach
    void start() throws Exception {
        Clock clock = Clock.systemUTC();
        BoundedIo io = new BoundedIo(8);
        SharePool pool = new SharePool(work, mounter, io, clock, Duration.ofMinutes(5), false, Duration.ofSeconds(10));
        jobs = new Jobs(clock, TestPools.shared(), job -> progressHook.accept(job));
        Provisioner provisioner = new Provisioner(pool, clock, OnDelete.DELETE, Duration.ofSeconds(5),
                TestPools.walkers(4), jobs);
        Snapshots snapshots = new Snapshots(pool, provisioner, jobs, clock, TestPools.compressing(2));
        provisioner.useSnapshots(snapshots);
        csi = new InProcessCsi(new ControllerService(provisioner, snapshots, OnDelete.DELETE, pool::closeIdle));
        controller = ControllerGrpc.newBlockingStub(csi.channel()).withDeadlineAfter(30, TimeUnit.SECONDS);
    }

    @AfterEach
    void stop() {
        csi.close();
    }

    Path share() throws Exception {
        try (Stream<Path> dirs = Files.list(work)) {
            return dirs.filter(Files::isDirectory).findFirst().orElseThrow();
        }
    }

    Csi.Volume volume(String name, long bytes, Csi.VolumeContentSource source) {
        var b = ControllerServiceTest.create(name).setCapacityRange(Csi.CapacityRange.newBuilder()
                .setRequiredBytes(bytes));
        if (source != null) {
            b.setVolumeContentSource(source);
        }
        for (int i = 0; ; i++) {
            try {
                return controller.createVolume(b.build()).getVolume();
            } catch (StatusRuntimeException e) {
                if (e.getStatus().getCode() != Status.Code.ABORTED || i > 50) {
                    throw e;
                }
            }
        }
    }

    Csi.Snapshot snapshot(String name, String source, String... params) throws Exception {
        var request = Csi.CreateSnapshotRequest.newBuilder().setName(name).setSourceVolumeId(source);
        for (int i = 0; i < params.length; i += 2) {
            request.putParameters(params[i], params[i + 1]);
        }
        Csi.Snapshot s = controller.createSnapshot(request.build()).getSnapshot();
        for (int i = 0; !s.getReadyToUse() && i < 200; i++) {
            Thread.sleep(50);
            s = controller.createSnapshot(request.build()).getSnapshot();
        }
        return s;
    }

    static Csi.VolumeContentSource fromSnapshot(String id) {
        return Csi.VolumeContentSource.newBuilder().setSnapshot(
                Csi.VolumeContentSource.SnapshotSource.newBuilder().setSnapshotId(id)).build();
    }

    static Csi.VolumeContentSource fromVolume(String id) {
        return Csi.VolumeContentSource.newBuilder().setVolume(
                Csi.VolumeContentSource.VolumeSource.newBuilder().setVolumeId(id)).build();
    }

    @Test
    void createSnapshot_missingFields_isInvalidArgument_badSourceIsNotFound() {
        assertCode(Status.Code.INVALID_ARGUMENT, () -> controller.createSnapshot(Csi.CreateSnapshotRequest
                .newBuilder().setName("s").build()));
        assertCode(Status.Code.INVALID_ARGUMENT, () -> controller.createSnapshot(Csi.CreateSnapshotRequest
                .newBuilder().setSourceVolumeId("nfs-csi:1#h#/e#d#n#delete").build()));
        assertCode(Status.Code.INVALID_ARGUMENT, () -> controller.createSnapshot(Csi.CreateSnapshotRequest
                .newBuilder().setName("s").setSourceVolumeId("nfs-csi:1#h#/e#d#n#delete")
                .putParameters("colour", "blue").build()));
        assertCode(Status.Code.INVALID_ARGUMENT, () -> controller.createSnapshot(Csi.CreateSnapshotRequest
                .newBuilder().setName("s").setSourceVolumeId("nfs-csi:1#h#/e#d#n#delete")
                .putParameters("compression", "lz4").build()));
        assertCode(Status.Code.NOT_FOUND, () -> controller.createSnapshot(Csi.CreateSnapshotRequest.newBuilder()
                .setName("s").setSourceVolumeId("garbage").build()));
    }

    /** Found by the fuzz test: it was INTERNAL. */
    @Test
    void createSnapshot_ofACsiDriverNfsVolumeWhoseSubDirIsTooLongToNameAnArchive_isInvalidArgument() {
        String subDir = String.join("/", java.util.Collections.nCopies(150, "a"));
        var e = org.assertj.core.api.Assertions.catchThrowableOfType(io.grpc.StatusRuntimeException.class,
                () -> controller.createSnapshot(Csi.CreateSnapshotRequest.newBuilder().setName("s")
                        .setSourceVolumeId("nfs.example.com#exports#" + subDir).build()));
        assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
        assertThat(e.getStatus().getDescription()).startsWith("source_volume_id: ").contains("299 bytes long");
    }

    @Test
    void snapshot_archivesInTheCsiDriverNfsLayout_andRestores() throws Exception {
        var source = volume("pvc-src", 1 << 20, null);
        Files.writeString(share().resolve("pvc-src/data"), "payload");
        Csi.Snapshot snap = snapshot("snap-1", source.getVolumeId());
        assertThat(snap.getReadyToUse()).isTrue();
        assertThat(share().resolve("snap-1/pvc-src.tar.gz")).isRegularFile();
        assertThat(snap.getSizeBytes()).isEqualTo(Files.size(share().resolve("snap-1/pvc-src.tar.gz")));
        assertThat(snap.getSourceVolumeId()).isEqualTo(source.getVolumeId());
        assertThat(snap.getSnapshotId()).isEqualTo("nfs-csi-snapshot:1#nfs.example.com#/exports#snap-1#pvc-src");

        var restored = volume("pvc-restored", 1 << 20, fromSnapshot(snap.getSnapshotId()));
        assertThat(restored.getContentSource().hasSnapshot()).isTrue();
        assertThat(share().resolve("pvc-restored/data")).hasContent("payload");
        assertThat(volume("pvc-restored", 1 << 20, fromSnapshot(snap.getSnapshotId()))).isEqualTo(restored);
    }

    @Test
    void snapshot_sameNameOtherSource_isAlreadyExists() throws Exception {
        var a = volume("pvc-a", 1 << 20, null);
        var b = volume("pvc-b", 1 << 20, null);
        snapshot("snap-1", a.getVolumeId());
        assertCode(Status.Code.ALREADY_EXISTS, () -> controller.createSnapshot(Csi.CreateSnapshotRequest.newBuilder()
                .setName("snap-1").setSourceVolumeId(b.getVolumeId()).build()));
    }

    @Test
    void snapshot_partialLeftByACrash_isRemovedAndRedone() throws Exception {
        var source = volume("pvc-src", 1 << 20, null);
        Files.writeString(share().resolve("pvc-src/data"), "payload");
        Files.createDirectories(share().resolve("snap-crash"));
        Files.writeString(share().resolve("snap-crash/.pvc-src.partial-dead"), "half an archive");
        Csi.Snapshot snap = snapshot("snap-crash", source.getVolumeId());
        assertThat(snap.getReadyToUse()).isTrue();
        try (Stream<Path> files = Files.list(share().resolve("snap-crash"))) {
            assertThat(files.map(p -> p.getFileName().toString())).containsExactly("pvc-src.tar.gz");
        }
    }

    @Test
    void zstdAndPlainTar_restoreToo() throws Exception {
        var source = volume("pvc-src", 1 << 20, null);
        Files.writeString(share().resolve("pvc-src/data"), "payload");
        for (String compression : List.of("none", "zstd")) {
            Csi.Snapshot snap;
            try {
                snap = snapshot("snap-" + compression, source.getVolumeId(), "compression", compression);
            } catch (StatusRuntimeException e) {
                if (compression.equals("zstd") && e.getStatus().getCode() == Status.Code.INTERNAL) {
                    continue; // no zstd native library on this machine; the gzip path is the default
                }
                throw e;
            }
            volume("pvc-" + compression, 1 << 20, fromSnapshot(snap.getSnapshotId()));
            assertThat(share().resolve("pvc-" + compression + "/data")).hasContent("payload");
        }
    }

    @Test
    void listGetAndDeleteSnapshots() throws Exception {
        var a = volume("pvc-a", 1 << 20, null);
        var b = volume("pvc-b", 1 << 20, null);
        String s1 = snapshot("snap-1", a.getVolumeId()).getSnapshotId();
        String s2 = snapshot("snap-2", a.getVolumeId()).getSnapshotId();
        String s3 = snapshot("snap-3", b.getVolumeId()).getSnapshotId();
        assertThat(controller.listSnapshots(Csi.ListSnapshotsRequest.getDefaultInstance()).getEntriesList())
                .extracting(e -> e.getSnapshot().getSnapshotId()).containsExactly(s1, s2, s3);
        assertThat(controller.listSnapshots(Csi.ListSnapshotsRequest.newBuilder()
                .setSourceVolumeId(a.getVolumeId()).build()).getEntriesList())
                .extracting(e -> e.getSnapshot().getSnapshotId()).containsExactly(s1, s2);
        assertThat(controller.listSnapshots(Csi.ListSnapshotsRequest.newBuilder().setSnapshotId(s3).build())
                .getEntriesList()).extracting(e -> e.getSnapshot().getSnapshotId()).containsExactly(s3);
        assertThat(controller.listSnapshots(Csi.ListSnapshotsRequest.newBuilder().setSnapshotId("junk").build())
                .getEntriesList()).isEmpty();
        var page = controller.listSnapshots(Csi.ListSnapshotsRequest.newBuilder().setMaxEntries(2).build());
        assertThat(page.getEntriesCount()).isEqualTo(2);
        var rest = controller.listSnapshots(Csi.ListSnapshotsRequest.newBuilder()
                .setStartingToken(page.getNextToken()).build());
        assertThat(rest.getEntriesList()).extracting(e -> e.getSnapshot().getSnapshotId()).containsExactly(s3);

        assertThat(controller.getSnapshot(Csi.GetSnapshotRequest.newBuilder().setSnapshotId(s2).build())
                .getSnapshot().getReadyToUse()).isTrue();
        controller.deleteSnapshot(Csi.DeleteSnapshotRequest.newBuilder().setSnapshotId(s2).build());
        assertThat(share().resolve("snap-2")).doesNotExist();
        controller.deleteSnapshot(Csi.DeleteSnapshotRequest.newBuilder().setSnapshotId(s2).build());
        controller.deleteSnapshot(Csi.DeleteSnapshotRequest.newBuilder().setSnapshotId("junk#").build());
        assertCode(Status.Code.NOT_FOUND, () -> controller.getSnapshot(Csi.GetSnapshotRequest.newBuilder()
                .setSnapshotId(s2).build()));
        // the token's snapshot is gone: the next page still starts after it
        assertThat(controller.listSnapshots(Csi.ListSnapshotsRequest.newBuilder()
                .setStartingToken(page.getNextToken()).build()).getEntriesList())
                .extracting(e -> e.getSnapshot().getSnapshotId()).containsExactly(s3);
    }

    @Test
    void clone_copiesTheSource_andChecksSizeAndExistence() throws Exception {
        var source = volume("pvc-src", 1 << 20, null);
        Files.createDirectories(share().resolve("pvc-src/dir"));
        Files.writeString(share().resolve("pvc-src/dir/f"), "cloned");
        Files.createSymbolicLink(share().resolve("pvc-src/up"), Path.of("../.."));
        var clone = volume("pvc-clone", 1 << 20, fromVolume(source.getVolumeId()));
        assertThat(clone.getContentSource().getVolume().getVolumeId()).isEqualTo(source.getVolumeId());
        assertThat(share().resolve("pvc-clone/dir/f")).hasContent("cloned");
        assertThat(Files.readSymbolicLink(share().resolve("pvc-clone/up"))).isEqualTo(Path.of("../.."));
        assertCode(Status.Code.OUT_OF_RANGE, () -> volume("pvc-small", 1 << 10, fromVolume(source.getVolumeId())));
        assertCode(Status.Code.NOT_FOUND, () -> volume("pvc-x", 1 << 20,
                fromVolume("nfs-csi:1#nfs.example.com#/exports#absent#absent#delete")));
        assertCode(Status.Code.NOT_FOUND, () -> volume("pvc-y", 1 << 20, fromVolume("garbage")));
        assertCode(Status.Code.NOT_FOUND, () -> volume("pvc-z", 1 << 20, fromSnapshot("garbage")));
        assertThat(share().resolve("pvc-small")).doesNotExist();
    }

    // ---- idempotency covers the content source ----

    @Test
    void create_sameNameOtherContentSource_isAlreadyExists() throws Exception {
        var source = volume("pvc-src", 1 << 20, null);
        var other = volume("pvc-other", 1 << 20, null);
        String snapA = snapshot("snap-a", source.getVolumeId()).getSnapshotId();
        String snapB = snapshot("snap-b", source.getVolumeId()).getSnapshotId();

        var restored = volume("pvc-restored", 1 << 20, fromSnapshot(snapA));
        assertThat(volume("pvc-restored", 1 << 20, fromSnapshot(snapA))).isEqualTo(restored);
        assertCode(Status.Code.ALREADY_EXISTS, () -> volume("pvc-restored", 1 << 20, fromSnapshot(snapB)));
        assertCode(Status.Code.ALREADY_EXISTS, () -> volume("pvc-restored", 1 << 20, null));
        assertCode(Status.Code.ALREADY_EXISTS, () -> volume("pvc-restored", 1 << 20,
                fromVolume(source.getVolumeId())));

        var clone = volume("pvc-clone", 1 << 20, fromVolume(source.getVolumeId()));
        assertThat(volume("pvc-clone", 1 << 20, fromVolume(source.getVolumeId()))).isEqualTo(clone);
        assertCode(Status.Code.ALREADY_EXISTS, () -> volume("pvc-clone", 1 << 20, fromVolume(other.getVolumeId())));
        assertCode(Status.Code.ALREADY_EXISTS, () -> volume("pvc-clone", 1 << 20, null));

        // a volume made empty (its record has no source, as every record written before sources were kept)
        assertCode(Status.Code.ALREADY_EXISTS, () -> volume("pvc-other", 1 << 20, fromSnapshot(snapA)));
        assertCode(Status.Code.ALREADY_EXISTS, () -> volume("pvc-other", 1 << 20, fromVolume(source.getVolumeId())));
        assertThat(volume("pvc-other", 1 << 20, null)).isEqualTo(other);
    }

    // ---- a background job never outlives the deletion of its object ----

    /** Holds every job at its next progress report until it is cancelled (at most 10 s); counts down on entry. */
    CountDownLatch holdJobsUntilCancelled() {
        CountDownLatch entered = new CountDownLatch(1);
        progressHook = job -> {
            entered.countDown();
            try {
                job.cancelled.get(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (Exception timedOut) {
                // the job goes on, as it would without a cancel
            }
        };
        return entered;
    }

    @Test
    void deleteVolume_whileItsCloneFills_cancelsTheFill_andNoRecordIsWrittenAfterwards() throws Exception {
        var source = volume("pvc-src", 1 << 20, null);
        Files.writeString(share().resolve("pvc-src/data"), "payload");
        CountDownLatch entered = holdJobsUntilCancelled();
        var request = ControllerServiceTest.create("pvc-clone").setVolumeContentSource(fromVolume(source.getVolumeId()))
                .build();
        // the call's deadline comes while the fill is held: it answers ABORTED, the fill goes on
        assertCode(Status.Code.ABORTED, () -> controller.withDeadlineAfter(2, TimeUnit.SECONDS).createVolume(request));
        assertThat(entered.await(10, TimeUnit.SECONDS)).isTrue();
        Jobs.Job fill = jobs.find(Provisioner.fillKey("pvc-clone")).orElseThrow();

        String cloneId = "nfs-csi:1#nfs.example.com#/exports#pvc-clone#pvc-clone#delete";
        controller.deleteVolume(Csi.DeleteVolumeRequest.newBuilder().setVolumeId(cloneId).build());
        assertThat(fill.done).as("DeleteVolume answers once the fill has stopped").isDone();
        fill.done.handle((ok, failed) -> null).get(20, TimeUnit.SECONDS);

        assertThat(share().resolve(".nfs-csi/volumes/pvc-clone.properties")).doesNotExist();
        assertThat(share().resolve("pvc-clone")).doesNotExist();
        assertCode(Status.Code.NOT_FOUND, () -> controller.controllerGetVolume(Csi.ControllerGetVolumeRequest
                .newBuilder().setVolumeId(cloneId).build()));
        // the name is free again: a new CreateVolume starts a new fill
        progressHook = job -> { };
        assertThat(volume("pvc-clone", 1 << 20, fromVolume(source.getVolumeId())).getVolumeId()).isEqualTo(cloneId);
        assertThat(share().resolve("pvc-clone/data")).hasContent("payload");
    }

    @Test
    void deleteSnapshot_whileItIsArchived_cancelsTheArchive_andNoArchiveOrRecordIsWrittenAfterwards()
            throws Exception {
        var source = volume("pvc-src", 1 << 20, null);
        Files.writeString(share().resolve("pvc-src/data"), "payload");
        CountDownLatch entered = holdJobsUntilCancelled();
        Csi.Snapshot first = controller.createSnapshot(Csi.CreateSnapshotRequest.newBuilder().setName("snap-1")
                .setSourceVolumeId(source.getVolumeId()).build()).getSnapshot();
        assertThat(first.getReadyToUse()).isFalse();
        assertThat(entered.await(10, TimeUnit.SECONDS)).isTrue();
        Jobs.Job archive = jobs.find(Snapshots.jobKey(SnapshotId.parse(first.getSnapshotId()))).orElseThrow();

        controller.deleteSnapshot(Csi.DeleteSnapshotRequest.newBuilder().setSnapshotId(first.getSnapshotId()).build());
        assertThat(archive.done).as("DeleteSnapshot answers once the archiving has stopped").isDone();
        archive.done.handle((ok, failed) -> null).get(20, TimeUnit.SECONDS);

        assertThat(share().resolve("snap-1")).doesNotExist();
        assertThat(share().resolve(".nfs-csi/snapshots/snap-1.properties")).doesNotExist();
        assertCode(Status.Code.NOT_FOUND, () -> controller.getSnapshot(Csi.GetSnapshotRequest.newBuilder()
                .setSnapshotId(first.getSnapshotId()).build()));
    }

    // ---- a snapshot ID names a directory of the share: never a volume's ----

    @Test
    void deleteSnapshot_whoseNameIsAVolumesDirectory_deletesNothingOfTheVolume() throws Exception {
        var volume = volume("pvc-data", 1 << 20, null);
        Files.writeString(share().resolve("pvc-data/data"), "payload");
        // a well-formed snapshot ID whose name is the volume's directory, as a caller could send
        controller.deleteSnapshot(Csi.DeleteSnapshotRequest.newBuilder()
                .setSnapshotId("nfs-csi-snapshot:1#nfs.example.com#/exports#pvc-data#pvc-data").build());
        assertThat(share().resolve("pvc-data/data")).hasContent("payload");
        assertThat(controller.controllerGetVolume(Csi.ControllerGetVolumeRequest.newBuilder()
                .setVolumeId(volume.getVolumeId()).build()).getStatus().getVolumeCondition().getAbnormal()).isFalse();
    }

    @Test
    void createSnapshot_whoseNameIsAVolumesDirectory_isAlreadyExists_andWritesNothingThere() throws Exception {
        var source = volume("pvc-src", 1 << 20, null);
        volume("pvc-other", 1 << 20, null);
        Files.writeString(share().resolve("pvc-other/data"), "payload");
        assertCode(Status.Code.ALREADY_EXISTS, () -> controller.createSnapshot(Csi.CreateSnapshotRequest.newBuilder()
                .setName("pvc-other").setSourceVolumeId(source.getVolumeId()).build()));
        try (Stream<Path> entries = Files.list(share().resolve("pvc-other"))) {
            assertThat(entries.map(p -> p.getFileName().toString())).containsExactly("data");
        }
    }

    @Test
    void createVolume_whoseSubDirIsASnapshotsDirectory_isAlreadyExists() throws Exception {
        var source = volume("pvc-src", 1 << 20, null);
        snapshot("snap-1", source.getVolumeId());
        assertCode(Status.Code.ALREADY_EXISTS, () -> controller.createVolume(ControllerServiceTest.create("pvc-new",
                "subDir", "snap-1").build()));
        assertThat(share().resolve("snap-1/pvc-src.tar.gz")).isRegularFile();
    }

    @Test
    void deleteVolume_whileACloneReadsIt_isAborted_andDeletesOnceTheCloneIsDone() throws Exception {
        var source = volume("pvc-src", 1 << 20, null);
        Files.writeString(share().resolve("pvc-src/data"), "payload");
        CountDownLatch entered = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        progressHook = job -> {
            entered.countDown();
            try {
                release.await(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        };
        var request = ControllerServiceTest.create("pvc-clone").setVolumeContentSource(fromVolume(source.getVolumeId()))
                .build();
        assertCode(Status.Code.ABORTED, () -> controller.withDeadlineAfter(2, TimeUnit.SECONDS).createVolume(request));
        assertThat(entered.await(10, TimeUnit.SECONDS)).isTrue();

        var delete = Csi.DeleteVolumeRequest.newBuilder().setVolumeId(source.getVolumeId()).build();
        assertCode(Status.Code.ABORTED, () -> controller.deleteVolume(delete));
        assertThat(share().resolve("pvc-src/data")).hasContent("payload");

        progressHook = job -> { };
        release.countDown();
        assertThat(volume("pvc-clone", 1 << 20, fromVolume(source.getVolumeId())).getVolumeId()).isNotEmpty();
        assertThat(share().resolve("pvc-clone/data")).hasContent("payload");
        controller.deleteVolume(delete);
        assertThat(share().resolve("pvc-src")).doesNotExist();
    }
}
