package io.nfscsi.conformance;

import static io.nfscsi.conformance.Catalogue.e;
import static io.nfscsi.conformance.Catalogue.s;
import static io.nfscsi.conformance.ControllerScenarios.*;
import static io.nfscsi.conformance.NodeScenarios.*;
import static io.nfscsi.conformance.SnapshotScenarios.*;
import static io.grpc.Status.Code.ABORTED;
import static io.grpc.Status.Code.DEADLINE_EXCEEDED;
import static io.grpc.Status.Code.OK;
import static io.grpc.Status.Code.PERMISSION_DENIED;
import static io.grpc.Status.Code.UNAVAILABLE;
import static io.nfscsi.conformance.Bed.DENIED_SHARE;
import static io.nfscsi.conformance.Bed.HUNG_SERVER;
import static io.nfscsi.conformance.Bed.SERVER;
import static io.nfscsi.conformance.Bed.SHARE;
import static io.nfscsi.conformance.Bed.cap;
import static io.nfscsi.conformance.Bed.createReq;
import static io.nfscsi.conformance.Bed.expect;
import static io.nfscsi.conformance.Bed.must;
import static io.nfscsi.conformance.Bed.publishReq;
import static io.nfscsi.conformance.Bed.sh;
import static io.nfscsi.conformance.Bed.target;
import static io.nfscsi.conformance.Bed.unpublishReq;
import static io.nfscsi.conformance.Bed.volumeId;

import io.nfscsi.csi.v1.Csi;
import io.nfscsi.csi.v1.Csi.VolumeCapability.AccessMode.Mode;
import io.nfscsi.mount.MountEntry;
import io.nfscsi.mount.MountTable;
import io.nfscsi.volume.SnapshotId;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Scenarios with a server that stops answering (its packets dropped) or refuses this node (exported elsewhere).
 * They run last: the shares they name stay known to the controller.
 */
final class FaultScenarios {

    private FaultScenarios() {}

    // ---------------------------------------------------------------------------------------------- Faults

    static Map<String, String> hungParams() {
        return Map.of("server", HUNG_SERVER, "share", SHARE.toString());
    }

    static Map<String, String> deniedParams() {
        return Map.of("server", SERVER, "share", DENIED_SHARE.toString());
    }

