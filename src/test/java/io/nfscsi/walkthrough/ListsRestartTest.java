package io.nfscsi.walkthrough;

import static io.nfscsi.testbed.Shell.step;
import static org.assertj.core.api.Assertions.assertThat;

import io.nfscsi.csi.v1.Csi;
import io.nfscsi.testbed.DriverProcess;
import io.nfscsi.testbed.Shell;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * ListVolumes, ListSnapshots and GetCapacity without parameters against the real NFS server, across restarts: two
 * exports (two tmpfs file systems) and a third share that is a directory of the first export. A driver restarted
 * on the same working directory lists what it listed before; a driver on a fresh working directory lists the same
 * when the shares are given as {@code --share} flags; a share that cannot be mounted is left out, and the call is
 * still OK.
 */
@Tag("nfs")
class ListsRestartTest {

    static final Path EXPORT_A = Path.of("/export-lists-a");
    static final Path EXPORT_B = Path.of("/export-lists-b");
    static final Path TEAM = EXPORT_A.resolve("team");
    static final Path RUN = Path.of("/run/nfs-csi-lists");
    static final Path FRESH = Path.of("/run/nfs-csi-lists-fresh");
    static final long MIB = 1 << 20;
    static DriverProcess driver;

    @BeforeAll
    static void exports() throws Exception {
        export(EXPORT_A, 64, 71);
        export(EXPORT_B, 32, 72);
        Files.createDirectories(TEAM);
    }

    @AfterAll
    static void cleanUp() throws Exception {
        if (driver != null) {
            driver.close();
        }
        for (Path export : List.of(EXPORT_A, EXPORT_B)) {
            Shell.sh("exportfs -u 127.0.0.0/8:" + export + " 2>/dev/null; umount " + export + " 2>/dev/null; rmdir "
                    + export);
        }
    }

    /** A tmpfs of {@code mib} MiB exported at {@code dir} under {@code fsid}: a file system of its own. */
    static void export(Path dir, int mib, int fsid) {
        Shell.sh("mkdir -p " + dir + " && mount -t tmpfs -o size=" + mib + "m lists" + fsid + " " + dir
                + " && exportfs -o rw,no_root_squash,no_subtree_check,insecure,fsid=" + fsid + " 127.0.0.0/8:" + dir)
                .orThrow();
    }

    static Csi.Volume create(String pv, Path share) {
        return driver.controller().createVolume(Provisioner.create(pv, "ns", pv, MIB,
                Map.of("server", "127.0.0.1", "share", share.toString()), List.of("vers=4.1"))).getVolume();
    }

    static Csi.Snapshot snapshot(String name, String source) {
        var request = Csi.CreateSnapshotRequest.newBuilder().setName(name).setSourceVolumeId(source).build();
        Csi.Snapshot s = driver.controller().createSnapshot(request).getSnapshot();
        for (int i = 0; !s.getReadyToUse() && i < 600; i++) {
            SnapshotTest.sleep(100);
            s = driver.controller().createSnapshot(request).getSnapshot();
        }
        assertThat(s.getReadyToUse()).isTrue();
        return s;
    }

    /** Every volume ID, page by page (two a page), as the external health monitor reads them. */
    static List<String> volumeIds() {
        List<String> ids = new ArrayList<>();
        String token = "";
        do {
            var page = driver.controller().listVolumes(Csi.ListVolumesRequest.newBuilder().setMaxEntries(2)
                    .setStartingToken(token).build());
            page.getEntriesList().forEach(e -> ids.add(e.getVolume().getVolumeId()));
            token = page.getNextToken();
        } while (!token.isEmpty());
        return ids;
    }

    static List<String> snapshotIds() {
        return driver.controller().listSnapshots(Csi.ListSnapshotsRequest.getDefaultInstance()).getEntriesList()
                .stream().map(e -> e.getSnapshot().getSnapshotId()).toList();
    }

    static long capacity(Path... share) {
        var req = Csi.GetCapacityRequest.newBuilder();
        if (share.length > 0) {
            req.putParameters("server", "127.0.0.1").putParameters("share", share[0].toString());
        }
        return driver.controller().getCapacity(req.build()).getAvailableCapacity();
    }

    static void restart(Path dir, String... flags) throws Exception {
        driver.close();
        driver = start(dir, flags);
    }

