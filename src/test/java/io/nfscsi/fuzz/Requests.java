package io.nfscsi.fuzz;

import io.nfscsi.csi.v1.Csi;
import io.nfscsi.csi.v1.Csi.VolumeCapability.AccessMode.Mode;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * The valid request of each RPC that {@link Mutator} starts from, as the sidecars and kubelet send them: about the
 * seed volume and snapshot, with a fresh name where the call makes something.
 */
final class Requests {

    private static final List<Mode> MODES = List.of(Mode.SINGLE_NODE_WRITER, Mode.SINGLE_NODE_READER_ONLY,
            Mode.MULTI_NODE_READER_ONLY, Mode.MULTI_NODE_SINGLE_WRITER, Mode.MULTI_NODE_MULTI_WRITER,
            Mode.SINGLE_NODE_SINGLE_WRITER, Mode.SINGLE_NODE_MULTI_WRITER);

    private final Seeds seeds;

    Requests(Seeds seeds) {
        this.seeds = seeds;
    }

    static Csi.VolumeCapability capability() {
        return capability(Mode.MULTI_NODE_MULTI_WRITER);
    }

    static Csi.VolumeCapability capability(Mode mode) {
        return Csi.VolumeCapability.newBuilder()
                .setMount(Csi.VolumeCapability.MountVolume.newBuilder().addMountFlags("nfsvers=4.1"))
                .setAccessMode(Csi.VolumeCapability.AccessMode.newBuilder().setMode(mode)).build();
    }

    private static Csi.VolumeCapability capability(Random r) {
        return capability(MODES.get(r.nextInt(MODES.size())));
    }

    /** A StorageClass's parameters and the ones csi-provisioner adds. */
    static Map<String, String> parameters(String pvName) {
        Map<String, String> p = new LinkedHashMap<>();
        p.put("server", Values.SERVER);
        p.put("share", Values.SHARE);
        p.put("csi.storage.k8s.io/pv/name", pvName);
        p.put("csi.storage.k8s.io/pvc/name", "claim");
        p.put("csi.storage.k8s.io/pvc/namespace", "team");
        return p;
    }

    private static Csi.CapacityRange range(Random r) {
        return Csi.CapacityRange.newBuilder().setRequiredBytes(1L << (10 + r.nextInt(30))).build();
    }

    private static Map<String, String> context() {
        return Map.of("server", Values.SERVER, "share", Values.SHARE, "subDir", Seeds.VOLUME);
    }

    Csi.CreateVolumeRequest createVolume(Random r) {
        String name = seeds.uniqueName("pvc");
        var b = Csi.CreateVolumeRequest.newBuilder().setName(name).setCapacityRange(range(r))
                .addVolumeCapabilities(capability(r)).putAllParameters(parameters(name));
        switch (r.nextInt(6)) {
            case 0 -> b.setVolumeContentSource(Csi.VolumeContentSource.newBuilder().setSnapshot(
                    Csi.VolumeContentSource.SnapshotSource.newBuilder().setSnapshotId(seeds.snapshotId())));
            case 1 -> b.setVolumeContentSource(Csi.VolumeContentSource.newBuilder().setVolume(
                    Csi.VolumeContentSource.VolumeSource.newBuilder().setVolumeId(seeds.volumeId())));
            case 2 -> b.putParameters("subDir", "${pvc.metadata.namespace}/${pvc.metadata.name}-" + name)
                    .putParameters("mountPermissions", "0775").putParameters("onDelete", "retain");
            default -> { }
        }
        return b.build();
    }

    Csi.DeleteVolumeRequest deleteVolume(Random r) {
        return Csi.DeleteVolumeRequest.newBuilder().setVolumeId(seeds.volumeId()).build();
    }

    Csi.ControllerPublishVolumeRequest controllerPublishVolume(Random r) {
        return Csi.ControllerPublishVolumeRequest.newBuilder().setVolumeId(seeds.volumeId()).setNodeId(Seeds.NODE)
                .setVolumeCapability(capability(r)).putAllVolumeContext(context()).build();
    }

    Csi.ControllerUnpublishVolumeRequest controllerUnpublishVolume(Random r) {
        return Csi.ControllerUnpublishVolumeRequest.newBuilder().setVolumeId(seeds.volumeId()).setNodeId(Seeds.NODE)
                .build();
    }

    Csi.ValidateVolumeCapabilitiesRequest validateVolumeCapabilities(Random r) {
        return Csi.ValidateVolumeCapabilitiesRequest.newBuilder().setVolumeId(seeds.volumeId())
                .addVolumeCapabilities(capability(r)).putAllVolumeContext(context())
                .putAllParameters(parameters(Seeds.VOLUME)).build();
    }

