package io.nfscsi.walkthrough;

import static io.nfscsi.walkthrough.StaticVolumeWalkthroughTest.EXPORT;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.nfscsi.csi.v1.Csi;
import io.nfscsi.mount.MountTable;
import io.nfscsi.testbed.DriverProcess;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Inline (CSI ephemeral) volumes against the real NFS server, with {@code --inline-allowed-shares} allowing
 * {@code 127.0.0.1:/export/inline/**}: what a pod may and may not mount by naming an export in its own spec.
 */
@Tag("nfs")
class InlineVolumeTest {

    static final String ALLOWED = "127.0.0.1:" + EXPORT + "/inline/**";
    static DriverProcess driver;

    @BeforeAll
    static void startDriver() throws Exception {
        Files.createDirectories(EXPORT.resolve("inline/team-a"));
        Files.writeString(EXPORT.resolve("inline/team-a/shared"), "inline data");
        Files.createDirectories(EXPORT.resolve("secret"));
        Files.writeString(EXPORT.resolve("secret/key"), "not for pods");
        Files.deleteIfExists(EXPORT.resolve("inline/link"));
        Files.createSymbolicLink(EXPORT.resolve("inline/link"), Path.of("../secret"));
        driver = DriverProcess.start(Path.of("/run/nfs-csi-inline"), "--inline-allowed-shares", ALLOWED);
    }

    @AfterAll
    static void stopDriver() throws Exception {
        if (driver != null) {
            driver.close();
        }
    }

    /** The volume handle kubelet makes for a pod's inline volume: csi- and sha256(pod UID + volume name). */
    static String kubeletInlineId(String podUid, String volumeName) throws Exception {
        byte[] hash = java.security.MessageDigest.getInstance("SHA-256")
                .digest((podUid + volumeName).getBytes(java.nio.charset.StandardCharsets.UTF_8));
        return "csi-" + HexFormat.of().formatHex(hash);
    }

    /** NodePublishVolume as kubelet sends it for an inline volume when the CSIDriver has podInfoOnMount: true. */
    static Csi.NodePublishVolumeRequest inline(String volumeId, Path target, String share, String subDir) {
        return inline(volumeId, target, share, subDir, List.of());
    }

    static Csi.NodePublishVolumeRequest inline(String volumeId, Path target, String share, String subDir,
                                               List<String> mountFlags) {
        Map<String, String> context = new HashMap<>(Map.of("server", "127.0.0.1", "share", share,
                "csi.storage.k8s.io/ephemeral", "true", "csi.storage.k8s.io/pod.name", "web-0",
                "csi.storage.k8s.io/pod.namespace", "team-a", "csi.storage.k8s.io/pod.uid", "4bcbf944",
                "csi.storage.k8s.io/serviceAccount.name", "default"));
        if (subDir != null) {
            context.put("subDir", subDir);
        }
        return Csi.NodePublishVolumeRequest.newBuilder().setVolumeId(volumeId).setTargetPath(target.toString())
                .setVolumeCapability(Kubelet.mountCapability(mountFlags)).putAllVolumeContext(context).build();
    }

    @Test
    void inlinePublish_ofAnAllowedShare_mounts() throws Exception {
        String id = kubeletInlineId(UUID.randomUUID().toString(), "data");
        Path target = Kubelet.newTarget(id);
        driver.node().nodePublishVolume(inline(id, target, EXPORT.toString(), "inline/team-a"));
        try {
            assertThat(MountTable.read().at(target).orElseThrow().source())
                    .isEqualTo("127.0.0.1:" + EXPORT + "/inline/team-a");
            assertThat(new Pod(target).exec("cat shared").orThrow().output()).contains("inline data");
        } finally {
            driver.node().nodeUnpublishVolume(Kubelet.unpublish(id, target));
        }
        assertThat(target).doesNotExist();
    }

    @Test
    void inlinePublish_ofADisallowedShare_isPermissionDenied_andMountsNothing() throws Exception {
        String id = kubeletInlineId(UUID.randomUUID().toString(), "data");
        Path target = Kubelet.newTarget(id);
        int mountsBefore = MountTable.read().entries().size();
        try {
            for (var request : List.of(
                    inline(id, target, EXPORT.toString(), "secret"),
                    inline(id, target, EXPORT.toString(), null),
                    inline(id, target, EXPORT + "//./secret/", null),
                    inline(id, target, EXPORT + "/inline-2", null))) {
                assertThatThrownBy(() -> driver.node().nodePublishVolume(request))
                        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                            assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
                            assertThat(e.getStatus().getDescription()).contains("--inline-allowed-shares");
                        });
            }
            // '..' never reaches the check: refused as malformed, as for any volume
            assertThatThrownBy(() -> driver.node().nodePublishVolume(
                    inline(id, target, EXPORT.toString(), "inline/../secret")))
                    .isInstanceOfSatisfying(StatusRuntimeException.class,
                            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT));
        } finally {
            driver.node().nodeUnpublishVolume(Kubelet.unpublish(id, target));
        }
        assertThat(target).doesNotExist();
        assertThat(MountTable.read().entries()).hasSize(mountsBefore)
                .noneMatch(m -> m.source().contains("/secret"));
    }

    /**
     * A pod that may write in the allowed share links {@code inline/link -> ../secret} there: the path passes the
     * check, and the NFSv4 client follows the link while mounting. The mount table shows where it arrived, and the
     * driver unmounts it. (An NFSv3 mount shows the path as asked: README, "Inline volumes".)
     */
    @Test
    void inlinePublish_throughASymbolicLinkOnTheServer_nfs4_isPermissionDenied_andUnmounted() throws Exception {
        String id = kubeletInlineId(UUID.randomUUID().toString(), "data");
        Path target = Kubelet.newTarget(id);
        try {
            assertThatThrownBy(() -> driver.node().nodePublishVolume(
                    inline(id, target, EXPORT.toString(), "inline/link", List.of("vers=4.2"))))
                    .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                        assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
                        assertThat(e.getStatus().getDescription()).contains("--inline-allowed-shares",
                                EXPORT + "/secret");
                    });
            assertThat(target).doesNotExist();
            assertThat(MountTable.read().entries()).noneMatch(m -> m.source().contains("/secret"));
        } finally {
            driver.node().nodeUnpublishVolume(Kubelet.unpublish(id, target));
        }
    }

    @Test
    void persistentPublish_ofTheSameDisallowedShare_stillMounts() throws Exception {
        Path target = Kubelet.newTarget("secret-pv");
        driver.node().nodePublishVolume(Kubelet.publish("secret-pv", target,
                Map.of("server", "127.0.0.1", "share", EXPORT.toString(), "subDir", "secret"), false, List.of()));
        try {
            assertThat(new Pod(target).exec("cat key").orThrow().output()).contains("not for pods");
        } finally {
            driver.node().nodeUnpublishVolume(Kubelet.unpublish("secret-pv", target));
        }
    }
}
