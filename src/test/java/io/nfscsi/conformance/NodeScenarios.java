package io.nfscsi.conformance;

import static io.nfscsi.conformance.Catalogue.e;
import static io.nfscsi.conformance.Catalogue.s;
import static io.nfscsi.conformance.ControllerScenarios.*;
import static io.nfscsi.conformance.SnapshotScenarios.*;
import static io.grpc.Status.Code.ALREADY_EXISTS;
import static io.grpc.Status.Code.FAILED_PRECONDITION;
import static io.grpc.Status.Code.INVALID_ARGUMENT;
import static io.grpc.Status.Code.NOT_FOUND;
import static io.grpc.Status.Code.OK;
import static io.grpc.Status.Code.UNIMPLEMENTED;
import static io.nfscsi.conformance.Bed.MOUNT_DIR;
import static io.nfscsi.conformance.Bed.SERVER;
import static io.nfscsi.conformance.Bed.SHARE;
import static io.nfscsi.conformance.Bed.SIZE;
import static io.nfscsi.conformance.Bed.STAGING_DIR;
import static io.nfscsi.conformance.Bed.cap;
import static io.nfscsi.conformance.Bed.createReq;
import static io.nfscsi.conformance.Bed.expect;
import static io.nfscsi.conformance.Bed.must;
import static io.nfscsi.conformance.Bed.publishReq;
import static io.nfscsi.conformance.Bed.sh;
import static io.nfscsi.conformance.Bed.snw;
import static io.nfscsi.conformance.Bed.target;
import static io.nfscsi.conformance.Bed.target2;
import static io.nfscsi.conformance.Bed.unpublishReq;

import io.grpc.Status;
import io.nfscsi.csi.v1.Csi;
import io.nfscsi.csi.v1.Csi.VolumeCapability.AccessMode.Mode;
import io.nfscsi.mount.MountEntry;
import io.nfscsi.mount.MountTable;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;

/** Scenarios of the Identity service, the Node service, the whole lifecycle, and the calls not offered. */
final class NodeScenarios {

    private NodeScenarios() {}

    // ---------------------------------------------------------------------------------------------- Identity

    static List<Scenario> identity() {
        return List.of(
                s("GetPluginInfo returns a name of at most 63 characters and a vendor version", "GetPluginInfo", OK,
                        b -> {
                            var r = b.call(() -> b.identity().getPluginInfo(Csi.GetPluginInfoRequest.getDefaultInstance()));
                            expect(!r.getName().isEmpty() && r.getName().length() <= 63, "a name of 1-63 characters",
                                    r.getName());
                            expect(!r.getVendorVersion().isEmpty(), "a vendor_version", "none");
                        }),
                s("GetPluginCapabilities offers the controller service", "GetPluginCapabilities", OK, b -> {
                    var r = b.call(() -> b.identity().getPluginCapabilities(
                            Csi.GetPluginCapabilitiesRequest.getDefaultInstance()));
                    expect(r.getCapabilitiesList().stream().anyMatch(c -> c.getService().getType()
                                    == Csi.PluginCapability.Service.Type.CONTROLLER_SERVICE),
                            "CONTROLLER_SERVICE", r.getCapabilitiesList());
                }),
                s("Probe answers ready, twice in a row", List.of(e("Probe", OK), e("Probe", OK)), b -> {
                    for (int i = 0; i < 2; i++) {
                        var r = b.call(() -> b.identity().probe(Csi.ProbeRequest.getDefaultInstance()));
                        expect(!r.hasReady() || r.getReady().getValue(), "ready", r.getReady());
                    }
                }),
                s("ControllerGetCapabilities lists only capabilities the spec defines", "ControllerGetCapabilities",
                        OK, b -> {
                            var r = b.call(() -> b.ctl().controllerGetCapabilities(
                                    Csi.ControllerGetCapabilitiesRequest.getDefaultInstance()));
                            var types = r.getCapabilitiesList().stream().map(c -> c.getRpc().getType()).toList();
                            expect(!types.contains(Csi.ControllerServiceCapability.RPC.Type.UNKNOWN)
                                    && !types.contains(Csi.ControllerServiceCapability.RPC.Type.UNRECOGNIZED)
                                    && types.contains(Csi.ControllerServiceCapability.RPC.Type.CREATE_DELETE_VOLUME)
                                    && !types.contains(Csi.ControllerServiceCapability.RPC.Type.PUBLISH_UNPUBLISH_VOLUME),
                                    "known types with CREATE_DELETE_VOLUME and without PUBLISH_UNPUBLISH_VOLUME", types);
                        }),
                s("NodeGetCapabilities lists only known capabilities and no staging", "NodeGetCapabilities", OK,
                        b -> {
                            var r = b.call(() -> b.node().nodeGetCapabilities(
                                    Csi.NodeGetCapabilitiesRequest.getDefaultInstance()));
                            var types = r.getCapabilitiesList().stream().map(c -> c.getRpc().getType()).toList();
                            expect(!types.contains(Csi.NodeServiceCapability.RPC.Type.UNKNOWN)
                                    && !types.contains(Csi.NodeServiceCapability.RPC.Type.UNRECOGNIZED)
                                    && !types.contains(Csi.NodeServiceCapability.RPC.Type.STAGE_UNSTAGE_VOLUME),
                                    "known types without STAGE_UNSTAGE_VOLUME", types);
                        }),
                s("NodeGetInfo returns a node ID and a non-negative volume limit", "NodeGetInfo", OK, b -> {
                    var r = b.call(() -> b.node().nodeGetInfo(Csi.NodeGetInfoRequest.getDefaultInstance()));
                    expect(!r.getNodeId().isEmpty() && r.getMaxVolumesPerNode() >= 0, "a node_id, max >= 0", r);
                }));
    }

