package io.nfscsi.conformance;

import static io.grpc.Status.Code.ABORTED;
import static io.grpc.Status.Code.ALREADY_EXISTS;
import static io.grpc.Status.Code.DEADLINE_EXCEEDED;
import static io.grpc.Status.Code.FAILED_PRECONDITION;
import static io.grpc.Status.Code.INVALID_ARGUMENT;
import static io.grpc.Status.Code.NOT_FOUND;
import static io.grpc.Status.Code.OK;
import static io.grpc.Status.Code.OUT_OF_RANGE;
import static io.grpc.Status.Code.PERMISSION_DENIED;
import static io.grpc.Status.Code.UNAVAILABLE;
import static io.grpc.Status.Code.UNIMPLEMENTED;
import static io.nfscsi.conformance.Bed.DENIED_SHARE;
import static io.nfscsi.conformance.Bed.HUNG_SERVER;
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
import static io.nfscsi.conformance.Bed.volumeId;

import io.grpc.Status;
import io.nfscsi.csi.v1.Csi;
import io.nfscsi.csi.v1.Csi.VolumeCapability.AccessMode.Mode;
import io.nfscsi.mount.MountEntry;
import io.nfscsi.mount.MountTable;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;

/**
 * The scenarios, in the order they run, written from the CSI spec v1.12.0 (each RPC's success, its idempotent
 * repeat, and each row of its error table, including the NodePublishVolume access-mode table) and from
 * docs/errors.md. Where they differ, the spec wins: a scenario states the spec's code even where the driver answers
 * otherwise today. The fault scenarios (a server that stops answering, one that refuses this node) come last,
 * because the shares they name stay known to the controller.
 */
final class Catalogue {

    private Catalogue() {}

    /**
     * docs/errors.md rows that no scenario provokes, and why. {@link CatalogueTest} fails when a row is neither
     * covered nor listed here. Rows are matched by (RPC, code): CreateVolume's UNAVAILABLE for a snapshot that is
     * not ready yet and ABORTED for a fill still running are not provoked (they need an archive or tree that outlasts
     * the call); the same codes are provoked by an unreachable share and by a concurrent call.
     */
    static final List<Exclusion> EXCLUSIONS = List.of(
            new Exclusion("*", Status.Code.INTERNAL, "INTERNAL is for failures nobody foresaw (a chmod or a record "
                    + "write that the server refuses, an unmount that the kernel refuses); a cause the test bed "
                    + "could provoke on purpose ought to have its own code"),
            new Exclusion("NodeUnpublishVolume", DEADLINE_EXCEEDED, "needs umount2 itself to block past the "
                    + "deadline; the kernel answers MNT_FORCE and MNT_DETACH at once, even for a dead server")
    );

    static Expect e(String rpc, Status.Code code) {
        return new Expect(rpc, code);
    }

    static Scenario s(String name, String rpc, Status.Code code, Scenario.Body body) {
        return new Scenario(name, List.of(e(rpc, code)), body);
    }

    static Scenario s(String name, List<Expect> expects, Scenario.Body body) {
        return new Scenario(name, expects, body);
    }

    static List<Scenario> all() {
        List<Scenario> all = new ArrayList<>();
        all.addAll(identity());
        all.addAll(createVolume());
        all.addAll(deleteVolume());
        all.addAll(validateAndExpand());
        all.addAll(capacityAndLists());
        all.addAll(snapshots());
        all.addAll(sources());
        all.addAll(nodePublish());
        all.addAll(nodeUnpublishAndStats());
        all.addAll(lifecycle());
        all.addAll(faults());
        return all;
    }

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

    // ---------------------------------------------------------------------------------------------- CreateVolume

    static Scenario createInvalid(String what, java.util.function.Function<Bed, Csi.CreateVolumeRequest> req) {
        return s("CreateVolume " + what, "CreateVolume", INVALID_ARGUMENT,
                b -> b.track(Optional.ofNullable(b.call(() -> b.ctl().createVolume(req.apply(b))))
                        .map(Csi.CreateVolumeResponse::getVolume).orElse(null)));
    }

    static Csi.CreateVolumeRequest.Builder withParam(Bed b, String key, String value) {
        return createReq(b.unique("vol")).putParameters(key, value);
    }

