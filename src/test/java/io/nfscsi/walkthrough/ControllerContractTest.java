package io.nfscsi.walkthrough;

import static io.nfscsi.testbed.Shell.step;
import static io.nfscsi.walkthrough.StaticVolumeWalkthroughTest.assertCode;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.nfscsi.csi.v1.Csi;
import io.nfscsi.mount.MountTable;
import io.nfscsi.testbed.DriverProcess;
import io.nfscsi.testbed.Shell;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The controller's answers that depend on what is on the share, against the real NFS server: CreateVolume's
 * idempotency covers the content source; two volumes never share a directory; hidden subDirs are refused by every
 * call; ControllerGetVolume of a volume that is gone is NOT_FOUND; DeleteVolume of a volume whose clone is still
 * being filled stops the fill, which never writes its record afterwards. Its own export, {@link #SHARE}.
 */
@Tag("nfs")
class ControllerContractTest {

    static final Path SHARE = Path.of("/export-contract");
    static DriverProcess driver;

    @BeforeAll
    static void start() throws Exception {
        Shell.sh("exportfs -u 127.0.0.0/8:" + SHARE + " 2>/dev/null; mountpoint -q " + SHARE + " && umount " + SHARE
                + "; mkdir -p " + SHARE + " && mount -t tmpfs -o size=256m contract " + SHARE
                + " && exportfs -o rw,no_root_squash,no_subtree_check,insecure,fsid=61 127.0.0.0/8:" + SHARE).orThrow();
        driver = DriverProcess.start(Path.of("/run/nfs-csi-contract"));
    }

    @AfterAll
    static void stop() throws Exception {
        if (driver != null) {
            driver.close();
        }
        Shell.sh("exportfs -u 127.0.0.0/8:" + SHARE + "; umount " + SHARE);
    }

    static Map<String, String> storageClass(String... extra) {
        Map<String, String> p = new java.util.HashMap<>(Map.of("server", "127.0.0.1", "share", SHARE.toString()));
        for (int i = 0; i < extra.length; i += 2) {
            p.put(extra[i], extra[i + 1]);
        }
        return p;
    }

    static Csi.CreateVolumeRequest request(String pv, Csi.VolumeContentSource source, String... sc) {
        var b = Provisioner.create(pv, "ns", pv, 1 << 20, storageClass(sc), List.of("vers=4.1")).toBuilder();
        if (source != null) {
            b.setVolumeContentSource(source);
        }
        return b.build();
    }

    static Csi.Volume create(String pv, Csi.VolumeContentSource source, String... sc) {
        for (int i = 0; ; i++) {
            try {
                return driver.controller().createVolume(request(pv, source, sc)).getVolume();
            } catch (StatusRuntimeException e) {
                if (e.getStatus().getCode() != Status.Code.ABORTED || i > 100) {
                    throw e;
                }
            }
        }
    }

    static Csi.VolumeContentSource cloneOf(String volumeId) {
        return Csi.VolumeContentSource.newBuilder().setVolume(
                Csi.VolumeContentSource.VolumeSource.newBuilder().setVolumeId(volumeId)).build();
    }

    static Csi.ControllerGetVolumeRequest get(String id) {
        return Csi.ControllerGetVolumeRequest.newBuilder().setVolumeId(id).build();
    }

    @Test
    void createVolume_sameNameOtherContentSource_isAlreadyExists() {
        Csi.Volume a = create("pvc-src-a", null);
        Csi.Volume b = create("pvc-src-b", null);
        Shell.sh("echo a > " + SHARE.resolve("pvc-src-a/file")).orThrow();
        step("clone pvc-src-a as pvc-cs-clone; the same request again is OK");
        Csi.Volume clone = create("pvc-cs-clone", cloneOf(a.getVolumeId()));
        assertThat(create("pvc-cs-clone", cloneOf(a.getVolumeId()))).isEqualTo(clone);
        assertThat(SHARE.resolve("pvc-cs-clone/file")).hasContent("a");
        step("the same name from another volume, or from nothing: ALREADY_EXISTS");
        assertCode(() -> driver.controller().createVolume(request("pvc-cs-clone", cloneOf(b.getVolumeId()))),
                Status.Code.ALREADY_EXISTS);
        assertCode(() -> driver.controller().createVolume(request("pvc-cs-clone", null)), Status.Code.ALREADY_EXISTS);
        step("an empty volume asked again as a clone: ALREADY_EXISTS");
        assertCode(() -> driver.controller().createVolume(request("pvc-src-b", cloneOf(a.getVolumeId()))),
                Status.Code.ALREADY_EXISTS);
        assertThat(SHARE.resolve("pvc-cs-clone/file")).hasContent("a");
    }

    @Test
    void createVolume_directoryOfAnotherVolumeOrOfNone_isAlreadyExists_andNeverReused() throws Exception {
        Csi.Volume first = create("pvc-dir-1", null, "subDir", "${pvc.metadata.namespace}/shared");
        Shell.sh("echo first > " + SHARE.resolve("ns/shared/data")).orThrow();
        step("a second PV whose template resolves to the same directory: ALREADY_EXISTS, the data untouched");
        assertCode(() -> driver.controller().createVolume(request("pvc-dir-2", null, "subDir",
                "${pvc.metadata.namespace}/shared")), Status.Code.ALREADY_EXISTS);
        assertThat(SHARE.resolve("ns/shared/data")).hasContent("first");
        step("deleting a made-up ID for that directory deletes nothing");
        driver.controller().deleteVolume(Provisioner.delete("nfs-csi:1#127.0.0.1#" + SHARE + "#ns/shared#pvc-dir-2#delete"));
        assertThat(SHARE.resolve("ns/shared/data")).hasContent("first");
        step("a directory made on the server by someone else: ALREADY_EXISTS, never reused");
        Shell.sh("mkdir -p " + SHARE.resolve("stray") + " && echo theirs > " + SHARE.resolve("stray/data")).orThrow();
        assertCode(() -> driver.controller().createVolume(request("pvc-dir-3", null, "subDir", "stray")),
                Status.Code.ALREADY_EXISTS);
        assertThat(SHARE.resolve("stray/data")).hasContent("theirs");
        step("a csi-driver-nfs volume of the same name (directory = PV name, no record) is adopted");
        Shell.sh("mkdir -p " + SHARE.resolve("pvc-dir-old") + " && echo old > " + SHARE.resolve("pvc-dir-old/data"))
                .orThrow();
        create("pvc-dir-old", null);
        assertThat(SHARE.resolve("pvc-dir-old/data")).hasContent("old");
        step("once the first volume is deleted, the directory is free again");
        driver.controller().deleteVolume(Provisioner.delete(first.getVolumeId()));
        assertThat(SHARE.resolve("ns/shared")).doesNotExist();
        create("pvc-dir-2", null, "subDir", "${pvc.metadata.namespace}/shared");
        assertThat(SHARE.resolve("ns/shared")).isDirectory();
    }

    @Test
    void hiddenSubDir_isInvalidArgument_inParametersIdsAndVolumeContext() throws Exception {
        create("pvc-hidden-anchor", null);
        String id = "nfs-csi:1#127.0.0.1#" + SHARE + "#.nfs-csi#pvc-x#delete";
        assertCode(() -> driver.controller().createVolume(request("pvc-hidden", null, "subDir", ".nfs-csi")),
                Status.Code.INVALID_ARGUMENT);
        assertCode(() -> driver.controller().deleteVolume(Provisioner.delete(id)), Status.Code.INVALID_ARGUMENT);
        assertCode(() -> driver.controller().controllerGetVolume(get(id)), Status.Code.INVALID_ARGUMENT);
        assertCode(() -> driver.controller().controllerExpandVolume(Csi.ControllerExpandVolumeRequest.newBuilder()
                .setVolumeId(id).setCapacityRange(Csi.CapacityRange.newBuilder().setRequiredBytes(1)).build()),
                Status.Code.INVALID_ARGUMENT);
        assertCode(() -> driver.controller().validateVolumeCapabilities(Csi.ValidateVolumeCapabilitiesRequest
                .newBuilder().setVolumeId(id).addVolumeCapabilities(Kubelet.mountCapability(List.of())).build()),
                Status.Code.INVALID_ARGUMENT);
        assertCode(() -> driver.controller().createSnapshot(Csi.CreateSnapshotRequest.newBuilder()
                .setName("snap-hidden").setSourceVolumeId(id).build()), Status.Code.INVALID_ARGUMENT);
        step("a pod's volume_context naming the driver's records: INVALID_ARGUMENT, nothing mounted");
        Path target = Kubelet.newTarget("pv-hidden");
        assertCode(() -> driver.node().nodePublishVolume(Kubelet.publish("inline-hidden", target,
                Map.of("server", "127.0.0.1", "share", SHARE.toString(), "subDir", "/.nfs-csi/volumes"), false,
                List.of())), Status.Code.INVALID_ARGUMENT);
        assertThat(MountTable.read().at(target)).isEmpty();
        assertThat(SHARE.resolve(".nfs-csi/volumes/pvc-hidden-anchor.properties")).exists();
    }

    @Test
    void controllerGetVolume_ofAVolumeThatIsGone_isNotFound() {
        Csi.Volume v = create("pvc-gone", null);
        assertThat(driver.controller().controllerGetVolume(get(v.getVolumeId())).getStatus().getVolumeCondition()
                .getAbnormal()).isFalse();
        step("the directory is removed on the server: NOT_FOUND");
        Shell.sh("rmdir " + SHARE.resolve("pvc-gone")).orThrow();
        assertCode(() -> driver.controller().controllerGetVolume(get(v.getVolumeId())), Status.Code.NOT_FOUND);
        step("after DeleteVolume: NOT_FOUND");
        driver.controller().deleteVolume(Provisioner.delete(v.getVolumeId()));
        assertCode(() -> driver.controller().controllerGetVolume(get(v.getVolumeId())), Status.Code.NOT_FOUND);
    }

    @Test
    void deleteVolume_whileItsCloneIsFilled_stopsTheFill_whichNeverWritesItsRecord() throws Exception {
        Csi.Volume source = create("pvc-big", null);
        step("a source of 20000 files, so that the clone takes longer than one call");
        Shell.sh("cd " + SHARE.resolve("pvc-big") + " && for d in $(seq 1 20); do mkdir d$d && (cd d$d && seq -f f%g 1 1000 "
                + "| xargs touch); done").orThrow();
        // ABORTED ("still being filled"); on a loaded machine the reply may come after the client's deadline
        assertThatThrownBy(() -> driver.controller().withDeadlineAfter(10, TimeUnit.SECONDS).createVolume(
                request("pvc-big-clone", cloneOf(source.getVolumeId())))).isInstanceOfSatisfying(
                StatusRuntimeException.class, e -> assertThat(e.getStatus().getCode())
                        .isIn(Status.Code.ABORTED, Status.Code.DEADLINE_EXCEEDED));
        // the fill's own progress line comes every 10 s; the ABORTED reply names it at once
        assertThat(driver.log()).containsAnyOf("filling volume pvc-big-clone", "pvc-big-clone is still being filled");
        String cloneId = "nfs-csi:1#127.0.0.1#" + SHARE + "#pvc-big-clone#pvc-big-clone#delete";
        step("DeleteVolume of the clone while it is filled: it stops the fill before it answers");
        for (int i = 0; ; i++) {
            try {
                driver.controller().deleteVolume(Provisioner.delete(cloneId));
                break;
            } catch (StatusRuntimeException e) {
                // the CreateVolume call may still hold the volume's lock for a moment
                if (e.getStatus().getCode() != Status.Code.ABORTED || i > 100) {
                    throw e;
                }
                Thread.sleep(100); // the provisioner's back-off before a retry
            }
        }
        assertThat(SHARE.resolve(".nfs-csi/volumes/pvc-big-clone.properties")).doesNotExist();
        assertThat(driver.log()).contains("filling volume pvc-big-clone from volume " + source.getVolumeId()
                + " stopped: cancelled");
        assertThat(SHARE.resolve(".nfs-csi/volumes/pvc-big-clone.properties")).doesNotExist();
        assertThat(SHARE.resolve("pvc-big-clone")).doesNotExist();
        assertCode(() -> driver.controller().controllerGetVolume(get(cloneId)), Status.Code.NOT_FOUND);
    }
}