    // ---------------------------------------------------------------------------------------------- Node

    /** A publish under test; its target is unpublished after the scenario whatever the answer. */
    static Csi.NodePublishVolumeResponse publishUnderTest(Bed b, Csi.NodePublishVolumeRequest req) {
        b.published(req.getVolumeId(), Path.of(req.getTargetPath()));
        return b.call(() -> b.node().nodePublishVolume(req));
    }

    static Optional<MountEntry> mountAt(Path p) {
        return MountTable.read().at(p);
    }

    static Scenario publishInvalid(String what, java.util.function.Function<Bed, Csi.NodePublishVolumeRequest> req) {
        return s("NodePublishVolume " + what, "NodePublishVolume", INVALID_ARGUMENT, b -> {
            var r = req.apply(b);
            if (!r.getTargetPath().isEmpty() && r.getTargetPath().startsWith("/")) {
                b.published(r.getVolumeId().isEmpty() ? "x" : r.getVolumeId(), Path.of(r.getTargetPath()));
            }
            b.call(() -> b.node().nodePublishVolume(r));
        });
    }

    static Map<String, String> context(String subDir) {
        return Map.of("server", SERVER, "share", SHARE.toString(), "subDir", subDir);
    }

    static Csi.NodePublishVolumeRequest.Builder staticPublish(String subDir) {
        return publishReq("sanity-static", context(subDir), target(), Mode.SINGLE_NODE_WRITER);
    }