    static List<Scenario> createVolume() {
        return List.of(
                createInvalid("without a name", b -> createReq("").build()),
                createInvalid("without volume_capabilities",
                        b -> createReq(b.unique("vol")).clearVolumeCapabilities().build()),
                createInvalid("with block access", b -> createReq(b.unique("vol")).clearVolumeCapabilities()
                        .addVolumeCapabilities(Csi.VolumeCapability.newBuilder()
                                .setBlock(Csi.VolumeCapability.BlockVolume.getDefaultInstance())
                                .setAccessMode(Csi.VolumeCapability.AccessMode.newBuilder()
                                        .setMode(Mode.SINGLE_NODE_WRITER))).build()),
                createInvalid("with a capability without access mode", b -> createReq(b.unique("vol"))
                        .clearVolumeCapabilities().addVolumeCapabilities(Csi.VolumeCapability.newBuilder()
                                .setMount(Csi.VolumeCapability.MountVolume.getDefaultInstance())).build()),
                createInvalid("with limit_bytes below required_bytes", b -> createReq(b.unique("vol"))
                        .setCapacityRange(Csi.CapacityRange.newBuilder().setRequiredBytes(2 * SIZE)
                                .setLimitBytes(SIZE)).build()),
                createInvalid("with a negative required_bytes", b -> createReq(b.unique("vol"))
                        .setCapacityRange(Csi.CapacityRange.newBuilder().setRequiredBytes(-1)).build()),
                createInvalid("with an unknown parameter", b -> withParam(b, "colour", "blue").build()),
                createInvalid("without the share parameter", b -> createReq(b.unique("vol")).clearParameters()
                        .putParameters("server", SERVER).build()),
                createInvalid("with a subDir holding '..'", b -> withParam(b, "subDir", "a/../../etc").build()),
                createInvalid("with a subDir starting with '.' (issue 8 item 7)",
                        b -> withParam(b, "subDir", ".hidden").build()),
                createInvalid("with the driver's metadata directory as subDir (issue 8 item 7)",
                        b -> withParam(b, "subDir", ".nfs-csi").build()),
                createInvalid("with a mountPermissions that is not octal",
                        b -> withParam(b, "mountPermissions", "rwxr-x---").build()),
                createInvalid("with an unknown onDelete", b -> withParam(b, "onDelete", "shred").build()),
                createInvalid("with mutable_parameters (MODIFY_VOLUME is not offered)", b -> createReq(
                        b.unique("vol")).addMutableParameters(Csi.CreateVolumeRequest.MutableParametersEntry.newBuilder()
                        .setKey("iops").setValue("100")).build()),
                createInvalid("with a content source naming neither snapshot nor volume", b -> createReq(
                        b.unique("vol")).setVolumeContentSource(Csi.VolumeContentSource.getDefaultInstance()).build()),

                s("CreateVolume without capacity_range", "CreateVolume", OK, b -> {
                    var v = b.track(b.call(() -> b.ctl().createVolume(createReq(b.unique("vol")).clearCapacityRange()
                            .build())).getVolume());
                    expect(!v.getVolumeId().isEmpty() && v.getCapacityBytes() >= 0, "an ID and capacity >= 0", v);
                }),
                s("CreateVolume with 1 MiB makes a directory on the share", "CreateVolume", OK, b -> {
                    String name = b.unique("vol");
                    var v = b.track(b.call(() -> b.ctl().createVolume(createReq(name).build())).getVolume());
                    expect(v.getCapacityBytes() == 0 || v.getCapacityBytes() >= SIZE, "capacity 0 or >= " + SIZE,
                            v.getCapacityBytes());
                    expect(Files.isDirectory(SHARE.resolve(name)), "directory " + SHARE.resolve(name), "none");
                }),
                s("CreateVolume twice with the same arguments returns the same volume",
                        List.of(e("CreateVolume", OK), e("CreateVolume", OK)), b -> {
                            var req = createReq(b.unique("vol")).build();
                            var v1 = b.track(b.call(() -> b.ctl().createVolume(req)).getVolume());
                            var v2 = b.call(() -> b.ctl().createVolume(req)).getVolume();
                            expect(v1.getVolumeId().equals(v2.getVolumeId()), v1.getVolumeId(), v2.getVolumeId());
                        }),
                s("CreateVolume with a 128-character name", "CreateVolume", OK, b -> {
                    String name = (b.unique("maxlen") + "-" + "x".repeat(128)).substring(0, 128);
                    b.track(b.call(() -> b.ctl().createVolume(createReq(name).build())).getVolume());
                }),
                s("CreateVolume of an existing name with another capacity", "CreateVolume", ALREADY_EXISTS, b -> {
                    String name = b.unique("vol");
                    b.volume(createReq(name).setCapacityRange(Csi.CapacityRange.newBuilder().setRequiredBytes(SIZE)
                            .setLimitBytes(SIZE)).build());
                    b.call(() -> b.ctl().createVolume(createReq(name).setCapacityRange(Csi.CapacityRange.newBuilder()
                            .setRequiredBytes(2 * SIZE).setLimitBytes(2 * SIZE)).build()));
                }),
                s("CreateVolume of an existing name with other parameters", "CreateVolume", ALREADY_EXISTS, b -> {
                    String name = b.unique("vol");
                    b.volume(name);
                    b.call(() -> b.ctl().createVolume(createReq(name).putParameters("mountPermissions", "0777")
                            .build()));
                }),
                s("CreateVolume of an existing name with other mount flags", "CreateVolume", ALREADY_EXISTS, b -> {
                    String name = b.unique("vol");
                    b.volume(name);
                    b.call(() -> b.ctl().createVolume(createReq(name).clearVolumeCapabilities()
                            .addVolumeCapabilities(cap(Mode.SINGLE_NODE_WRITER, List.of("vers=4.2"))).build()));
                }),
                s("CreateVolume in a subDir that holds another volume (issue 8 item 7)", "CreateVolume",
                        ALREADY_EXISTS, b -> {
                            String first = b.unique("first");
                            b.volume(first);
                            var r = b.call(() -> b.ctl().createVolume(createReq(b.unique("second"))
                                    .putParameters("subDir", first).build()));
                            b.track(r == null ? null : r.getVolume());
                        }));
    }

    // ---------------------------------------------------------------------------------------------- DeleteVolume

    static Csi.DeleteVolumeRequest deleteReq(String id) {
        return Csi.DeleteVolumeRequest.newBuilder().setVolumeId(id).build();
    }

    static List<Scenario> deleteVolume() {
        return List.of(
                s("DeleteVolume without volume_id", "DeleteVolume", INVALID_ARGUMENT,
                        b -> b.call(() -> b.ctl().deleteVolume(deleteReq("")))),
                s("DeleteVolume of an ID that does not parse", "DeleteVolume", OK,
                        b -> b.call(() -> b.ctl().deleteVolume(deleteReq("reallyfakevolumeid")))),
                s("DeleteVolume of a volume that does not exist", "DeleteVolume", OK,
                        b -> b.call(() -> b.ctl().deleteVolume(deleteReq(volumeId(SERVER, SHARE.toString(),
                                "sanity-none", "sanity-none"))))),
                s("DeleteVolume removes the directory, and a repeat is OK",
                        List.of(e("DeleteVolume", OK), e("DeleteVolume", OK)), b -> {
                            String name = b.unique("vol");
                            var v = b.volume(name);
                            b.call(() -> b.ctl().deleteVolume(deleteReq(v.getVolumeId())));
                            expect(!Files.exists(SHARE.resolve(name)), "no directory " + name, "it is there");
                            b.call(() -> b.ctl().deleteVolume(deleteReq(v.getVolumeId())));
                        }),
                s("DeleteVolume through a path component that is a symlink deletes nothing", "DeleteVolume",
                        FAILED_PRECONDITION, b -> {
                            String dir = b.unique("parent");
                            var v = b.volume(createReq(b.unique("vol")).putParameters("subDir", dir + "/vol").build());
                            sh("mv " + SHARE.resolve(dir) + " " + SHARE.resolve(dir + "-real") + " && ln -s " + dir
                                    + "-real " + SHARE.resolve(dir));
                            b.onCleanup(() -> sh("rm -f " + SHARE.resolve(dir) + " && mv " + SHARE.resolve(dir + "-real")
                                    + " " + SHARE.resolve(dir)));
                            b.call(() -> b.ctl().deleteVolume(deleteReq(v.getVolumeId())));
                            expect(Files.isDirectory(SHARE.resolve(dir + "-real/vol")), "the real directory kept",
                                    "it is gone");
                        }),
                s("DeleteVolume of an ID whose subDir is the driver's metadata directory (issue 8 item 7)",
                        "DeleteVolume", INVALID_ARGUMENT, b -> {
                            b.volume(b.unique("vol")); // so that the metadata directory holds a record
                            b.onCleanup(() -> expect(Files.isDirectory(SHARE.resolve(".nfs-csi/volumes")),
                                    "the driver's records kept", "they are gone"));
                            b.call(() -> b.ctl().deleteVolume(deleteReq(volumeId(SERVER, SHARE.toString(), ".nfs-csi",
                                    "sanity-meta"))));
                        }),
                s("DeleteVolume of an ID whose subDir starts with '.' (issue 8 item 7)", "DeleteVolume",
                        INVALID_ARGUMENT, b -> {
                            sh("mkdir -p " + SHARE.resolve(".sanity-hidden") + " && touch " + SHARE.resolve(
                                    ".sanity-hidden/keep"));
                            b.onCleanup(() -> sh("rm -rf " + SHARE.resolve(".sanity-hidden")));
                            b.onCleanup(() -> expect(Files.exists(SHARE.resolve(".sanity-hidden/keep")),
                                    "the directory kept", "it is gone"));
                            b.call(() -> b.ctl().deleteVolume(deleteReq(volumeId(SERVER, SHARE.toString(),
                                    ".sanity-hidden", "sanity-hidden"))));
                        }));
    }

