package io.nfscsi.conformance;

import static io.nfscsi.conformance.Catalogue.e;
import static io.nfscsi.conformance.Catalogue.s;
import static io.nfscsi.conformance.ControllerScenarios.*;
import static io.nfscsi.conformance.NodeScenarios.*;
import static io.grpc.Status.Code.ABORTED;
import static io.grpc.Status.Code.ALREADY_EXISTS;
import static io.grpc.Status.Code.FAILED_PRECONDITION;
import static io.grpc.Status.Code.INVALID_ARGUMENT;
import static io.grpc.Status.Code.NOT_FOUND;
import static io.grpc.Status.Code.OK;
import static io.grpc.Status.Code.OUT_OF_RANGE;
import static io.nfscsi.conformance.Bed.SERVER;
import static io.nfscsi.conformance.Bed.SHARE;
import static io.nfscsi.conformance.Bed.SIZE;
import static io.nfscsi.conformance.Bed.createReq;
import static io.nfscsi.conformance.Bed.expect;
import static io.nfscsi.conformance.Bed.must;
import static io.nfscsi.conformance.Bed.volumeId;

import io.nfscsi.csi.v1.Csi;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;

/** Scenarios of CreateSnapshot, DeleteSnapshot, ListSnapshots, GetSnapshot and CreateVolume from a source. */
final class SnapshotScenarios {

    private SnapshotScenarios() {}

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
}