    static List<Scenario> nodePublish() {
        return List.of(
                publishInvalid("without volume_id", b -> staticPublish("x").setVolumeId("").build()),
                publishInvalid("without target_path", b -> staticPublish("x").setTargetPath("").build()),
                publishInvalid("without volume_capability", b -> staticPublish("x").clearVolumeCapability().build()),
                publishInvalid("with a relative target_path", b -> staticPublish("x")
                        .setTargetPath("sanity/mount/target").build()),
                publishInvalid("with block access", b -> staticPublish("x").setVolumeCapability(
                        Csi.VolumeCapability.newBuilder().setBlock(Csi.VolumeCapability.BlockVolume
                                .getDefaultInstance()).setAccessMode(Csi.VolumeCapability.AccessMode.newBuilder()
                                .setMode(Mode.SINGLE_NODE_WRITER))).build()),
                publishInvalid("with a volume_context without server", b -> staticPublish("x").clearVolumeContext()
                        .putVolumeContext("share", SHARE.toString()).build()),
                publishInvalid("with an unknown volume_context key", b -> staticPublish("x")
                        .putVolumeContext("colour", "blue").build()),
                publishInvalid("with a mount option holding a blank", b -> staticPublish("x")
                        .putVolumeContext("mountOptions", "vers=4.1,nolock hard").build()),
                publishInvalid("with a subDir holding '..'", b -> staticPublish("a/../../etc").build()),
                publishInvalid("with the driver's metadata directory as subDir (issue 8 item 7)",
                        b -> staticPublish(".nfs-csi").build()),
                publishInvalid("with a mountPermissions that is not octal", b -> staticPublish("x")
                        .putVolumeContext("mountPermissions", "rwx").build()),

                s("NodePublishVolume mounts the volume at the target; the same call again is OK",
                        List.of(e("NodePublishVolume", OK), e("NodePublishVolume", OK)), b -> {
                            var v = b.volume(b.unique("vol"));
                            var req = publishReq(v, target(), Mode.SINGLE_NODE_WRITER).build();
                            publishUnderTest(b, req);
                            expect(mountAt(target()).map(MountEntry::isNfs).orElse(false), "an NFS mount at "
                                    + target(), mountAt(target()));
                            b.call(() -> b.node().nodePublishVolume(req));
                            expect(MountTable.read().countAt(target()) == 1, "one mount", MountTable.read()
                                    .countAt(target()));
                        }),
                s("NodePublishVolume read-only mounts read-only", "NodePublishVolume", OK, b -> {
                    var v = b.volume(b.unique("vol"));
                    publishUnderTest(b, publishReq(v, target(), Mode.MULTI_NODE_READER_ONLY).setReadonly(true)
                            .build());
                    expect(mountAt(target()).map(MountEntry::readOnly).orElse(false), "a read-only mount",
                            mountAt(target()));
                }),
                s("NodePublishVolume at the same target read-only after read-write", "NodePublishVolume",
                        ALREADY_EXISTS, b -> {
                            var v = b.volume(b.unique("vol"));
                            b.publish(publishReq(v, target(), Mode.SINGLE_NODE_WRITER).build());
                            publishUnderTest(b, publishReq(v, target(), Mode.SINGLE_NODE_WRITER).setReadonly(true)
                                    .build());
                        }),
                s("NodePublishVolume of another volume at a target in use", "NodePublishVolume", ALREADY_EXISTS,
                        b -> {
                            var v1 = b.volume(b.unique("vol1"));
                            var v2 = b.volume(b.unique("vol2"));
                            b.publish(publishReq(v1, target(), Mode.SINGLE_NODE_WRITER).build());
                            // not tracked unless it succeeds: unpublishing v2 at v1's target is NOT_FOUND
                            var r = b.call(() -> b.node().nodePublishVolume(publishReq(v2, target(),
                                    Mode.SINGLE_NODE_WRITER).build()));
                            if (r != null) {
                                b.published(v2.getVolumeId(), target());
                            }
                        }),
                secondTarget(Mode.SINGLE_NODE_WRITER, FAILED_PRECONDITION),
                secondTarget(Mode.SINGLE_NODE_SINGLE_WRITER, FAILED_PRECONDITION),
                secondTarget(Mode.SINGLE_NODE_MULTI_WRITER, OK),
                secondTarget(Mode.MULTI_NODE_MULTI_WRITER, OK),
                s("NodePublishVolume MULTI_NODE_READER_ONLY read-only at two targets",
                        List.of(e("NodePublishVolume", OK), e("NodePublishVolume", OK)), b -> {
                            var v = b.volume(b.unique("vol"));
                            publishUnderTest(b, publishReq(v, target(), Mode.MULTI_NODE_READER_ONLY).setReadonly(true)
                                    .build());
                            publishUnderTest(b, publishReq(v, target2(), Mode.MULTI_NODE_READER_ONLY)
                                    .setReadonly(true).build());
                        }),
                s("NodePublishVolume under a parent directory that does not exist", "NodePublishVolume",
                        FAILED_PRECONDITION, b -> {
                            var v = b.volume(b.unique("vol"));
                            publishUnderTest(b, publishReq(v, MOUNT_DIR.resolve("missing/target"),
                                    Mode.SINGLE_NODE_WRITER).build());
                        }),
                s("NodePublishVolume at a target that is a file", "NodePublishVolume", FAILED_PRECONDITION, b -> {
                    var v = b.volume(b.unique("vol"));
                    Path file = MOUNT_DIR.resolve("target-file");
                    Files.writeString(file, "not a directory");
                    b.onCleanup(() -> Files.deleteIfExists(file));
                    b.call(() -> b.node().nodePublishVolume(publishReq(v, file, Mode.SINGLE_NODE_WRITER).build()));
                }),
                s("NodePublishVolume of a deleted volume (issue 8 item 3)", "NodePublishVolume", NOT_FOUND,
                        b -> {
                    var v = b.volume(b.unique("vol"));
                    must("DeleteVolume", () -> b.ctl().deleteVolume(deleteReq(v.getVolumeId())));
                    publishUnderTest(b, publishReq(v, target(), Mode.SINGLE_NODE_WRITER).build());
                    expect(!Files.exists(target()), "no target directory left", "it is there");
                }));
    }