    // ------------------------------------------------------------------------- ValidateVolumeCapabilities, Expand

    static Csi.ValidateVolumeCapabilitiesRequest.Builder validateReq(String id) {
        return Csi.ValidateVolumeCapabilitiesRequest.newBuilder().setVolumeId(id).addVolumeCapabilities(snw());
    }

    static Csi.ControllerExpandVolumeRequest expandReq(String id, long bytes) {
        return Csi.ControllerExpandVolumeRequest.newBuilder().setVolumeId(id)
                .setCapacityRange(Csi.CapacityRange.newBuilder().setRequiredBytes(bytes)).build();
    }

    static List<Scenario> validateAndExpand() {
        String none = volumeId(SERVER, SHARE.toString(), "sanity-none", "sanity-none");
        return List.of(
                s("ValidateVolumeCapabilities without volume_id", "ValidateVolumeCapabilities", INVALID_ARGUMENT,
                        b -> b.call(() -> b.ctl().validateVolumeCapabilities(validateReq("").build()))),
                s("ValidateVolumeCapabilities without volume_capabilities", "ValidateVolumeCapabilities",
                        INVALID_ARGUMENT, b -> {
                            var v = b.volume(b.unique("vol"));
                            b.call(() -> b.ctl().validateVolumeCapabilities(validateReq(v.getVolumeId())
                                    .clearVolumeCapabilities().build()));
                        }),
                s("ValidateVolumeCapabilities of a volume that does not exist", "ValidateVolumeCapabilities",
                        NOT_FOUND, b -> b.call(() -> b.ctl().validateVolumeCapabilities(validateReq(none).build()))),
                s("ValidateVolumeCapabilities of an ID that does not parse", "ValidateVolumeCapabilities", NOT_FOUND,
                        b -> b.call(() -> b.ctl().validateVolumeCapabilities(validateReq("sanity-bogus").build()))),
                s("ValidateVolumeCapabilities confirms every access mode of mount access",
                        "ValidateVolumeCapabilities", OK, b -> {
                            var v = b.volume(b.unique("vol"));
                            var req = validateReq(v.getVolumeId()).clearVolumeCapabilities();
                            for (Mode m : List.of(Mode.SINGLE_NODE_WRITER, Mode.SINGLE_NODE_READER_ONLY,
                                    Mode.MULTI_NODE_READER_ONLY, Mode.MULTI_NODE_SINGLE_WRITER,
                                    Mode.MULTI_NODE_MULTI_WRITER, Mode.SINGLE_NODE_SINGLE_WRITER,
                                    Mode.SINGLE_NODE_MULTI_WRITER)) {
                                req.addVolumeCapabilities(cap(m));
                            }
                            var r = b.call(() -> b.ctl().validateVolumeCapabilities(req.build()));
                            expect(r.getConfirmed().getVolumeCapabilitiesCount() == 7, "7 confirmed capabilities",
                                    r.getConfirmed().getVolumeCapabilitiesCount());
                        }),
                s("ValidateVolumeCapabilities does not confirm block access", "ValidateVolumeCapabilities", OK, b -> {
                    var v = b.volume(b.unique("vol"));
                    var r = b.call(() -> b.ctl().validateVolumeCapabilities(validateReq(v.getVolumeId())
                            .clearVolumeCapabilities().addVolumeCapabilities(Csi.VolumeCapability.newBuilder()
                                    .setBlock(Csi.VolumeCapability.BlockVolume.getDefaultInstance())
                                    .setAccessMode(Csi.VolumeCapability.AccessMode.newBuilder()
                                            .setMode(Mode.SINGLE_NODE_WRITER))).build()));
                    expect(!r.hasConfirmed() && !r.getMessage().isEmpty(), "no confirmed, a message", r);
                }),
                s("ControllerExpandVolume without volume_id", "ControllerExpandVolume", INVALID_ARGUMENT,
                        b -> b.call(() -> b.ctl().controllerExpandVolume(expandReq("", 2 * SIZE)))),
                s("ControllerExpandVolume without capacity_range", "ControllerExpandVolume", INVALID_ARGUMENT,
                        b -> {
                            var v = b.volume(b.unique("vol"));
                            b.call(() -> b.ctl().controllerExpandVolume(Csi.ControllerExpandVolumeRequest.newBuilder()
                                    .setVolumeId(v.getVolumeId()).build()));
                        }),
                s("ControllerExpandVolume with limit_bytes below required_bytes", "ControllerExpandVolume",
                        INVALID_ARGUMENT, b -> {
                            var v = b.volume(b.unique("vol"));
                            b.call(() -> b.ctl().controllerExpandVolume(Csi.ControllerExpandVolumeRequest.newBuilder()
                                    .setVolumeId(v.getVolumeId()).setCapacityRange(Csi.CapacityRange.newBuilder()
                                            .setRequiredBytes(4 * SIZE).setLimitBytes(2 * SIZE)).build()));
                        }),
                s("ControllerExpandVolume of a volume that does not exist", "ControllerExpandVolume", NOT_FOUND,
                        b -> b.call(() -> b.ctl().controllerExpandVolume(expandReq(none, 2 * SIZE)))),
                s("ControllerExpandVolume grows the volume; a smaller request later is OK",
                        List.of(e("ControllerExpandVolume", OK), e("ControllerExpandVolume", OK)), b -> {
                            var v = b.volume(b.unique("vol"));
                            var r = b.call(() -> b.ctl().controllerExpandVolume(expandReq(v.getVolumeId(), 2 * SIZE)));
                            expect(r.getCapacityBytes() == 2 * SIZE && !r.getNodeExpansionRequired(),
                                    2 * SIZE + " bytes, no node expansion", r);
                            var again = b.call(() -> b.ctl().controllerExpandVolume(expandReq(v.getVolumeId(), SIZE)));
                            expect(again.getCapacityBytes() >= 2 * SIZE, ">= " + 2 * SIZE, again.getCapacityBytes());
                        }),
                s("ControllerExpandVolume of a deleted volume", "ControllerExpandVolume", NOT_FOUND, b -> {
                    var v = b.volume(b.unique("vol"));
                    must("DeleteVolume", () -> b.ctl().deleteVolume(deleteReq(v.getVolumeId())));
                    b.call(() -> b.ctl().controllerExpandVolume(expandReq(v.getVolumeId(), 2 * SIZE)));
                }));
    }