    /**
     * {@link DriverProcess#start}, once more when the first start did not answer Probe in time: this test starts
     * four JVMs in the one-CPU test bed, and on a loaded build machine a start has taken just over the 60 s that
     * DriverProcess allows. A driver that cannot start at all fails the second time too.
     */
    static DriverProcess start(Path dir, String... flags) throws Exception {
        try {
            return DriverProcess.start(dir, flags);
        } catch (IllegalStateException slow) {
            System.out.println("driver start was slow (" + slow.getMessage().lines().findFirst().orElse("")
                    + "); starting it again");
            return DriverProcess.start(dir, flags);
        }
    }

    @Test
    void lists_surviveARestart_andAFreshDriverWithShareFlagsListsTheSame() throws Exception {
        driver = start(RUN);
        step("volumes on two exports and on a directory of the first; a snapshot on each export");
        var a1 = create("pvc-lists-a1", EXPORT_A);
        var a2 = create("pvc-lists-a2", EXPORT_A);
        var b1 = create("pvc-lists-b1", EXPORT_B);
        var t1 = create("pvc-lists-t1", TEAM);
        var sa = snapshot("snap-lists-a", a1.getVolumeId());
        var sb = snapshot("snap-lists-b", b1.getVolumeId());
        List<String> volumes = volumeIds();
        List<String> snapshots = snapshotIds();
        assertThat(volumes).containsExactlyInAnyOrder(a1.getVolumeId(), a2.getVolumeId(), b1.getVolumeId(),
                t1.getVolumeId());
        assertThat(snapshots).containsExactlyInAnyOrder(sa.getSnapshotId(), sb.getSnapshotId());

        step("GetCapacity without parameters: both exports, the directory of the first counted with it");
        long capA = capacity(EXPORT_A);
        long capB = capacity(EXPORT_B);
        assertThat(capacity(TEAM)).isEqualTo(capA);
        assertThat(capA).isBetween(40 * MIB, 64 * MIB);
        assertThat(capB).isBetween(20 * MIB, 32 * MIB);
        assertThat(capacity()).isEqualTo(capA + capB);

        step("restart on the same working directory: the lists are what they were");
        restart(RUN);
        assertThat(volumeIds()).isEqualTo(volumes);
        assertThat(snapshotIds()).isEqualTo(snapshots);
        assertThat(capacity()).isEqualTo(capA + capB);

        step("a driver on a fresh working directory, told the shares by --share flags, lists the same");
        String[] flags = {"--share", "127.0.0.1:" + EXPORT_A + ",vers=4.1", "--share", "127.0.0.1:" + EXPORT_B,
                "--share", "127.0.0.1:" + TEAM};
        restart(FRESH, flags);
        assertThat(volumeIds()).isEqualTo(volumes);
        assertThat(snapshotIds()).isEqualTo(snapshots);
        assertThat(capacity()).isEqualTo(capA + capB);

        step("the second export is withdrawn: its share is left out, and the calls are still OK");
        driver.close();
        Shell.sh("exportfs -u 127.0.0.0/8:" + EXPORT_B).orThrow();
        try {
            driver = start(FRESH.resolveSibling("nfs-csi-lists-fresh2"), flags);
            assertThat(volumeIds()).containsExactlyInAnyOrder(a1.getVolumeId(), a2.getVolumeId(), t1.getVolumeId());
            assertThat(snapshotIds()).containsExactly(sa.getSnapshotId());
            assertThat(capacity()).isEqualTo(capA);
            assertThat(driver.log()).contains("share 127.0.0.1:" + EXPORT_B + " is skipped");
        } finally {
            Shell.sh("exportfs -o rw,no_root_squash,no_subtree_check,insecure,fsid=72 127.0.0.0/8:" + EXPORT_B)
                    .orThrow();
        }

        step("clean up through the driver");
        for (var s : List.of(sa, sb)) {
            driver.controller().deleteSnapshot(Csi.DeleteSnapshotRequest.newBuilder()
                    .setSnapshotId(s.getSnapshotId()).build());
        }
        for (var v : List.of(a1, a2, b1, t1)) {
            driver.controller().deleteVolume(Provisioner.delete(v.getVolumeId()));
        }
        assertThat(volumeIds()).isEmpty();
        assertThat(snapshotIds()).isEmpty();
    }
}