    static List<Scenario> faults() {
        return List.of(
                s("CreateVolume, DeleteVolume, GetCapacity, DeleteSnapshot and ListSnapshots on a share whose "
                        + "pooled mount stopped answering",
                        List.of(e("CreateVolume", UNAVAILABLE), e("DeleteVolume", UNAVAILABLE),
                                e("GetCapacity", UNAVAILABLE), e("DeleteSnapshot", UNAVAILABLE),
                                e("ListSnapshots", UNAVAILABLE)), b -> {
                    var v3 = List.of("vers=3", "nolock");
                    must("GetCapacity (mounts the share)", () -> b.ctl().getCapacity(Csi.GetCapacityRequest
                            .newBuilder().addVolumeCapabilities(cap(Mode.SINGLE_NODE_WRITER, v3))
                            .putAllParameters(hungParams()).build()));
                    b.onCleanup(() -> awaitShareAnswers(HUNG_SERVER + ":" + SHARE));
                    b.hangServer2();
                    var r = b.call(() -> b.ctl().createVolume(createReq(b.unique("vol")).clearParameters()
                            .putAllParameters(hungParams()).clearVolumeCapabilities()
                            .addVolumeCapabilities(cap(Mode.SINGLE_NODE_WRITER, v3)).build()));
                    b.track(r == null ? null : r.getVolume());
                    b.call(() -> b.ctl().deleteVolume(Csi.DeleteVolumeRequest.newBuilder().setVolumeId(volumeId(
                            HUNG_SERVER, SHARE.toString(), "sanity-unavailable", "sanity-unavailable"))
                            .putSecrets("mountOptions", "vers=3,nolock").build()));
                    b.call(() -> b.ctl().getCapacity(Csi.GetCapacityRequest.newBuilder()
                            .addVolumeCapabilities(cap(Mode.SINGLE_NODE_WRITER, v3)).putAllParameters(hungParams())
                            .build()));
                    String snap = hungSnapshotId(SHARE.toString());
                    b.call(() -> b.ctl().deleteSnapshot(Csi.DeleteSnapshotRequest.newBuilder().setSnapshotId(snap)
                            .putSecrets("mountOptions", "vers=3,nolock").build()));
                    b.call(() -> b.ctl().listSnapshots(Csi.ListSnapshotsRequest.newBuilder().setSnapshotId(snap)
                            .build()));
                }),
                s("GetCapacity, DeleteSnapshot and ListSnapshots (snapshot_id) of a share on a server that does not "
                        + "answer, nothing mounted from it yet: DEADLINE_EXCEEDED, and no mount process is left",
                        List.of(e("GetCapacity", DEADLINE_EXCEEDED), e("DeleteSnapshot", DEADLINE_EXCEEDED),
                                e("ListSnapshots", DEADLINE_EXCEEDED)), b -> {
                            b.hangServer2();
                            // a share of its own, never mounted: the first call starts its mount, the others wait for it
                            String share = SHARE + "-never-mounted";
                            String snap = hungSnapshotId(share);
                            var capacity = b.async(() -> b.impatientCtl().getCapacity(Csi.GetCapacityRequest
                                    .newBuilder().putAllParameters(Map.of("server", HUNG_SERVER, "share", share))
                                    .build()));
                            var delete = b.async(() -> b.impatientCtl().deleteSnapshot(Csi.DeleteSnapshotRequest
                                    .newBuilder().setSnapshotId(snap).build()));
                            var list = b.async(() -> b.impatientCtl().listSnapshots(Csi.ListSnapshotsRequest
                                    .newBuilder().setSnapshotId(snap).build()));
                            b.await(capacity);
                            b.await(delete);
                            b.await(list);
                            // the driver hands the caller's deadline to its mounts: it kills them at the same time
                            expect(Bed.eventually(() -> Bed.mountProcesses(HUNG_SERVER + ":" + share).isEmpty()),
                                    "no mount of " + share + " still running",
                                    Bed.mountProcesses(HUNG_SERVER + ":" + share));
                        }),
                s("NodePublishVolume to a server that does not answer: a second call for the target is ABORTED, "
                        + "the first DEADLINE_EXCEEDED and leaves nothing", List.of(e("NodePublishVolume", ABORTED),
                        e("NodeUnpublishVolume", ABORTED), e("NodePublishVolume", DEADLINE_EXCEEDED)), b -> {
                            b.hangServer2();
                            var req = publishReq("sanity-hung", hungParams(), target(), Mode.SINGLE_NODE_WRITER)
                                    .build();
                            b.published(req.getVolumeId(), target());
                            var first = b.async(() -> b.impatientNode().nodePublishVolume(req));
                            Bed.awaitMountProcess(HUNG_SERVER);
                            b.call(() -> b.node().nodePublishVolume(req));
                            b.call(() -> b.node().nodeUnpublishVolume(unpublishReq(req.getVolumeId(), target())));
                            b.await(first);
                            // the caller gave up at its deadline, the driver at the same one: let it finish undoing
                            expect(Bed.eventually(() -> !Files.exists(target())), "no target left", "it is there");
                        }),
                s("CreateVolume on a server that does not answer: a second call for the name is ABORTED",
                        List.of(e("CreateVolume", ABORTED), e("CreateVolume", DEADLINE_EXCEEDED)), b -> {
                            b.hangServer2();
                            var req = createReq(b.unique("vol")).clearParameters().putAllParameters(hungParams())
                                    .build();
                            var first = b.async(() -> b.impatientCtl().createVolume(req));
                            Bed.awaitMountProcess(HUNG_SERVER);
                            b.call(() -> b.ctl().createVolume(req));
                            b.await(first);
                        }),
                s("DeleteVolume, ControllerExpandVolume and ControllerModifyVolume while CreateVolume of the same "
                        + "volume is in flight (issue 8 item 8)", List.of(e("DeleteVolume", ABORTED),
                        e("ControllerExpandVolume", ABORTED), e("ControllerModifyVolume", ABORTED),
                        e("CreateVolume", DEADLINE_EXCEEDED)), b -> {
                            b.hangServer2();
                            String name = b.unique("vol");
                            var req = createReq(name).clearParameters().putAllParameters(hungParams()).build();
                            var first = b.async(() -> b.impatientCtl().createVolume(req));
                            Bed.awaitMountProcess(HUNG_SERVER);
                            b.call(() -> b.impatientCtl().deleteVolume(deleteReq(volumeId(HUNG_SERVER, SHARE.toString(), name,
                                    name))));
                            b.call(() -> b.impatientCtl().controllerExpandVolume(Csi.ControllerExpandVolumeRequest
                                    .newBuilder().setVolumeId(volumeId(HUNG_SERVER, SHARE.toString(), name, name))
                                    .setCapacityRange(Csi.CapacityRange.newBuilder().setRequiredBytes(2 * Bed.SIZE))
                                    .build()));
                            b.call(() -> b.impatientCtl().controllerModifyVolume(Csi.ControllerModifyVolumeRequest
                                    .newBuilder().setVolumeId(volumeId(HUNG_SERVER, SHARE.toString(), name, name))
                                    .putMutableParameters("onDelete", "retain").build()));
                            b.await(first);
                        }),
                s("DeleteVolume on a server that does not answer: a second call for the volume is ABORTED",
                        List.of(e("DeleteVolume", ABORTED), e("DeleteVolume", DEADLINE_EXCEEDED)), b -> {
                            b.hangServer2();
                            var req = deleteReq(volumeId(HUNG_SERVER, SHARE.toString(), "sanity-hung", "sanity-hung"));
                            var first = b.async(() -> b.impatientCtl().deleteVolume(req));
                            Bed.awaitMountProcess(HUNG_SERVER);
                            b.call(() -> b.ctl().deleteVolume(req));
                            b.await(first);
                        }),
                s("CreateSnapshot of a volume on a server that does not answer: a second call and a DeleteSnapshot "
                        + "of it are ABORTED", List.of(e("CreateSnapshot", ABORTED), e("DeleteSnapshot", ABORTED),
                        e("CreateSnapshot", DEADLINE_EXCEEDED)), b -> {
                            b.hangServer2();
                            var req = snapReq(b.unique("snap"), volumeId(HUNG_SERVER, SHARE.toString(), "sanity-hung",
                                    "sanity-hung")).build();
                            var first = b.async(() -> b.impatientCtl().createSnapshot(req));
                            Bed.awaitMountProcess(HUNG_SERVER);
                            b.call(() -> b.ctl().createSnapshot(req));
                            b.call(() -> b.impatientCtl().deleteSnapshot(Csi.DeleteSnapshotRequest.newBuilder()
                                    .setSnapshotId(SnapshotId.create(HUNG_SERVER, SHARE.toString(), req.getName(),
                                            "sanity-hung").format()).build()));
                            b.await(first);
                        }),
                s("NodePublishVolume of a share this node may not mount", "NodePublishVolume", PERMISSION_DENIED,
                        b -> {
                            var req = publishReq("sanity-denied", deniedParams(), target(), Mode.SINGLE_NODE_WRITER)
                                    .setVolumeCapability(cap(Mode.SINGLE_NODE_WRITER, List.of("vers=3", "nolock")))
                                    .build();
                            publishUnderTest(b, req);
                            expect(!Files.exists(target()), "no target left", "it is there");
                        }),
                s("NodePublishVolume to a port where no server listens (connection refused)", "NodePublishVolume",
                        UNAVAILABLE, b -> {
                            var req = publishReq("sanity-refused", Map.of("server", SERVER, "share", SHARE.toString()),
                                    target(), Mode.SINGLE_NODE_WRITER)
                                    .setVolumeCapability(cap(Mode.SINGLE_NODE_WRITER,
                                            List.of("vers=4.1", "port=2050", "retry=0")))
                                    .build();
                            publishUnderTest(b, req);
                            expect(!Files.exists(target()), "no target left", "it is there");
                        }),
                s("CreateVolume on a share the controller may not mount", "CreateVolume", PERMISSION_DENIED, b -> {
                    var r = b.call(() -> b.ctl().createVolume(createReq(b.unique("vol")).clearParameters()
                            .putAllParameters(deniedParams()).clearVolumeCapabilities()
                            .addVolumeCapabilities(cap(Mode.SINGLE_NODE_WRITER, List.of("vers=3", "nolock"))).build()));
                    b.track(r == null ? null : r.getVolume());
                }),
                s("GetCapacity of a share the controller may not mount", "GetCapacity", PERMISSION_DENIED,
                        b -> b.call(() -> b.ctl().getCapacity(Csi.GetCapacityRequest.newBuilder()
                                .addVolumeCapabilities(cap(Mode.SINGLE_NODE_WRITER, List.of("vers=3", "nolock")))
                                .putAllParameters(deniedParams()).build()))),
                s("DeleteSnapshot of a snapshot on a share the controller may not mount", "DeleteSnapshot",
                        PERMISSION_DENIED, b -> b.call(() -> b.ctl().deleteSnapshot(Csi.DeleteSnapshotRequest
                                .newBuilder().setSnapshotId(deniedSnapshotId())
                                .putSecrets("mountOptions", "vers=3,nolock").build()))),
                s("ListSnapshots by snapshot_id of a snapshot on a share the controller may not mount (an empty "
                        + "list would say the snapshot is gone)", "ListSnapshots", PERMISSION_DENIED,
                        b -> b.call(() -> b.ctl().listSnapshots(Csi.ListSnapshotsRequest.newBuilder()
                                .setSnapshotId(deniedSnapshotId()).build()))),
                s("DeleteVolume on a share the controller may not mount", "DeleteVolume", PERMISSION_DENIED,
                        b -> b.call(() -> b.ctl().deleteVolume(Csi.DeleteVolumeRequest.newBuilder()
                                .setVolumeId(volumeId(SERVER, DENIED_SHARE.toString(), "sanity-denied",
                                        "sanity-denied")).putSecrets("mountOptions", "vers=3,nolock").build()))),
                s("ListVolumes after calls that named unreachable or refusing shares (spec: all it knows)",
                        "ListVolumes", OK, b -> {
                    var v = b.volume(b.unique("vol"));
                    var r = b.call(() -> b.ctl().listVolumes(list().build()));
                    expect(ids(r).contains(v.getVolumeId()), "the new volume listed", ids(r));
                }));
    }

    static String hungSnapshotId(String share) {
        return SnapshotId.create(HUNG_SERVER, share, "sanity-hung-snap", "sanity-hung").format();
    }

    static String deniedSnapshotId() {
        return SnapshotId.create(SERVER, DENIED_SHARE.toString(), "sanity-denied-snap", "sanity-denied").format();
    }

    /** Waits until a stat of the driver's mount of {@code source} returns again, after packets flow again. */
    static void awaitShareAnswers(String source) throws Exception {
        Bed.releaseServer2();
        for (MountEntry m : MountTable.read().entries()) {
            if (m.source().equals(source)) {
                for (int i = 0; i < 60; i++) {
                    if (io.nfscsi.testbed.Shell.sh("timeout 3 stat -f " + m.mountPoint()).exitCode() == 0) {
                        break;
                    }
                }
            }
        }
    }

    static boolean exists(Path p) {
        return Files.exists(p, LinkOption.NOFOLLOW_LINKS);
    }
}