    // ------------------------------------------------------------- GetCapacity, ListVolumes, ControllerGetVolume

    static Csi.ListVolumesRequest.Builder list() {
        return Csi.ListVolumesRequest.newBuilder();
    }

    static List<String> ids(Csi.ListVolumesResponse r) {
        return r.getEntriesList().stream().map(e -> e.getVolume().getVolumeId()).toList();
    }

    static List<Scenario> capacityAndLists() {
        return List.of(
                s("GetCapacity without parameters (issue 8 item 4)", "GetCapacity", OK, b -> {
                    b.volume(b.unique("vol")); // so that the controller knows a share
                    var r = b.call(() -> b.ctl().getCapacity(Csi.GetCapacityRequest.getDefaultInstance()));
                    expect(r.getAvailableCapacity() >= 0, ">= 0", r.getAvailableCapacity());
                }),
                s("GetCapacity of the StorageClass's share", "GetCapacity", OK, b -> {
                    var r = b.call(() -> b.ctl().getCapacity(Csi.GetCapacityRequest.newBuilder()
                            .addVolumeCapabilities(snw()).putAllParameters(Bed.params()).build()));
                    expect(r.getAvailableCapacity() > 0, "> 0", r.getAvailableCapacity());
                }),
                s("GetCapacity with a server but no share", "GetCapacity", INVALID_ARGUMENT,
                        b -> b.call(() -> b.ctl().getCapacity(Csi.GetCapacityRequest.newBuilder()
                                .putParameters("server", SERVER).build()))),
                s("ListVolumes without arguments lists volumes with IDs", "ListVolumes", OK, b -> {
                    b.volume(b.unique("vol"));
                    var r = b.call(() -> b.ctl().listVolumes(list().build()));
                    expect(!r.getEntriesList().isEmpty() && r.getEntriesList().stream().allMatch(
                            e -> !e.getVolume().getVolumeId().isEmpty() && e.getStatus().hasVolumeCondition()),
                            "entries with IDs and a condition", r.getEntriesList());
                }),
                s("ListVolumes with a starting_token it did not issue", "ListVolumes", ABORTED,
                        b -> b.call(() -> b.ctl().listVolumes(list().setStartingToken("invalid-token").build()))),
                s("ListVolumes with a negative max_entries", "ListVolumes", INVALID_ARGUMENT,
                        b -> b.call(() -> b.ctl().listVolumes(list().setMaxEntries(-1).build()))),
                s("ListVolumes shows a new volume and not a deleted one",
                        List.of(e("ListVolumes", OK), e("ListVolumes", OK), e("ListVolumes", OK)), b -> {
                            int before = b.call(() -> b.ctl().listVolumes(list().build())).getEntriesCount();
                            var v = b.volume(b.unique("vol"));
                            var with = ids(b.call(() -> b.ctl().listVolumes(list().build())));
                            expect(with.size() == before + 1 && with.contains(v.getVolumeId()),
                                    (before + 1) + " entries with " + v.getVolumeId(), with);
                            must("DeleteVolume", () -> b.ctl().deleteVolume(deleteReq(v.getVolumeId())));
                            var without = ids(b.call(() -> b.ctl().listVolumes(list().build())));
                            expect(without.size() == before, before + " entries", without);
                        }),
                s("ListVolumes pages with max_entries and next_token",
                        List.of(e("ListVolumes", OK), e("ListVolumes", OK)), b -> {
                            for (int i = 0; i < 3; i++) {
                                b.volume(b.unique("page" + i));
                            }
                            var first = b.call(() -> b.ctl().listVolumes(list().setMaxEntries(2).build()));
                            expect(first.getEntriesCount() == 2 && !first.getNextToken().isEmpty(),
                                    "2 entries and a next_token", first.getEntriesCount() + " " + first.getNextToken());
                            var rest = b.call(() -> b.ctl().listVolumes(list().setStartingToken(first.getNextToken())
                                    .build()));
                            var all = new HashSet<>(ids(first));
                            all.addAll(ids(rest));
                            expect(all.size() == 3 && rest.getNextToken().isEmpty(), "3 distinct volumes, no token",
                                    all);
                        }),
                s("ListVolumes resumes after a token whose volume was deleted (issue 8 item 9)",
                        List.of(e("ListVolumes", OK), e("ListVolumes", OK)), b -> {
                            List<Csi.Volume> made = new ArrayList<>();
                            for (int i = 0; i < 3; i++) {
                                made.add(b.volume(b.unique("gone" + i)));
                            }
                            var first = b.call(() -> b.ctl().listVolumes(list().setMaxEntries(1).build()));
                            String gone = first.getEntries(0).getVolume().getVolumeId();
                            must("DeleteVolume", () -> b.ctl().deleteVolume(deleteReq(gone)));
                            var rest = ids(b.call(() -> b.ctl().listVolumes(list().setStartingToken(
                                    first.getNextToken()).build())));
                            expect(rest.size() == 2 && !rest.contains(gone), "the 2 others", rest);
                        }),
                s("ControllerGetVolume without volume_id", "ControllerGetVolume", INVALID_ARGUMENT,
                        b -> b.call(() -> b.ctl().controllerGetVolume(getReq("")))),
                s("ControllerGetVolume of a volume reports it with a normal condition", "ControllerGetVolume", OK,
                        b -> {
                            var v = b.volume(b.unique("vol"));
                            var r = b.call(() -> b.ctl().controllerGetVolume(getReq(v.getVolumeId())));
                            expect(r.getVolume().getVolumeId().equals(v.getVolumeId())
                                    && r.getStatus().hasVolumeCondition() && !r.getStatus().getVolumeCondition()
                                    .getAbnormal(), "the volume, normal", r);
                        }),
                s("ControllerGetVolume of an ID that does not parse", "ControllerGetVolume", NOT_FOUND,
                        b -> b.call(() -> b.ctl().controllerGetVolume(getReq("sanity-bogus")))),
                s("ControllerGetVolume of a deleted volume (issue 8 item 5)", "ControllerGetVolume", NOT_FOUND, b -> {
                    var v = b.volume(b.unique("vol"));
                    must("DeleteVolume", () -> b.ctl().deleteVolume(deleteReq(v.getVolumeId())));
                    b.call(() -> b.ctl().controllerGetVolume(getReq(v.getVolumeId())));
                }),
                s("ControllerGetVolume of a volume whose directory was removed (issue 8 item 5)",
                        "ControllerGetVolume", NOT_FOUND, b -> {
                            String name = b.unique("vol");
                            var v = b.volume(name);
                            sh("rm -rf " + SHARE.resolve(name));
                            b.call(() -> b.ctl().controllerGetVolume(getReq(v.getVolumeId())));
                        }));
    }