    Csi.ListVolumesRequest listVolumes(Random r) {
        return Csi.ListVolumesRequest.newBuilder().setMaxEntries(r.nextInt(3)).build();
    }

    Csi.GetCapacityRequest getCapacity(Random r) {
        var b = Csi.GetCapacityRequest.newBuilder().addVolumeCapabilities(capability(r));
        if (r.nextBoolean()) {
            b.putAllParameters(parameters(Seeds.VOLUME));
        }
        return b.build();
    }

    Csi.CreateSnapshotRequest createSnapshot(Random r) {
        return Csi.CreateSnapshotRequest.newBuilder().setSourceVolumeId(seeds.volumeId())
                .setName(seeds.uniqueName("snapshot")).build();
    }

    Csi.DeleteSnapshotRequest deleteSnapshot(Random r) {
        return Csi.DeleteSnapshotRequest.newBuilder().setSnapshotId(seeds.snapshotId()).build();
    }

    Csi.ListSnapshotsRequest listSnapshots(Random r) {
        var b = Csi.ListSnapshotsRequest.newBuilder().setMaxEntries(r.nextInt(3));
        switch (r.nextInt(3)) {
            case 0 -> b.setSnapshotId(seeds.snapshotId());
            case 1 -> b.setSourceVolumeId(seeds.volumeId());
            default -> { }
        }
        return b.build();
    }

    Csi.GetSnapshotRequest getSnapshot(Random r) {
        return Csi.GetSnapshotRequest.newBuilder().setSnapshotId(seeds.snapshotId()).build();
    }

    Csi.ControllerExpandVolumeRequest controllerExpandVolume(Random r) {
        return Csi.ControllerExpandVolumeRequest.newBuilder().setVolumeId(seeds.volumeId()).setCapacityRange(range(r))
                .setVolumeCapability(capability(r)).build();
    }

    Csi.ControllerGetVolumeRequest controllerGetVolume(Random r) {
        return Csi.ControllerGetVolumeRequest.newBuilder().setVolumeId(seeds.volumeId()).build();
    }

    Csi.ControllerModifyVolumeRequest controllerModifyVolume(Random r) {
        return Csi.ControllerModifyVolumeRequest.newBuilder().setVolumeId(seeds.volumeId())
                .putMutableParameters("mountPermissions", "0750").putMutableParameters("onDelete", "retain").build();
    }

    Csi.NodeStageVolumeRequest nodeStageVolume(Random r) {
        return Csi.NodeStageVolumeRequest.newBuilder().setVolumeId(seeds.volumeId())
                .setStagingTargetPath(seeds.podDir(2).resolve("staging").toString()).setVolumeCapability(capability(r))
                .putAllVolumeContext(context()).build();
    }

    Csi.NodeUnstageVolumeRequest nodeUnstageVolume(Random r) {
        return Csi.NodeUnstageVolumeRequest.newBuilder().setVolumeId(seeds.volumeId())
                .setStagingTargetPath(seeds.podDir(2).resolve("staging").toString()).build();
    }

    Csi.NodePublishVolumeRequest nodePublishVolume(Random r) {
        return Csi.NodePublishVolumeRequest.newBuilder().setVolumeId(seeds.volumeId())
                .setTargetPath(seeds.podDir(r.nextInt(Seeds.PODS)).resolve("mount").toString())
                .setVolumeCapability(capability(r)).setReadonly(r.nextInt(4) == 0).putAllVolumeContext(context())
                .build();
    }

    Csi.NodeUnpublishVolumeRequest nodeUnpublishVolume(Random r) {
        return Csi.NodeUnpublishVolumeRequest.newBuilder().setVolumeId(seeds.volumeId())
                .setTargetPath(seeds.podDir(r.nextInt(Seeds.PODS)).resolve("mount").toString()).build();
    }

    Csi.NodeGetVolumeStatsRequest nodeGetVolumeStats(Random r) {
        return Csi.NodeGetVolumeStatsRequest.newBuilder().setVolumeId(seeds.volumeId())
                .setVolumePath(seeds.target().toString()).build();
    }

    Csi.NodeExpandVolumeRequest nodeExpandVolume(Random r) {
        return Csi.NodeExpandVolumeRequest.newBuilder().setVolumeId(seeds.volumeId())
                .setVolumePath(seeds.target().toString()).setCapacityRange(range(r)).build();
    }
}