    /** The spec's second NodePublishVolume table: T1 != T2, P1 = P2, for each access mode. */
    static Scenario secondTarget(Mode mode, Status.Code second) {
        String item = second == OK ? "" : " (issue 8 item 1)";
        return s("NodePublishVolume " + mode + " at a second target: " + second + item,
                List.of(e("NodePublishVolume", OK), e("NodePublishVolume", second)), b -> {
                    var v = b.volume(createReq(b.unique("vol")).clearVolumeCapabilities().addVolumeCapabilities(
                            cap(mode)).build());
                    publishUnderTest(b, publishReq(v, target(), mode).build());
                    publishUnderTest(b, publishReq(v, target2(), mode).build());
                    if (second != OK) {
                        expect(!Files.exists(target2()), "nothing at " + target2(), mountAt(target2()));
                    } else {
                        expect(mountAt(target2()).isPresent(), "a mount at " + target2(), "none");
                    }
                });
    }

    static Csi.NodeGetVolumeStatsRequest statsReq(String id, String path) {
        return Csi.NodeGetVolumeStatsRequest.newBuilder().setVolumeId(id).setVolumePath(path).build();
    }

    static List<Scenario> nodeUnpublishAndStats() {
        return List.of(
                s("NodeUnpublishVolume without volume_id", "NodeUnpublishVolume", INVALID_ARGUMENT,
                        b -> b.call(() -> b.node().nodeUnpublishVolume(unpublishReq("", target())))),
                s("NodeUnpublishVolume without target_path", "NodeUnpublishVolume", INVALID_ARGUMENT,
                        b -> b.call(() -> b.node().nodeUnpublishVolume(Csi.NodeUnpublishVolumeRequest.newBuilder()
                                .setVolumeId("sanity-static").build()))),
                s("NodeUnpublishVolume unmounts and removes the target; a repeat is OK",
                        List.of(e("NodeUnpublishVolume", OK), e("NodeUnpublishVolume", OK)), b -> {
                            var v = b.volume(b.unique("vol"));
                            b.publish(publishReq(v, target(), Mode.SINGLE_NODE_WRITER).build());
                            b.call(() -> b.node().nodeUnpublishVolume(unpublishReq(v.getVolumeId(), target())));
                            expect(!Files.exists(target()), "no " + target(), "it is there");
                            b.call(() -> b.node().nodeUnpublishVolume(unpublishReq(v.getVolumeId(), target())));
                        }),
                s("NodeUnpublishVolume with another volume's ID at a published target: the mount is left alone",
                        "NodeUnpublishVolume", NOT_FOUND, b -> {
                            var v = b.volume(b.unique("vol"));
                            b.publish(publishReq(v, target(), Mode.SINGLE_NODE_WRITER).build());
                            b.call(() -> b.node().nodeUnpublishVolume(unpublishReq(v.getVolumeId() + "-other",
                                    target())));
                            expect(MountTable.read().countAt(target()) == 1, "the mount left at " + target(),
                                    MountTable.read().countAt(target()) + " mounts");
                        }),
                s("NodeUnpublishVolume of a target that was never published", "NodeUnpublishVolume", OK,
                        b -> b.call(() -> b.node().nodeUnpublishVolume(unpublishReq("sanity-static", target())))),
                s("NodeUnpublishVolume of a target that holds files and no mount", "NodeUnpublishVolume",
                        FAILED_PRECONDITION, b -> {
                            sh("mkdir -p " + target() + " && touch " + target().resolve("data"));
                            b.onCleanup(() -> sh("rm -rf " + target()));
                            b.call(() -> b.node().nodeUnpublishVolume(unpublishReq("sanity-static", target())));
                            expect(Files.exists(target().resolve("data")), "the file kept", "it is gone");
                        }),
                s("NodeGetVolumeStats without volume_id", "NodeGetVolumeStats", INVALID_ARGUMENT,
                        b -> b.call(() -> b.node().nodeGetVolumeStats(statsReq("", target().toString())))),
                s("NodeGetVolumeStats without volume_path", "NodeGetVolumeStats", INVALID_ARGUMENT,
                        b -> b.call(() -> b.node().nodeGetVolumeStats(statsReq("sanity-static", "")))),
                s("NodeGetVolumeStats of a relative path (issue 8 item 3)", "NodeGetVolumeStats", NOT_FOUND,
                        b -> b.call(() -> b.node().nodeGetVolumeStats(statsReq("sanity-static", "some/path")))),
                s("NodeGetVolumeStats of a path that does not exist", "NodeGetVolumeStats", NOT_FOUND,
                        b -> b.call(() -> b.node().nodeGetVolumeStats(statsReq("sanity-static",
                                MOUNT_DIR.resolve("none").toString())))),
                s("NodeGetVolumeStats of a directory where nothing is published (issue 8 item 3)",
                        "NodeGetVolumeStats", NOT_FOUND, b -> {
                            Files.createDirectories(target());
                            b.onCleanup(() -> Files.deleteIfExists(target()));
                            b.call(() -> b.node().nodeGetVolumeStats(statsReq("sanity-static", target().toString())));
                        }),
                s("NodeGetVolumeStats of a published volume reports bytes and inodes, normal",
                        "NodeGetVolumeStats", OK, b -> {
                            var v = b.volume(b.unique("vol"));
                            b.publish(publishReq(v, target(), Mode.SINGLE_NODE_WRITER).build());
                            var r = b.call(() -> b.node().nodeGetVolumeStats(statsReq(v.getVolumeId(),
                                    target().toString())));
                            var units = r.getUsageList().stream().map(Csi.VolumeUsage::getUnit)
                                    .collect(Collectors.toSet());
                            expect(units.contains(Csi.VolumeUsage.Unit.BYTES) && units.contains(Csi.VolumeUsage.Unit
                                    .INODES) && r.hasVolumeCondition() && !r.getVolumeCondition().getAbnormal(),
                                    "BYTES and INODES, normal", r);
                        }),
                s("NodeGetVolumeStats of a volume at the path of another one (issue 8 item 3)",
                        "NodeGetVolumeStats", NOT_FOUND, b -> {
                            var v1 = b.volume(b.unique("vol1"));
                            var v2 = b.volume(b.unique("vol2"));
                            b.publish(publishReq(v1, target(), Mode.SINGLE_NODE_WRITER).build());
                            b.call(() -> b.node().nodeGetVolumeStats(statsReq(v2.getVolumeId(),
                                    target().toString())));
                        }));
    }