    static Csi.ControllerGetVolumeRequest getReq(String id) {
        return Csi.ControllerGetVolumeRequest.newBuilder().setVolumeId(id).build();
    }

    // ---------------------------------------------------------------------------------------------- Snapshots

    static Csi.CreateSnapshotRequest.Builder snapReq(String name, String source) {
        return Csi.CreateSnapshotRequest.newBuilder().setName(name).setSourceVolumeId(source);
    }

    static Csi.ListSnapshotsRequest.Builder listSnaps() {
        return Csi.ListSnapshotsRequest.newBuilder();
    }

    static List<String> snapIds(Csi.ListSnapshotsResponse r) {
        return r.getEntriesList().stream().map(e -> e.getSnapshot().getSnapshotId()).toList();
    }

    static Csi.DeleteSnapshotRequest delSnap(String id) {
        return Csi.DeleteSnapshotRequest.newBuilder().setSnapshotId(id).build();
    }

    static Csi.GetSnapshotRequest getSnap(String id) {
        return Csi.GetSnapshotRequest.newBuilder().setSnapshotId(id).build();
    }

    static List<Scenario> snapshots() {
        String noneSnap = "nfs-csi-snapshot:1#" + SERVER + "#" + SHARE + "#sanity-snap-none#sanity-none";
        String noneVol = volumeId(SERVER, SHARE.toString(), "sanity-none", "sanity-none");
        return List.of(
                s("CreateSnapshot without a name", "CreateSnapshot", INVALID_ARGUMENT, b -> {
                    var v = b.volume(b.unique("vol"));
                    b.call(() -> b.ctl().createSnapshot(snapReq("", v.getVolumeId()).build()));
                }),
                s("CreateSnapshot without source_volume_id", "CreateSnapshot", INVALID_ARGUMENT,
                        b -> b.call(() -> b.ctl().createSnapshot(snapReq(b.unique("snap"), "").build()))),
                s("CreateSnapshot with an unknown parameter", "CreateSnapshot", INVALID_ARGUMENT, b -> {
                    var v = b.volume(b.unique("vol"));
                    b.call(() -> b.ctl().createSnapshot(snapReq(b.unique("snap"), v.getVolumeId())
                            .putParameters("colour", "blue").build()));
                }),
                s("CreateSnapshot of a source volume that does not exist", "CreateSnapshot", NOT_FOUND,
                        b -> b.call(() -> b.ctl().createSnapshot(snapReq(b.unique("snap"), noneVol).build()))),
                s("CreateSnapshot of a source ID that does not parse", "CreateSnapshot", NOT_FOUND,
                        b -> b.call(() -> b.ctl().createSnapshot(snapReq(b.unique("snap"), "testId").build()))),
                s("CreateSnapshot cuts a snapshot; the same request again returns it",
                        List.of(e("CreateSnapshot", OK), e("CreateSnapshot", OK)), b -> {
                            var v = b.volume(b.unique("vol"));
                            var req = snapReq(b.unique("snap"), v.getVolumeId()).build();
                            var s1 = b.call(() -> b.ctl().createSnapshot(req)).getSnapshot();
                            b.trackSnapshot(s1.getSnapshotId());
                            expect(!s1.getSnapshotId().isEmpty() && s1.getSourceVolumeId().equals(v.getVolumeId())
                                    && s1.hasCreationTime(), "an ID, the source, a creation time", s1);
                            var s2 = b.call(() -> b.ctl().createSnapshot(req)).getSnapshot();
                            expect(s2.getSnapshotId().equals(s1.getSnapshotId()), s1.getSnapshotId(),
                                    s2.getSnapshotId());
                            b.snapshot(req.getName(), v.getVolumeId()); // wait until ready before deleting
                        }),
                s("CreateSnapshot of an existing name with another source", "CreateSnapshot", ALREADY_EXISTS, b -> {
                    String name = b.unique("snap");
                    b.snapshot(name, b.volume(b.unique("vol1")).getVolumeId());
                    var other = b.volume(b.unique("vol2"));
                    b.call(() -> b.ctl().createSnapshot(snapReq(name, other.getVolumeId()).build()));
                }),
                s("CreateSnapshot with a 128-character name", "CreateSnapshot", OK, b -> {
                    var v = b.volume(b.unique("vol"));
                    String name = (b.unique("maxlen") + "-" + "s".repeat(128)).substring(0, 128);
                    var s = b.call(() -> b.ctl().createSnapshot(snapReq(name, v.getVolumeId()).build()));
                    b.trackSnapshot(s.getSnapshot().getSnapshotId());
                    b.snapshot(name, v.getVolumeId());
                }),
                s("DeleteSnapshot without snapshot_id", "DeleteSnapshot", INVALID_ARGUMENT,
                        b -> b.call(() -> b.ctl().deleteSnapshot(delSnap("")))),
                s("DeleteSnapshot of an ID that does not parse", "DeleteSnapshot", OK,
                        b -> b.call(() -> b.ctl().deleteSnapshot(delSnap("reallyfakesnapshotid")))),
                s("DeleteSnapshot removes the archive, and a repeat is OK",
                        List.of(e("DeleteSnapshot", OK), e("DeleteSnapshot", OK)), b -> {
                            String name = b.unique("snap");
                            var s = b.snapshot(name, b.volume(b.unique("vol")).getVolumeId());
                            b.call(() -> b.ctl().deleteSnapshot(delSnap(s.getSnapshotId())));
                            expect(!Files.exists(SHARE.resolve(name)), "no directory " + name, "it is there");
                            b.call(() -> b.ctl().deleteSnapshot(delSnap(s.getSnapshotId())));
                        }),
                s("ListSnapshots without arguments", "ListSnapshots", OK, b -> {
                    b.snapshot(b.unique("snap"), b.volume(b.unique("vol")).getVolumeId());
                    var r = b.call(() -> b.ctl().listSnapshots(listSnaps().build()));
                    expect(r.getEntriesList().stream().allMatch(e -> !e.getSnapshot().getSnapshotId().isEmpty()
                                    && !e.getSnapshot().getSourceVolumeId().isEmpty()
                                    && e.getSnapshot().hasCreationTime()) && r.getEntriesCount() >= 1,
                            "complete entries", r.getEntriesList());
                }),
                s("ListSnapshots by snapshot_id and by source_volume_id returns that one only",
                        List.of(e("ListSnapshots", OK), e("ListSnapshots", OK)), b -> {
                            b.snapshot(b.unique("other"), b.volume(b.unique("vol0")).getVolumeId());
                            var src = b.volume(b.unique("vol1"));
                            var s = b.snapshot(b.unique("snap"), src.getVolumeId());
                            var byId = snapIds(b.call(() -> b.ctl().listSnapshots(listSnaps()
                                    .setSnapshotId(s.getSnapshotId()).build())));
                            expect(byId.equals(List.of(s.getSnapshotId())), s.getSnapshotId(), byId);
                            var bySource = snapIds(b.call(() -> b.ctl().listSnapshots(listSnaps()
                                    .setSourceVolumeId(src.getVolumeId()).build())));
                            expect(bySource.equals(List.of(s.getSnapshotId())), s.getSnapshotId(), bySource);
                        }),
                s("ListSnapshots of a snapshot_id or source that does not exist is empty",
                        List.of(e("ListSnapshots", OK), e("ListSnapshots", OK)), b -> {
                            var r1 = b.call(() -> b.ctl().listSnapshots(listSnaps().setSnapshotId("none-exist-id")
                                    .build()));
                            var r2 = b.call(() -> b.ctl().listSnapshots(listSnaps().setSourceVolumeId(noneVol)
                                    .build()));
                            expect(r1.getEntriesCount() == 0 && r2.getEntriesCount() == 0, "no entries",
                                    r1.getEntriesCount() + " and " + r2.getEntriesCount());
                        }),
                s("ListSnapshots shows a new snapshot and not a deleted one",
                        List.of(e("ListSnapshots", OK), e("ListSnapshots", OK), e("ListSnapshots", OK)), b -> {
                            int before = b.call(() -> b.ctl().listSnapshots(listSnaps().build())).getEntriesCount();
                            var s = b.snapshot(b.unique("snap"), b.volume(b.unique("vol")).getVolumeId());
                            var with = snapIds(b.call(() -> b.ctl().listSnapshots(listSnaps().build())));
                            expect(with.size() == before + 1, (before + 1) + " entries", with);
                            must("DeleteSnapshot", () -> b.ctl().deleteSnapshot(delSnap(s.getSnapshotId())));
                            var without = snapIds(b.call(() -> b.ctl().listSnapshots(listSnaps().build())));
                            expect(without.size() == before, before + " entries", without);
                        }),
                s("ListSnapshots pages with max_entries and next_token",
                        List.of(e("ListSnapshots", OK), e("ListSnapshots", OK)), b -> {
                            for (int i = 0; i < 3; i++) {
                                b.snapshot(b.unique("snap" + i), b.volume(b.unique("vol" + i)).getVolumeId());
                            }
                            var first = b.call(() -> b.ctl().listSnapshots(listSnaps().setMaxEntries(2).build()));
                            expect(first.getEntriesCount() == 2 && !first.getNextToken().isEmpty(),
                                    "2 entries and a token", first.getEntriesCount());
                            var rest = b.call(() -> b.ctl().listSnapshots(listSnaps()
                                    .setStartingToken(first.getNextToken()).build()));
                            var all = new HashSet<>(snapIds(first));
                            all.addAll(snapIds(rest));
                            expect(all.size() == 3, "3 distinct snapshots", all);
                        }),
                s("ListSnapshots with a starting_token it did not issue", "ListSnapshots", ABORTED,
                        b -> b.call(() -> b.ctl().listSnapshots(listSnaps().setStartingToken("invalid-token")
                                .build()))),
                s("ListSnapshots with a negative max_entries", "ListSnapshots", INVALID_ARGUMENT,
                        b -> b.call(() -> b.ctl().listSnapshots(listSnaps().setMaxEntries(-1).build()))),
                s("ListSnapshots resumes after a token whose snapshot was deleted (issue 8 item 9)",
                        List.of(e("ListSnapshots", OK), e("ListSnapshots", OK)), b -> {
                            for (int i = 0; i < 3; i++) {
                                b.snapshot(b.unique("gone" + i), b.volume(b.unique("vol" + i)).getVolumeId());
                            }
                            var first = b.call(() -> b.ctl().listSnapshots(listSnaps().setMaxEntries(1).build()));
                            String gone = first.getEntries(0).getSnapshot().getSnapshotId();
                            must("DeleteSnapshot", () -> b.ctl().deleteSnapshot(delSnap(gone)));
                            var rest = snapIds(b.call(() -> b.ctl().listSnapshots(listSnaps()
                                    .setStartingToken(first.getNextToken()).build())));
                            expect(rest.size() == 2 && !rest.contains(gone), "the 2 others", rest);
                        }),
                s("GetSnapshot without snapshot_id", "GetSnapshot", INVALID_ARGUMENT,
                        b -> b.call(() -> b.ctl().getSnapshot(getSnap("")))),
                s("GetSnapshot of an ID that does not parse", "GetSnapshot", NOT_FOUND,
                        b -> b.call(() -> b.ctl().getSnapshot(getSnap("none-exist-id")))),
                s("GetSnapshot of a snapshot that does not exist", "GetSnapshot", NOT_FOUND,
                        b -> b.call(() -> b.ctl().getSnapshot(getSnap(noneSnap)))),
                s("GetSnapshot returns a ready snapshot, and NOT_FOUND once it is deleted",
                        List.of(e("GetSnapshot", OK), e("GetSnapshot", NOT_FOUND)), b -> {
                            var s = b.snapshot(b.unique("snap"), b.volume(b.unique("vol")).getVolumeId());
                            var r = b.call(() -> b.ctl().getSnapshot(getSnap(s.getSnapshotId())));
                            expect(r.getSnapshot().getReadyToUse(), "ready", r);
                            must("DeleteSnapshot", () -> b.ctl().deleteSnapshot(delSnap(s.getSnapshotId())));
                            b.call(() -> b.ctl().getSnapshot(getSnap(s.getSnapshotId())));
                        }));
    }

