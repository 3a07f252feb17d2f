package io.nfscsi.walkthrough;

import io.nfscsi.csi.v1.Csi;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/** Builds node requests as kubelet does, and the directories kubelet prepares before calling. */
final class Kubelet {

    static final Path PODS = Path.of("/var/lib/kubelet/pods");

    private Kubelet() {}

    /** A fresh pod's target path for {@code pvName}, with its parent created as kubelet creates it. */
    static Path newTarget(String pvName) throws IOException {
        Path parent = PODS.resolve(UUID.randomUUID().toString()).resolve("volumes/kubernetes.io~csi").resolve(pvName);
        Files.createDirectories(parent);
        return parent.resolve("mount");
    }

    static Csi.VolumeCapability mountCapability(List<String> flags) {
        return Csi.VolumeCapability.newBuilder()
                .setMount(Csi.VolumeCapability.MountVolume.newBuilder().addAllMountFlags(flags))
                .setAccessMode(Csi.VolumeCapability.AccessMode.newBuilder()
                        .setMode(Csi.VolumeCapability.AccessMode.Mode.MULTI_NODE_MULTI_WRITER))
                .build();
    }

    static Csi.NodePublishVolumeRequest publish(String volumeId, Path target, Map<String, String> context,
                                                boolean readOnly, List<String> flags) {
        return Csi.NodePublishVolumeRequest.newBuilder()
                .setVolumeId(volumeId)
                .setTargetPath(target.toString())
                .setVolumeCapability(mountCapability(flags))
                .setReadonly(readOnly)
                .putAllVolumeContext(context)
                .putVolumeContext("csi.storage.k8s.io/pod.name", "web-0")
                .putVolumeContext("csi.storage.k8s.io/ephemeral", "false")
                .build();
    }

    static Csi.NodeUnpublishVolumeRequest unpublish(String volumeId, Path target) {
        return Csi.NodeUnpublishVolumeRequest.newBuilder().setVolumeId(volumeId).setTargetPath(target.toString())
                .build();
    }

    static Csi.NodeGetVolumeStatsRequest stats(String volumeId, Path path) {
        return Csi.NodeGetVolumeStatsRequest.newBuilder().setVolumeId(volumeId).setVolumePath(path.toString())
                .build();
    }
}
