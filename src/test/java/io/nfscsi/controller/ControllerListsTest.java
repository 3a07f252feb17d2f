package io.nfscsi.controller;

import static io.nfscsi.testing.InProcessCsi.assertCode;
import static org.assertj.core.api.Assertions.assertThat;

import io.nfscsi.concurrent.Deadline;
import io.grpc.Status;
import io.nfscsi.csi.v1.ControllerGrpc;
import io.nfscsi.csi.v1.Csi;
import io.nfscsi.concurrent.BoundedIo;
import io.nfscsi.mount.MountException;
import io.nfscsi.mount.MountTable;
import io.nfscsi.mount.Mounter;
import io.nfscsi.mount.Posix;
import io.nfscsi.posix.FsStats;
import io.nfscsi.testing.FakeMounter;
import io.nfscsi.testing.InProcessCsi;
import io.nfscsi.testing.TestPools;
import io.nfscsi.volume.OnDelete;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the controller lists (ListVolumes, ListSnapshots) and counts (GetCapacity without parameters): the known
 * shares, across a restart, page by page, past damaged records and unreachable shares. Shares are local directories
 * below {@link #exports}; "mounting" one makes the mount point show it, as an NFS mount shows the export, so that a
 * controller with a fresh working directory sees the same shares. The same against a real NFS server is
 * {@code ListsRestartTest}, in the test bed.
 */
class ControllerListsTest {

    static final String SERVER = "nfs.example.com";

    @TempDir
    Path exports;
    @TempDir
    Path work;
    @TempDir
    Path otherWork;
    Clock clock = Clock.fixed(Instant.parse("2026-11-25T23:15:00Z"), ZoneOffset.UTC);
    ExportingMounter mounter;
    ControllerService service;
    InProcessCsi csi;
    ControllerGrpc.ControllerBlockingStub controller;

    /**
     * A mount table in memory (FakeMounter's) whose mounts make the mount point a link to the export's directory;
     * a source in {@link #down} fails to mount, as a server that does not answer.
     */
    final class ExportingMounter implements Mounter {
        final FakeMounter table = new FakeMounter();
        volatile Set<String> down = Set.of();

        @Override
        public void mount(String source, Path target, String fsType, List<String> options, Deadline deadline)
                throws MountException {
            if (down.contains(source)) {
                throw new MountException(MountException.Kind.TIMED_OUT, "fake: " + source + " does not answer");
            }
            table.mount(source, target, fsType, options, deadline);
            try {
                Path export = exports.resolve(source.substring(source.indexOf(":/") + 2));
                Files.createDirectories(export);
                Files.delete(target);
                Files.createSymbolicLink(target, export);
            } catch (java.io.IOException e) {
                throw new MountException(MountException.Kind.FAILED, e.toString());
            }
        }

        @Override
        public void unmount(Path target, Deadline deadline) throws MountException {
            table.unmount(target, deadline);
            try {
                if (Files.isSymbolicLink(target)) {
                    Files.delete(target);
                    Files.createDirectory(target);
                }
            } catch (java.io.IOException e) {
                throw new MountException(MountException.Kind.FAILED, e.toString());
            }
        }

        @Override
        public MountTable table() {
            return table.table();
        }
    }

    /** A controller process: a fresh mount table, the working directory and flags given. */
    void start(Path workingDir, String... shareFlags) throws Exception {
        stop();
        mounter = new ExportingMounter();
        List<ControllerSettings.Share> shares = new ArrayList<>();
        for (String flag : shareFlags) {
            shares.add(ControllerSettings.Share.parse("--share", flag));
        }
        service = ControllerService.create(new ControllerSettings(workingDir, mounter, new BoundedIo(8), clock,
                OnDelete.DELETE, Duration.ofSeconds(5), Duration.ofMinutes(5), false, TestPools.walkers(4), Duration.ZERO,
                Duration.ofSeconds(10), shares));
        csi = new InProcessCsi(service);
        controller = ControllerGrpc.newBlockingStub(csi.channel()).withDeadlineAfter(30, TimeUnit.SECONDS);
    }

    @AfterEach
    void stop() {
        if (csi != null) {
            csi.close();
            service.shutdown();
            csi = null;
        }
    }

    Csi.Volume create(String name, String share) {
        return controller.createVolume(ControllerServiceTest.create(name).putParameters("share", share).build())
                .getVolume();
    }

    Csi.Snapshot snapshot(String name, String sourceId) {
        return controller.createSnapshot(Csi.CreateSnapshotRequest.newBuilder().setName(name)
                .setSourceVolumeId(sourceId).build()).getSnapshot();
    }

    void delete(String volumeId) {
        controller.deleteVolume(Csi.DeleteVolumeRequest.newBuilder().setVolumeId(volumeId).build());
    }

    List<String> volumeIds() {
        return controller.listVolumes(Csi.ListVolumesRequest.getDefaultInstance()).getEntriesList().stream()
                .map(e -> e.getVolume().getVolumeId()).toList();
    }

    List<String> snapshotIds() {
        return controller.listSnapshots(Csi.ListSnapshotsRequest.getDefaultInstance()).getEntriesList().stream()
                .map(e -> e.getSnapshot().getSnapshotId()).toList();
    }

    long capacity(String... parameters) {
        var req = Csi.GetCapacityRequest.newBuilder();
        for (int i = 0; i < parameters.length; i += 2) {
            req.putParameters(parameters[i], parameters[i + 1]);
        }
        return controller.getCapacity(req.build()).getAvailableCapacity();
    }

    // ---- GetCapacity ----

    @Test
    void getCapacity_noParameters_noShareKnown_isZero() throws Exception {
        start(work);
        assertThat(capacity()).isZero();
    }

    @Test
    void getCapacity_noParameters_isTheKnownSharesCapacity_oneFileSystemCountedOnce() throws Exception {
        start(work);
        create("pvc-a", "/a");
        create("pvc-b", "/b");
        long one = capacity("server", SERVER, "share", "/a");
        long all = capacity();
        long total = Posix.statvfs(exports).totalBytes();
        assertThat(all).as("both shares are directories of the one file system of " + exports)
                .isPositive().isLessThanOrEqualTo(total).isLessThan(one + one / 2);
    }

    @Test
    void getCapacity_noParameters_unreachableKnownShare_isLeftOut_andTheCallIsOk() throws Exception {
        start(work, SERVER + ":/down,nfsvers=4.1");
        mounter.down = Set.of(SERVER + ":/down");
        create("pvc-a", "/a");
        assertThat(capacity()).isPositive();
    }

    @Test
    void getCapacity_serverWithoutShare_isInvalidArgument() throws Exception {
        start(work);
        assertCode(Status.Code.INVALID_ARGUMENT, () -> capacity("server", SERVER));
        assertCode(Status.Code.INVALID_ARGUMENT, () -> capacity("share", "/a"));
    }

    @Test
    void distinctAvailable_oneDeviceOrOneServerWithEqualCounts_isOneFileSystem() {
        var fs = new FsStats(100, 40, 60, 1000, 900, 100);
        var other = new FsStats(100, 41, 59, 1000, 900, 100);
        assertThat(Provisioner.distinctAvailable(List.of())).isZero();
        assertThat(Provisioner.distinctAvailable(List.of(new Provisioner.ShareStat("s", 1L, fs),
                new Provisioner.ShareStat("s", 1L, fs)))).as("one device").isEqualTo(40);
        assertThat(Provisioner.distinctAvailable(List.of(new Provisioner.ShareStat("s", 1L, fs),
                new Provisioner.ShareStat("S", 2L, fs)))).as("one server, equal counts").isEqualTo(40);
        assertThat(Provisioner.distinctAvailable(List.of(new Provisioner.ShareStat("s", 1L, fs),
                new Provisioner.ShareStat("t", 2L, fs)))).as("two servers").isEqualTo(80);
        assertThat(Provisioner.distinctAvailable(List.of(new Provisioner.ShareStat("s", 1L, fs),
                new Provisioner.ShareStat("s", 2L, other), new Provisioner.ShareStat("s", 3L, fs))))
                .as("other counts").isEqualTo(81);
    }

    // ---- lists across a restart ----

    @Test
    void lists_afterRestartOnTheSameWorkingDir_showWhatTheyShowedBefore() throws Exception {
        start(work);
        var a = create("pvc-a", "/a");
        var b = create("pvc-b", "/b");
        var snap = snapshot("snap-a", a.getVolumeId());
        List<String> volumes = volumeIds();
        List<String> snapshots = snapshotIds();
        assertThat(volumes).containsExactly(a.getVolumeId(), b.getVolumeId());
        assertThat(snapshots).containsExactly(snap.getSnapshotId());

        start(work);
        assertThat(volumeIds()).isEqualTo(volumes);
        assertThat(snapshotIds()).isEqualTo(snapshots);
        assertThat(work.resolve(KnownShares.FILE)).isRegularFile();
    }

    @Test
    void lists_freshWorkingDir_knowTheShareFlags_thenWhatCallsTeach() throws Exception {
        start(work);
        var a = create("pvc-a", "/a");
        var b = create("pvc-b", "/b");
        var snap = snapshot("snap-a", a.getVolumeId());

        start(otherWork, SERVER + ":/a");
        assertThat(volumeIds()).containsExactly(a.getVolumeId());
        assertThat(snapshotIds()).containsExactly(snap.getSnapshotId());

        controller.controllerGetVolume(Csi.ControllerGetVolumeRequest.newBuilder().setVolumeId(b.getVolumeId())
                .build());
        assertThat(volumeIds()).containsExactly(a.getVolumeId(), b.getVolumeId());
    }

    // ---- paging ----

    @Test
    void listVolumes_deletionsBetweenPages_resumeAfterTheTokensId() throws Exception {
        start(work);
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            ids.add(create("pvc-" + i, "/a").getVolumeId());
        }
        var first = controller.listVolumes(Csi.ListVolumesRequest.newBuilder().setMaxEntries(2).build());
        assertThat(first.getEntriesList()).extracting(e -> e.getVolume().getVolumeId())
                .containsExactly(ids.get(0), ids.get(1));
        delete(ids.get(1));
        delete(ids.get(2));
        var second = controller.listVolumes(Csi.ListVolumesRequest.newBuilder().setMaxEntries(2)
                .setStartingToken(first.getNextToken()).build());
        assertThat(second.getEntriesList()).extracting(e -> e.getVolume().getVolumeId())
                .containsExactly(ids.get(3), ids.get(4));
        var third = controller.listVolumes(Csi.ListVolumesRequest.newBuilder().setMaxEntries(2)
                .setStartingToken(second.getNextToken()).build());
        assertThat(third.getEntriesList()).extracting(e -> e.getVolume().getVolumeId())
                .containsExactly(ids.get(5));
        assertThat(third.getNextToken()).isEmpty();
    }

    @Test
    void listSnapshots_deletionBetweenPages_resumesAfterTheTokensId() throws Exception {
        start(work);
        var source = create("pvc-src", "/a");
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            ids.add(snapshot("snap-" + i, source.getVolumeId()).getSnapshotId());
        }
        var first = controller.listSnapshots(Csi.ListSnapshotsRequest.newBuilder().setMaxEntries(1).build());
        assertThat(first.getEntriesList()).extracting(e -> e.getSnapshot().getSnapshotId())
                .containsExactly(ids.get(0));
        controller.deleteSnapshot(Csi.DeleteSnapshotRequest.newBuilder().setSnapshotId(ids.get(0)).build());
        var second = controller.listSnapshots(Csi.ListSnapshotsRequest.newBuilder().setMaxEntries(1)
                .setStartingToken(first.getNextToken()).build());
        assertThat(second.getEntriesList()).extracting(e -> e.getSnapshot().getSnapshotId())
                .containsExactly(ids.get(1));
    }

    /** Every volume ID, page by page, with {@code max} a page. */
    List<String> volumeIdsByPages(int max) {
        List<String> ids = new ArrayList<>();
        String token = "";
        do {
            var page = controller.listVolumes(Csi.ListVolumesRequest.newBuilder().setMaxEntries(max)
                    .setStartingToken(token).build());
            assertThat(page.getEntriesCount()).isLessThanOrEqualTo(max);
            page.getEntriesList().forEach(e -> ids.add(e.getVolume().getVolumeId()));
            token = page.getNextToken();
        } while (!token.isEmpty());
        return ids;
    }

    @Test
    void listVolumes_pagesOfAnySize_acrossShares_giveTheFullListing_eachVolumeOnce() throws Exception {
        start(work);
        Set<String> created = new java.util.HashSet<>();
        for (int i = 0; i < 5; i++) {
            created.add(create("pvc-a" + i, "/a").getVolumeId());
        }
        for (int i = 0; i < 4; i++) {
            created.add(create("pvc-b" + i, "/b").getVolumeId());
        }
        created.add(create("pvc-c", "/c").getVolumeId());
        List<String> full = volumeIds();
        assertThat(full).containsExactlyInAnyOrderElementsOf(created);
        for (int max : new int[] {1, 2, 3, 4, 5, 9, 10, 11}) {
            assertThat(volumeIdsByPages(max)).as("pages of %d", max).containsExactlyElementsOf(full);
        }
    }

    @Test
    void listVolumes_createsAndDeletesBetweenPages_missNoVolumeThatExistedThroughout_andRepeatNone()
            throws Exception {
        start(work);
        java.util.Random random = new java.util.Random(12);
        List<String> kept = new ArrayList<>();
        List<String> churn = new ArrayList<>();
        for (int i = 0; i < 30; i++) {
            String id = create(String.format("pvc-%02d", i), i % 3 == 0 ? "/b" : "/a").getVolumeId();
            (i % 2 == 0 ? kept : churn).add(id);
        }
        List<String> seen = new ArrayList<>();
        String token = "";
        int made = 0;
        do {
            var page = controller.listVolumes(Csi.ListVolumesRequest.newBuilder().setMaxEntries(4)
                    .setStartingToken(token).build());
            page.getEntriesList().forEach(e -> seen.add(e.getVolume().getVolumeId()));
            token = page.getNextToken();
            // between pages: delete volumes that were not listed yet or were, and create some before and after
            // the page's position, on both shares
            if (!churn.isEmpty()) {
                delete(churn.remove(random.nextInt(churn.size())));
            }
            for (int i = 0; i < 2; i++) {
                String name = String.format("pvc-%02d-new%d", random.nextInt(40), made++);
                churn.add(create(name, random.nextBoolean() ? "/a" : "/b").getVolumeId());
            }
        } while (!token.isEmpty());
        assertThat(seen).containsAll(kept).doesNotHaveDuplicates();
    }

    @Test
    void listVolumes_readsOnlyThePagesRecords_andARecordAgainOnlyWhenItsFileWasReplaced() throws Exception {
        start(work);
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            ids.add(create(String.format("pvc-%02d", i), "/a").getVolumeId());
        }
        Provisioner provisioner = service.provisioner();
        long before = provisioner.volumeRecordsRead();
        var first = controller.listVolumes(Csi.ListVolumesRequest.newBuilder().setMaxEntries(5).build());
        assertThat(first.getEntriesCount()).isEqualTo(5);
        assertThat(provisioner.volumeRecordsRead() - before).isEqualTo(5);

        before = provisioner.volumeRecordsRead();
        assertThat(volumeIds()).hasSize(20);
        assertThat(provisioner.volumeRecordsRead() - before).isEqualTo(15);
        before = provisioner.volumeRecordsRead();
        assertThat(volumeIds()).hasSize(20);
        assertThat(provisioner.volumeRecordsRead() - before).isZero();

        // a grown volume's record is replaced: it alone is read again, and the list shows the new capacity
        controller.controllerExpandVolume(Csi.ControllerExpandVolumeRequest.newBuilder().setVolumeId(ids.get(7))
                .setCapacityRange(Csi.CapacityRange.newBuilder().setRequiredBytes(5 << 20)).build());
        before = provisioner.volumeRecordsRead();
        var entries = controller.listVolumes(Csi.ListVolumesRequest.getDefaultInstance()).getEntriesList();
        assertThat(provisioner.volumeRecordsRead() - before).isEqualTo(1);
        assertThat(entries.get(7).getVolume().getVolumeId()).isEqualTo(ids.get(7));
        assertThat(entries.get(7).getVolume().getCapacityBytes()).isEqualTo(5 << 20);
    }

    @Test
    void listVolumes_volumeDirectoryReplacedByASymlink_isListedAbnormal() throws Exception {
        start(work);
        var a = create("pvc-a", "/a");
        var b = create("pvc-b", "/a");
        Path dir = exports.resolve("a/pvc-b");
        Files.delete(dir);
        Files.createSymbolicLink(dir, exports.resolve("a/pvc-a"));

        var entries = controller.listVolumes(Csi.ListVolumesRequest.getDefaultInstance()).getEntriesList();
        assertThat(entries).extracting(e -> e.getVolume().getVolumeId())
                .containsExactly(a.getVolumeId(), b.getVolumeId());
        assertThat(entries).extracting(e -> e.getStatus().getVolumeCondition().getAbnormal())
                .containsExactly(false, true);
    }

    @Test
    void listSnapshots_ofOneSource_pageBySource_eachOnce() throws Exception {
        start(work);
        var x = create("pvc-x", "/a");
        var y = create("pvc-y", "/a");
        List<String> ofX = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            var s = snapshot("snap-" + i, (i % 2 == 0 ? x : y).getVolumeId());
            if (i % 2 == 0) {
                ofX.add(s.getSnapshotId());
            }
        }
        List<String> seen = new ArrayList<>();
        String token = "";
        do {
            var page = controller.listSnapshots(Csi.ListSnapshotsRequest.newBuilder().setMaxEntries(2)
                    .setSourceVolumeId(x.getVolumeId()).setStartingToken(token).build());
            assertThat(page.getEntriesCount()).isLessThanOrEqualTo(2);
            page.getEntriesList().forEach(e -> seen.add(e.getSnapshot().getSnapshotId()));
            token = page.getNextToken();
        } while (!token.isEmpty());
        assertThat(seen).containsExactlyElementsOf(ofX);
    }

    @Test
    void listVolumes_wholeListingAndPages_agreeOnEachCondition() throws Exception {
        start(work);
        List<String> names = List.of("pvc-flat", "pvc-gone", "pvc-file", "pvc-nested", "pvc-nested-gone");
        for (String name : names) {
            controller.createVolume(ControllerServiceTest.create(name, "share", "/a", "subDir",
                    name.startsWith("pvc-nested") ? "team/x/" + name : name).build());
        }
        Path a = exports.resolve("a");
        Files.delete(a.resolve("pvc-gone"));
        Files.delete(a.resolve("pvc-file"));
        Files.writeString(a.resolve("pvc-file"), "not a directory");
        Files.delete(a.resolve("team/x/pvc-nested-gone"));

        var whole = controller.listVolumes(Csi.ListVolumesRequest.getDefaultInstance()).getEntriesList();
        List<Boolean> abnormal = whole.stream().map(e -> e.getStatus().getVolumeCondition().getAbnormal()).toList();
        assertThat(whole).extracting(e -> e.getVolume().getVolumeContextMap().get("subDir"))
                .containsExactly("pvc-file", "pvc-flat", "pvc-gone", "team/x/pvc-nested", "team/x/pvc-nested-gone");
        assertThat(abnormal).containsExactly(true, false, true, false, true);
        List<Boolean> paged = new ArrayList<>();
        String token = "";
        do {
            var page = controller.listVolumes(Csi.ListVolumesRequest.newBuilder().setMaxEntries(2)
                    .setStartingToken(token).build());
            page.getEntriesList().forEach(e -> paged.add(e.getStatus().getVolumeCondition().getAbnormal()));
            token = page.getNextToken();
        } while (!token.isEmpty());
        assertThat(paged).isEqualTo(abnormal);
    }

    @Test
    void lists_tokenOfTheEarlierIdOrder_isAborted() throws Exception {
        start(work);
        var a = create("pvc-0", "/a");
        create("pvc-1", "/a");
        String idToken = Base64.getUrlEncoder().withoutPadding().encodeToString(
                (ControllerService.VOLUME_TOKEN + a.getVolumeId()).getBytes(StandardCharsets.UTF_8));
        assertCode(Status.Code.ABORTED, () -> controller.listVolumes(Csi.ListVolumesRequest.newBuilder()
                .setStartingToken(idToken).build()));
    }

    @Test
    void lists_tokenThatIsNotOneWeIssued_isAborted() throws Exception {
        start(work);
        create("pvc-0", "/a");
        create("pvc-1", "/a");
        String volumesToken = controller.listVolumes(Csi.ListVolumesRequest.newBuilder().setMaxEntries(1).build())
                .getNextToken();
        String notUtf8 = Base64.getUrlEncoder().encodeToString(new byte[] {(byte) 0xff, (byte) 0xfe});
        String noKind = Base64.getUrlEncoder().encodeToString("pvc-0".getBytes(StandardCharsets.UTF_8));
        for (String token : List.of("!!!", notUtf8, noKind)) {
            assertCode(Status.Code.ABORTED, () -> controller.listVolumes(Csi.ListVolumesRequest.newBuilder()
                    .setStartingToken(token).build()));
            assertCode(Status.Code.ABORTED, () -> controller.listSnapshots(Csi.ListSnapshotsRequest.newBuilder()
                    .setStartingToken(token).build()));
        }
        assertCode(Status.Code.ABORTED, () -> controller.listSnapshots(Csi.ListSnapshotsRequest.newBuilder()
                .setStartingToken(volumesToken).build()));
    }

    // ---- damaged records, unreachable shares ----

    @Test
    void listVolumes_damagedRecordsAmongGoodOnes_areSkipped() throws Exception {
        start(work);
        var good = create("pvc-good", "/a");
        var perms = create("pvc-perms", "/a");
        create("pvc-escape", "/a");
        create("pvc-half", "/a");
        Path records = exports.resolve("a/.nfs-csi/volumes");
        Files.writeString(records.resolve("pvc-perms.properties"), "parameter.mountPermissions=zz\n",
                java.nio.file.StandardOpenOption.APPEND);
        replaceIn(records.resolve("pvc-escape.properties"), "subDir=pvc-escape", "subDir=../../etc");
        String half = Files.readString(records.resolve("pvc-half.properties"));
        Files.writeString(records.resolve("pvc-half.properties"), half.substring(0, half.length() / 2));
        Files.write(records.resolve("garbage.properties"), new byte[] {'\\', 'u', 'Z', 0, (byte) 0xff});

        // a record whose only damage is an unreadable mountPermissions is read with that field left out
        assertThat(volumeIds()).containsExactly(good.getVolumeId(), perms.getVolumeId());
    }

    @Test
    void listSnapshots_damagedRecordsAmongGoodOnes_areSkipped() throws Exception {
        start(work);
        var source = create("pvc-src", "/a");
        var good = snapshot("snap-good", source.getVolumeId());
        Path records = exports.resolve("a/.nfs-csi/snapshots");
        Files.writeString(records.resolve("snap-noarchive.properties"), "source=" + source.getVolumeId() + "\n");
        Files.writeString(records.resolve("snap-escape.properties"), "archive=x\\uZZZZ\n");
        Files.writeString(records.resolve("snap-nocreated.properties"), "archive=pvc-src\nsource=x\n");

        assertThat(snapshotIds()).containsExactly(good.getSnapshotId());
    }

    @Test
    void listVolumes_oneShareDown_listsTheOthers_andItsLastSeenVolumesAbnormal() throws Exception {
        start(work);
        var a = create("pvc-a", "/a");
        var b = create("pvc-b", "/b");
        assertThat(volumeIds()).hasSize(2);
        service.shutdown(); // unmounts the idle shares: the next call mounts again
        mounter.down = Set.of(SERVER + ":/b");

        var entries = controller.listVolumes(Csi.ListVolumesRequest.getDefaultInstance()).getEntriesList();
        assertThat(entries).extracting(e -> e.getVolume().getVolumeId())
                .containsExactly(a.getVolumeId(), b.getVolumeId());
        assertThat(entries.get(0).getStatus().getVolumeCondition().getAbnormal()).isFalse();
        assertThat(entries.get(1).getStatus().getVolumeCondition().getAbnormal()).isTrue();
        assertThat(snapshotIds()).isEmpty();
    }

    @Test
    void listVolumes_shareDownAtStart_isLeftOut_andTheCallIsOk() throws Exception {
        start(work);
        var a = create("pvc-a", "/a");
        create("pvc-b", "/b");
        start(work);
        mounter.down = Set.of(SERVER + ":/b");
        assertThat(volumeIds()).containsExactly(a.getVolumeId());
    }

    static void replaceIn(Path file, String from, String to) throws Exception {
        String text = Files.readString(file);
        assertThat(text).contains(from);
        Files.writeString(file, text.replace(from, to));
        assertThat(Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)).isTrue();
    }
}