    // ----------------------------------------------------------------------------- CreateVolume from a source

    static Csi.VolumeContentSource fromSnapshot(String id) {
        return Csi.VolumeContentSource.newBuilder().setSnapshot(
                Csi.VolumeContentSource.SnapshotSource.newBuilder().setSnapshotId(id)).build();
    }

    static Csi.VolumeContentSource fromVolume(String id) {
        return Csi.VolumeContentSource.newBuilder().setVolume(
                Csi.VolumeContentSource.VolumeSource.newBuilder().setVolumeId(id)).build();
    }

    /** CreateVolume from a source, repeated while the background fill answers ABORTED, as csi-provisioner does. */
    static Csi.CreateVolumeResponse createFilled(Bed b, Csi.CreateVolumeRequest req) throws InterruptedException {
        for (int i = 0; ; i++) {
            try {
                return b.ctl().createVolume(req);
            } catch (io.grpc.StatusRuntimeException e) {
                if (e.getStatus().getCode() != ABORTED || i > 120) {
                    throw e;
                }
                Thread.sleep(250);
            }
        }
    }

    static List<Scenario> sources() {
        return List.of(
                s("CreateVolume from a snapshot that does not exist", "CreateVolume", NOT_FOUND,
                        b -> b.call(() -> b.ctl().createVolume(createReq(b.unique("vol")).setVolumeContentSource(
                                fromSnapshot("nfs-csi-snapshot:1#" + SERVER + "#" + SHARE + "#sanity-none#none"))
                                .build()))),
                s("CreateVolume from a snapshot ID that does not parse", "CreateVolume", NOT_FOUND,
                        b -> b.call(() -> b.ctl().createVolume(createReq(b.unique("vol")).setVolumeContentSource(
                                fromSnapshot("non-existing-snapshot-id")).build()))),
                s("CreateVolume from a source volume that does not exist", "CreateVolume", NOT_FOUND,
                        b -> b.call(() -> b.ctl().createVolume(createReq(b.unique("vol")).setVolumeContentSource(
                                fromVolume(volumeId(SERVER, SHARE.toString(), "sanity-none", "sanity-none")))
                                .build()))),
                s("CreateVolume from a snapshot restores its content; the same request again is OK",
                        List.of(e("CreateVolume", OK), e("CreateVolume", OK)), b -> {
                            String src = b.unique("src");
                            var v = b.volume(src);
                            Files.writeString(SHARE.resolve(src).resolve("hello"), "hello");
                            var s = b.snapshot(b.unique("snap"), v.getVolumeId());
                            String name = b.unique("restored");
                            var req = createReq(name).setVolumeContentSource(fromSnapshot(s.getSnapshotId())).build();
                            var r = b.call(() -> b.track(createFilledUnchecked(b, req).getVolume()));
                            expect(r.getContentSource().getSnapshot().getSnapshotId().equals(s.getSnapshotId()),
                                    "content_source " + s.getSnapshotId(), r.getContentSource());
                            expect(Files.exists(SHARE.resolve(name).resolve("hello")), "the restored file", "none");
                            b.call(() -> createFilledUnchecked(b, req));
                        }),
                s("CreateVolume cloned from a volume copies its content", "CreateVolume", OK, b -> {
                    String src = b.unique("src");
                    var v = b.volume(src);
                    Files.writeString(SHARE.resolve(src).resolve("hello"), "hello");
                    String name = b.unique("clone");
                    var req = createReq(name).setVolumeContentSource(fromVolume(v.getVolumeId())).build();
                    b.call(() -> b.track(createFilledUnchecked(b, req).getVolume()));
                    expect(Files.exists(SHARE.resolve(name).resolve("hello")), "the cloned file", "none");
                }),
                s("CreateVolume cloned from a larger volume", "CreateVolume", OUT_OF_RANGE, b -> {
                    var v = b.volume(createReq(b.unique("src")).setCapacityRange(Csi.CapacityRange.newBuilder()
                            .setRequiredBytes(4 * SIZE)).build());
                    var r = b.call(() -> b.ctl().createVolume(createReq(b.unique("clone"))
                            .setVolumeContentSource(fromVolume(v.getVolumeId())).build()));
                    b.track(r == null ? null : r.getVolume());
                }),
                s("CreateVolume from a snapshot of a larger volume", "CreateVolume", OUT_OF_RANGE, b -> {
                    var v = b.volume(createReq(b.unique("src")).setCapacityRange(Csi.CapacityRange.newBuilder()
                            .setRequiredBytes(4 * SIZE)).build());
                    var s = b.snapshot(b.unique("snap"), v.getVolumeId());
                    var r = b.call(() -> b.ctl().createVolume(createReq(b.unique("restored"))
                            .setVolumeContentSource(fromSnapshot(s.getSnapshotId())).build()));
                    b.track(r == null ? null : r.getVolume());
                }),
                s("CreateVolume from an archive with an entry outside the volume leaves nothing", "CreateVolume",
                        FAILED_PRECONDITION, b -> {
                            String snap = b.unique("evil");
                            Path dir = SHARE.resolve(snap);
                            Files.createDirectories(dir);
                            try (var out = new TarArchiveOutputStream(new java.util.zip.GZIPOutputStream(
                                    Files.newOutputStream(dir.resolve("pvc-evil.tar.gz"))))) {
                                TarArchiveEntry entry = new TarArchiveEntry("../sanity-escaped");
                                byte[] data = "pwned".getBytes();
                                entry.setSize(data.length);
                                out.putArchiveEntry(entry);
                                out.write(data);
                                out.closeArchiveEntry();
                            }
                            String id = SERVER + "#" + SHARE.toString().substring(1) + "#" + snap + "#" + snap
                                    + "#pvc-evil";
                            b.trackSnapshot(id);
                            var req = createReq(b.unique("restored")).setVolumeContentSource(fromSnapshot(id)).build();
                            var r = b.call(() -> b.track(createFilledUnchecked(b, req).getVolume()));
                            expect(r == null, "no volume", r);
                        }),
                s("CreateVolume of an existing name with a content source it was not made from (issue 8 item 6)",
                        "CreateVolume", ALREADY_EXISTS, b -> {
                            var s = b.snapshot(b.unique("snap"), b.volume(b.unique("src")).getVolumeId());
                            String name = b.unique("plain");
                            b.volume(name);
                            b.call(() -> b.ctl().createVolume(createReq(name).setVolumeContentSource(
                                    fromSnapshot(s.getSnapshotId())).build()));
                        }),
                s("CreateVolume of a restored name with another snapshot (issue 8 item 6)", "CreateVolume",
                        ALREADY_EXISTS, b -> {
                            var v = b.volume(b.unique("src"));
                            var s1 = b.snapshot(b.unique("snap1"), v.getVolumeId());
                            var s2 = b.snapshot(b.unique("snap2"), v.getVolumeId());
                            String name = b.unique("restored");
                            b.track(createFilled(b, createReq(name).setVolumeContentSource(
                                    fromSnapshot(s1.getSnapshotId())).build()).getVolume());
                            b.call(() -> b.ctl().createVolume(createReq(name).setVolumeContentSource(
                                    fromSnapshot(s2.getSnapshotId())).build()));
                        }));
    }

