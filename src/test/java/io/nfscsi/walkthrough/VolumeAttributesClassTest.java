package io.nfscsi.walkthrough;

import static io.nfscsi.testbed.Shell.step;
import static io.nfscsi.walkthrough.StaticVolumeWalkthroughTest.EXPORT;
import static io.nfscsi.walkthrough.StaticVolumeWalkthroughTest.assertCode;
import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.Status;
import io.nfscsi.csi.v1.Csi;
import io.nfscsi.mount.MountEntry;
import io.nfscsi.mount.MountTable;
import io.nfscsi.testbed.DriverProcess;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * ControllerModifyVolume against the real NFS server, as csi-resizer calls it when a claim names a new
 * VolumeAttributesClass: the record on the share changes, and DeleteVolume and later publishes follow it while the
 * volume_context (the PersistentVolume's) stays what CreateVolume returned.
 */
@Tag("nfs")
class VolumeAttributesClassTest {

    static final Path SHARE = EXPORT.resolve("vac");
    static final List<String> FLAGS = List.of("nfsvers=4.1", "hard");
    static DriverProcess driver;

    @BeforeAll
    static void startDriver() throws Exception {
        Files.createDirectories(SHARE);
        driver = DriverProcess.start(Path.of("/run/nfs-csi-vac"));
    }

    @AfterAll
    static void stopDriver() throws Exception {
        if (driver != null) {
            driver.close();
        }
    }

    static Csi.Volume create(String pv, String... scExtra) {
        Map<String, String> sc = new HashMap<>(Map.of("server", "127.0.0.1", "share", SHARE.toString()));
        for (int i = 0; i < scExtra.length; i += 2) {
            sc.put(scExtra[i], scExtra[i + 1]);
        }
        return driver.controller().createVolume(Provisioner.create(pv, "ns", pv, 1 << 30, sc, FLAGS)).getVolume();
    }

    static void modify(String id, String... kv) {
        var b = Csi.ControllerModifyVolumeRequest.newBuilder().setVolumeId(id);
        for (int i = 0; i < kv.length; i += 2) {
            b.putMutableParameters(kv[i], kv[i + 1]);
        }
        driver.controller().controllerModifyVolume(b.build());
    }

    /** What the kernel shows for the NFS mount at {@code target}: its per-mount and per-super-block options. */
    static List<String> options(Path target) throws Exception {
        MountEntry e = MountTable.read().at(target).orElseThrow();
        return java.util.stream.Stream.concat(e.mountOptions().stream(), e.superOptions().stream()).toList();
    }

    static int mode(Path p) throws Exception {
        return (Integer) Files.getAttribute(p, "unix:mode") & 07777;
    }

    @Test
    void modifyMountOptions_newPublishesMountWithThem_runningOnesKeepTheirs() throws Exception {
        Csi.Volume v = create("pvc-vac-options");
        Path before = Kubelet.newTarget("pvc-vac-options");
        driver.node().nodePublishVolume(Kubelet.publish(v.getVolumeId(), before, v.getVolumeContextMap(), false,
                FLAGS));
        assertThat(options(before)).contains("vers=4.1").doesNotContain("noac");

        step("ControllerModifyVolume mountOptions=nfsvers=4.2,noac");
        modify(v.getVolumeId(), "mountOptions", "nfsvers=4.2,noac");
        assertThat(options(before)).as("a running pod keeps its mount").contains("vers=4.1").doesNotContain("noac");

        step("a new publish, with the PV's unchanged volume_context and mount flags, mounts with the new options");
        Path after = Kubelet.newTarget("pvc-vac-options");
        driver.node().nodePublishVolume(Kubelet.publish(v.getVolumeId(), after, v.getVolumeContextMap(), false,
                FLAGS));
        assertThat(options(after)).contains("vers=4.2", "noac", "hard").doesNotContain("vers=4.1");
        Path lookups = Path.of("/run/nfs-csi-vac/node-state/record-lookups");
        try (var left = Files.list(lookups)) {
            assertThat(left.toList()).as("the lookup's private mount points are gone").isEmpty();
        }
        assertThat(MountTable.read().entries()).noneMatch(e -> e.mountPoint().startsWith(lookups));

        driver.node().nodeUnpublishVolume(Kubelet.unpublish(v.getVolumeId(), before));
        driver.node().nodeUnpublishVolume(Kubelet.unpublish(v.getVolumeId(), after));
        driver.controller().deleteVolume(Provisioner.delete(v.getVolumeId()));
        assertThat(SHARE.resolve("pvc-vac-options")).doesNotExist();
    }

    @Test
    void modifyOnDeleteToRetain_thenDelete_keepsTheDirectory() throws Exception {
        Csi.Volume v = create("pvc-vac-retain", "onDelete", "delete");
        Path dir = SHARE.resolve("pvc-vac-retain");
        Files.writeString(dir.resolve("kept"), "payload");
        step("ControllerModifyVolume onDelete=retain; the volume ID still says delete");
        modify(v.getVolumeId(), "onDelete", "retain");
        assertThat(v.getVolumeId()).endsWith("#delete");
        driver.controller().deleteVolume(Provisioner.delete(v.getVolumeId()));
        assertThat(dir.resolve("kept")).hasContent("payload");
        assertCode(() -> driver.controller().controllerGetVolume(Csi.ControllerGetVolumeRequest.newBuilder()
                .setVolumeId(v.getVolumeId()).build()), Status.Code.NOT_FOUND);
    }

    @Test
    void modifyMountPermissions_changesTheRootsMode_andLaterPublishesKeepIt() throws Exception {
        Csi.Volume v = create("pvc-vac-mode", "mountPermissions", "2770");
        Path dir = SHARE.resolve("pvc-vac-mode");
        assertThat(Integer.toOctalString(mode(dir))).isEqualTo("2770");
        step("ControllerModifyVolume mountPermissions=0750: the controller chmods the directory at once");
        modify(v.getVolumeId(), "mountPermissions", "0750");
        assertThat(Integer.toOctalString(mode(dir))).isEqualTo("750");

        step("a publish with the PV's context (mountPermissions 2770) leaves the recorded mode");
        Path target = Kubelet.newTarget("pvc-vac-mode");
        driver.node().nodePublishVolume(Kubelet.publish(v.getVolumeId(), target, v.getVolumeContextMap(), false,
                FLAGS));
        assertThat(Integer.toOctalString(mode(dir))).isEqualTo("750");
        driver.node().nodeUnpublishVolume(Kubelet.unpublish(v.getVolumeId(), target));
        driver.controller().deleteVolume(Provisioner.delete(v.getVolumeId()));
    }
}
