package io.nfscsi.walkthrough;

import io.nfscsi.csi.v1.Csi;
import java.util.List;
import java.util.Map;

/** Builds controller requests as csi-provisioner does (with --extra-create-metadata). */
final class Provisioner {

    private Provisioner() {}

    static Csi.CreateVolumeRequest create(String pvName, String namespace, String pvcName, long bytes,
                                          Map<String, String> storageClassParameters, List<String> mountOptions) {
        return Csi.CreateVolumeRequest.newBuilder()
                .setName(pvName)
                .setCapacityRange(Csi.CapacityRange.newBuilder().setRequiredBytes(bytes))
                .addVolumeCapabilities(Kubelet.mountCapability(mountOptions))
                .putAllParameters(storageClassParameters)
                .putParameters("csi.storage.k8s.io/pv/name", pvName)
                .putParameters("csi.storage.k8s.io/pvc/name", pvcName)
                .putParameters("csi.storage.k8s.io/pvc/namespace", namespace)
                .build();
    }

    static Csi.DeleteVolumeRequest delete(String volumeId) {
        return Csi.DeleteVolumeRequest.newBuilder().setVolumeId(volumeId).build();
    }
}