    static Csi.CreateVolumeResponse createFilledUnchecked(Bed b, Csi.CreateVolumeRequest req) {
        try {
            return createFilled(b, req);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
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
                            publishUnderTest(b, publishReq(v2, target(), Mode.SINGLE_NODE_WRITER).build());
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
                s("NodePublishVolume of a deleted volume", "NodePublishVolume", NOT_FOUND, b -> {
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
                                .newBuilder().setVolumeId("sanity-static").build()))),
                s("ControllerModifyVolume is not offered", "ControllerModifyVolume", UNIMPLEMENTED,
                        b -> b.call(() -> b.ctl().controllerModifyVolume(Csi.ControllerModifyVolumeRequest
                                .newBuilder().setVolumeId("sanity-static").putMutableParameters("iops", "1")
                                .build()))));
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

    // ---------------------------------------------------------------------------------------------- Faults

    static Map<String, String> hungParams() {
        return Map.of("server", HUNG_SERVER, "share", SHARE.toString());
    }

    static Map<String, String> deniedParams() {
        return Map.of("server", SERVER, "share", DENIED_SHARE.toString());
    }

    static List<Scenario> faults() {
        return List.of(
                s("CreateVolume and DeleteVolume on a share whose pooled mount stopped answering",
                        List.of(e("CreateVolume", UNAVAILABLE), e("DeleteVolume", UNAVAILABLE)), b -> {
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
                            expect(!Files.exists(target()), "no target left", "it is there");
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
                s("DeleteVolume while CreateVolume of the same volume is in flight (issue 8 item 8)",
                        List.of(e("DeleteVolume", ABORTED), e("CreateVolume", DEADLINE_EXCEEDED)), b -> {
                            b.hangServer2();
                            String name = b.unique("vol");
                            var req = createReq(name).clearParameters().putAllParameters(hungParams()).build();
                            var first = b.async(() -> b.impatientCtl().createVolume(req));
                            Bed.awaitMountProcess(HUNG_SERVER);
                            b.call(() -> b.impatientCtl().deleteVolume(deleteReq(volumeId(HUNG_SERVER, SHARE.toString(), name,
                                    name))));
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
                s("CreateSnapshot of a volume on a server that does not answer: a second call is ABORTED",
                        List.of(e("CreateSnapshot", ABORTED), e("CreateSnapshot", DEADLINE_EXCEEDED)), b -> {
                            b.hangServer2();
                            var req = snapReq(b.unique("snap"), volumeId(HUNG_SERVER, SHARE.toString(), "sanity-hung",
                                    "sanity-hung")).build();
                            var first = b.async(() -> b.impatientCtl().createSnapshot(req));
                            Bed.awaitMountProcess(HUNG_SERVER);
                            b.call(() -> b.ctl().createSnapshot(req));
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
                s("CreateVolume on a share the controller may not mount", "CreateVolume", PERMISSION_DENIED, b -> {
                    var r = b.call(() -> b.ctl().createVolume(createReq(b.unique("vol")).clearParameters()
                            .putAllParameters(deniedParams()).clearVolumeCapabilities()
                            .addVolumeCapabilities(cap(Mode.SINGLE_NODE_WRITER, List.of("vers=3", "nolock"))).build()));
                    b.track(r == null ? null : r.getVolume());
                }),
                s("DeleteVolume on a share the controller may not mount", "DeleteVolume", PERMISSION_DENIED,
                        b -> b.call(() -> b.ctl().deleteVolume(Csi.DeleteVolumeRequest.newBuilder()
                                .setVolumeId(volumeId(SERVER, DENIED_SHARE.toString(), "sanity-denied",
                                        "sanity-denied")).putSecrets("mountOptions", "vers=3,nolock").build()))),
                s("ListVolumes after calls that named unreachable or refusing shares", "ListVolumes", OK, b -> {
                    var v = b.volume(b.unique("vol"));
                    var r = b.call(() -> b.ctl().listVolumes(list().build()));
                    expect(ids(r).contains(v.getVolumeId()), "the new volume listed", ids(r));
                }));
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
