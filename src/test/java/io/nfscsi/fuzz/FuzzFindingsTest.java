package io.nfscsi.fuzz;

import static io.nfscsi.testing.InProcessCsi.assertCode;
import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.Status;
import io.nfscsi.csi.v1.Csi;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The requests that fuzzing found answered INTERNAL, each kept as an example: the driver now answers them with
 * the spec's code for a caller's mistake, and touches nothing outside the share.
 */
class FuzzFindingsTest {

    private static final String LONG = "é".repeat(2048); // 4 KiB in UTF-8: longer than a file name may be

    private FuzzBed bed;
    private Requests requests;

    @BeforeEach
    void start() throws Exception {
        bed = new FuzzBed();
        requests = new Requests(bed.seeds);
    }

    @AfterEach
    void stop() throws Exception {
        assertThat(bed.touchedOutside()).isEmpty();
        assertThat(bed.probes()).isTrue();
        bed.close();
    }

    @Test
    void createVolume_nameWithSlashes_isInvalidArgument() {
        var req = requests.createVolume(new java.util.Random(1)).toBuilder().setName("../../../true").build();
        assertCode(Status.Code.INVALID_ARGUMENT, () -> bed.controller().createVolume(req));
    }

    @Test
    void createVolume_nameLongerThanAFileName_isInvalidArgument() {
        var req = requests.createVolume(new java.util.Random(1)).toBuilder().setName("pvc-" + LONG).build();
        assertCode(Status.Code.INVALID_ARGUMENT, () -> bed.controller().createVolume(req));
    }

    @Test
    void createSnapshot_nameWithSeparatorOrControlCharacter_isInvalidArgument() {
        for (String name : new String[] {"a/##", "b\u0002\u0000c", ".hidden", LONG}) {
            var req = Csi.CreateSnapshotRequest.newBuilder().setSourceVolumeId(bed.seeds.volumeId()).setName(name)
                    .build();
            assertCode(Status.Code.INVALID_ARGUMENT, () -> bed.controller().createSnapshot(req));
        }
    }

    @Test
    void idsWithSegmentsLongerThanAFileName_areNotFound_orDeletedAlready() {
        String volumeId = "nfs-csi:1#nfs.example.com#/exports#pvc-" + LONG + "#pvc-1#delete";
        String snapshotId = "nfs.example.com#exports#" + LONG + "#" + LONG + "#seed-volume";
        assertCode(Status.Code.NOT_FOUND, () -> bed.controller().controllerGetVolume(
                Csi.ControllerGetVolumeRequest.newBuilder().setVolumeId(volumeId).build()));
        assertCode(Status.Code.NOT_FOUND, () -> bed.controller().getSnapshot(
                Csi.GetSnapshotRequest.newBuilder().setSnapshotId(snapshotId).build()));
        bed.controller().deleteVolume(Csi.DeleteVolumeRequest.newBuilder().setVolumeId(volumeId).build());
        bed.controller().deleteSnapshot(Csi.DeleteSnapshotRequest.newBuilder().setSnapshotId(snapshotId).build());
        assertThat(bed.controller().listSnapshots(Csi.ListSnapshotsRequest.newBuilder().setSnapshotId(snapshotId)
                .build()).getEntriesCount()).isZero();
    }

    @Test
    void nodePublishVolume_targetWithASegmentLongerThanAFileName_isInvalidArgument() {
        var req = requests.nodePublishVolume(new java.util.Random(1)).toBuilder()
                .setTargetPath(bed.seeds.podDir(0).resolve("pvc-" + LONG).toString()).build();
        assertCode(Status.Code.INVALID_ARGUMENT, () -> bed.node().nodePublishVolume(req));
    }

    @Test
    void listSnapshots_maxEntriesThatOverflowsThePageEnd_listsToTheEnd() {
        var first = bed.controller().listSnapshots(Csi.ListSnapshotsRequest.newBuilder().setMaxEntries(1).build());
        assertThat(first.getEntriesCount()).isEqualTo(1);
        var rest = Csi.ListSnapshotsRequest.newBuilder().setMaxEntries(Integer.MAX_VALUE)
                .setStartingToken(first.getNextToken().isEmpty() ? "" : first.getNextToken()).build();
        assertThat(bed.controller().listSnapshots(rest).getNextToken()).isEmpty();
        var volumes = bed.controller().listVolumes(Csi.ListVolumesRequest.newBuilder().setMaxEntries(1).build());
        assertThat(bed.controller().listVolumes(Csi.ListVolumesRequest.newBuilder().setMaxEntries(Integer.MAX_VALUE)
                .setStartingToken(volumes.getNextToken()).build()).getNextToken()).isEmpty();
    }

    @Test
    void createVolume_onAShareWhosePathHasSpaces_isCreated() {
        var req = requests.createVolume(new java.util.Random(1)).toBuilder().clearVolumeContentSource()
                .putParameters("share", "/  a  ").build();
        assertThat(bed.controller().createVolume(req).getVolume().getVolumeId()).contains("#/  a  #");
    }
}