    // ---------------------------------------------------------------------------------------------- Lifecycle

    static List<Scenario> lifecycle() {
        List<Expect> once = List.of(e("CreateVolume", OK), e("NodePublishVolume", OK), e("NodeGetVolumeStats", OK),
                e("ControllerExpandVolume", OK), e("NodeUnpublishVolume", OK), e("DeleteVolume", OK));
        List<Expect> twice = once.stream().flatMap(x -> java.util.stream.Stream.of(x, x)).toList();
        return List.of(
                s("Lifecycle: create, publish, stats, expand while published, unpublish, delete", once,
                        b -> lifecycle(b, 1)),
                s("Lifecycle with every call made twice", twice, b -> lifecycle(b, 2)),
                s("NodeStageVolume is not offered", "NodeStageVolume", UNIMPLEMENTED,
                        b -> b.call(() -> b.node().nodeStageVolume(Csi.NodeStageVolumeRequest.newBuilder()
                                .setVolumeId("sanity-static").setStagingTargetPath(STAGING_DIR.toString())
                                .setVolumeCapability(snw()).putAllVolumeContext(context("x")).build()))),
                s("NodeUnstageVolume is not offered", "NodeUnstageVolume", UNIMPLEMENTED,
                        b -> b.call(() -> b.node().nodeUnstageVolume(Csi.NodeUnstageVolumeRequest.newBuilder()
                                .setVolumeId("sanity-static").setStagingTargetPath(STAGING_DIR.toString()).build()))),
                s("NodeExpandVolume is not offered", "NodeExpandVolume", UNIMPLEMENTED,
                        b -> b.call(() -> b.node().nodeExpandVolume(Csi.NodeExpandVolumeRequest.newBuilder()
                                .setVolumeId("sanity-static").setVolumePath(target().toString()).build()))),
                s("ControllerPublishVolume is not offered", "ControllerPublishVolume", UNIMPLEMENTED,
                        b -> b.call(() -> b.ctl().controllerPublishVolume(Csi.ControllerPublishVolumeRequest
                                .newBuilder().setVolumeId("sanity-static").setNodeId("walkthrough-node")
                                .setVolumeCapability(snw()).build()))),
                s("ControllerUnpublishVolume is not offered", "ControllerUnpublishVolume", UNIMPLEMENTED,
                        b -> b.call(() -> b.ctl().controllerUnpublishVolume(Csi.ControllerUnpublishVolumeRequest
                                .newBuilder().setVolumeId("sanity-static").build()))));
    }

    private static void lifecycle(Bed b, int times) {
        var req = createReq(b.unique("life")).build();
        Csi.Volume v = null;
        for (int i = 0; i < times; i++) {
            v = b.track(b.call(() -> b.ctl().createVolume(req)).getVolume());
        }
        var pub = publishReq(v, target(), Mode.SINGLE_NODE_WRITER).build();
        b.published(v.getVolumeId(), target());
        for (int i = 0; i < times; i++) {
            b.call(() -> b.node().nodePublishVolume(pub));
        }
        String id = v.getVolumeId();
        for (int i = 0; i < times; i++) {
            var r = b.call(() -> b.node().nodeGetVolumeStats(statsReq(id, target().toString())));
            expect(r.getUsageCount() > 0, "usage", r);
        }
        for (int i = 0; i < times; i++) {
            b.call(() -> b.ctl().controllerExpandVolume(expandReq(id, 2 * SIZE)));
        }
        for (int i = 0; i < times; i++) {
            b.call(() -> b.node().nodeUnpublishVolume(unpublishReq(id, target())));
        }
        for (int i = 0; i < times; i++) {
            b.call(() -> b.ctl().deleteVolume(deleteReq(id)));
        }
    }
}
