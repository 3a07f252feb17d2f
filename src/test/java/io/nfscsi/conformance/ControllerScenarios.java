package io.nfscsi.conformance;

import static io.nfscsi.conformance.Catalogue.e;
import static io.nfscsi.conformance.Catalogue.s;
import static io.nfscsi.conformance.NodeScenarios.*;
import static io.nfscsi.conformance.SnapshotScenarios.*;
import static io.grpc.Status.Code.ABORTED;
import static io.grpc.Status.Code.ALREADY_EXISTS;
import static io.grpc.Status.Code.FAILED_PRECONDITION;
import static io.grpc.Status.Code.INVALID_ARGUMENT;
import static io.grpc.Status.Code.NOT_FOUND;
import static io.grpc.Status.Code.OK;
import static io.nfscsi.conformance.Bed.SERVER;
import static io.nfscsi.conformance.Bed.SHARE;
import static io.nfscsi.conformance.Bed.SIZE;
import static io.nfscsi.conformance.Bed.cap;
import static io.nfscsi.conformance.Bed.createReq;
import static io.nfscsi.conformance.Bed.expect;
import static io.nfscsi.conformance.Bed.must;
import static io.nfscsi.conformance.Bed.sh;
import static io.nfscsi.conformance.Bed.snw;
import static io.nfscsi.conformance.Bed.volumeId;

import io.nfscsi.csi.v1.Csi;
import io.nfscsi.csi.v1.Csi.VolumeCapability.AccessMode.Mode;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;

/** Scenarios of CreateVolume, DeleteVolume, ValidateVolumeCapabilities, ControllerExpandVolume, GetCapacity,
 * ListVolumes and ControllerGetVolume. */
final class ControllerScenarios {

    private ControllerScenarios() {}

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
                createInvalid("with an unknown mutable parameter", b -> createReq(
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

    static Csi.ControllerModifyVolumeRequest modifyReq(String id, String... kv) {
        var b = Csi.ControllerModifyVolumeRequest.newBuilder().setVolumeId(id);
        for (int i = 0; i < kv.length; i += 2) {
            b.putMutableParameters(kv[i], kv[i + 1]);
        }
        return b.build();
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
                }),
                s("ControllerModifyVolume without volume_id", "ControllerModifyVolume", INVALID_ARGUMENT,
                        b -> b.call(() -> b.ctl().controllerModifyVolume(modifyReq("", "onDelete", "retain")))),
                s("ControllerModifyVolume with an unknown mutable parameter", "ControllerModifyVolume",
                        INVALID_ARGUMENT, b -> {
                            var v = b.volume(b.unique("vol"));
                            b.call(() -> b.ctl().controllerModifyVolume(modifyReq(v.getVolumeId(), "iops", "100")));
                        }),
                s("ControllerModifyVolume of a volume that does not exist", "ControllerModifyVolume", NOT_FOUND,
                        b -> b.call(() -> b.ctl().controllerModifyVolume(modifyReq(none, "onDelete", "retain")))),
                s("ControllerModifyVolume twice with the same parameters, and with none, is OK",
                        List.of(e("ControllerModifyVolume", OK), e("ControllerModifyVolume", OK),
                                e("ControllerModifyVolume", OK)), b -> {
                            var v = b.volume(b.unique("vol"));
                            // onDelete delete: the scenario's clean-up deletes the volume, leaving nothing behind
                            b.call(() -> b.ctl().controllerModifyVolume(modifyReq(v.getVolumeId(), "onDelete",
                                    "delete", "mountPermissions", "0750")));
                            b.call(() -> b.ctl().controllerModifyVolume(modifyReq(v.getVolumeId(), "onDelete",
                                    "delete", "mountPermissions", "0750")));
                            b.call(() -> b.ctl().controllerModifyVolume(modifyReq(v.getVolumeId())));
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
}
