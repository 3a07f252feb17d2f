package io.nfscsi.node;

import static io.nfscsi.testing.InProcessCsi.assertCode;
import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.Status;
import io.nfscsi.concurrent.BoundedIo;
import io.nfscsi.csi.v1.Csi;
import io.nfscsi.csi.v1.NodeGrpc;
import io.nfscsi.testing.FakeMounter;
import io.nfscsi.testing.InProcessCsi;
import io.nfscsi.volume.AllowedShares;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Which publishes {@code --inline-allowed-shares} lets through, as request handling (a fake mount table: the real
 * mounts are in the walkthrough's InlineVolumeTest).
 */
class InlineVolumesTest {

    /** The handle kubelet gives an inline volume: csi- and the sha256 of pod UID and volume name. */
    static final String KUBELET_ID = "csi-" + "0123456789abcdef".repeat(4);

    @TempDir
    Path dir;
    FakeMounter mounter = new FakeMounter();
    InProcessCsi csi;
    NodeGrpc.NodeBlockingStub node;

    NodeGrpc.NodeBlockingStub driver(String... allowed) throws Exception {
        csi = new InProcessCsi(new NodeService("node-1", mounter, new BoundedIo(4), dir.resolve("state"),
                Duration.ofSeconds(5), Duration.ofSeconds(2), Duration.ZERO, null,
                AllowedShares.parse("--inline-allowed-shares", List.of(allowed)), false, Clock.systemUTC()));
        node = NodeGrpc.newBlockingStub(csi.channel()).withDeadlineAfter(30, TimeUnit.SECONDS);
        return node;
    }

    @AfterEach
    void stop() {
        if (csi != null) {
            csi.close();
        }
    }

    Path target(String name) {
        Path t = dir.resolve("pods/" + name + "/volumes/kubernetes.io~csi/v/mount");
        try {
            Files.createDirectories(t.getParent());
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return t;
    }

    static Csi.NodePublishVolumeRequest publish(String volumeId, Path target, Map<String, String> context) {
        return Csi.NodePublishVolumeRequest.newBuilder().setVolumeId(volumeId).setTargetPath(target.toString())
                .setVolumeCapability(Csi.VolumeCapability.newBuilder()
                        .setMount(Csi.VolumeCapability.MountVolume.getDefaultInstance())
                        .setAccessMode(Csi.VolumeCapability.AccessMode.newBuilder()
                                .setMode(Csi.VolumeCapability.AccessMode.Mode.SINGLE_NODE_WRITER)))
                .putAllVolumeContext(context).build();
    }

    /** What kubelet sends for an inline volume with podInfoOnMount: true. */
    static Map<String, String> inline(String server, String share, String... more) {
        var m = new java.util.HashMap<>(Map.of("server", server, "share", share,
                "csi.storage.k8s.io/ephemeral", "true", "csi.storage.k8s.io/pod.name", "web-0",
                "csi.storage.k8s.io/pod.namespace", "team-a", "csi.storage.k8s.io/pod.uid", "4bcbf944",
                "csi.storage.k8s.io/serviceAccount.name", "default"));
        for (int i = 0; i < more.length; i += 2) {
            m.put(more[i], more[i + 1]);
        }
        return m;
    }

    @Test
    void inlinePublish_ofAnAllowedShare_mounts() throws Exception {
        driver("nfs.example.com:/exports/inline/**");
        Path t = target("a");
        node.nodePublishVolume(publish(KUBELET_ID, t, inline("nfs.example.com", "/exports/inline", "subDir", "x")));
        assertThat(mounter.mountCalls).extracting(List::getFirst).containsExactly("nfs.example.com:/exports/inline/x");
    }

    @Test
    void inlinePublish_ofAnotherShare_isPermissionDenied_namingTheFlagAndTheExport_andMountsNothing()
            throws Exception {
        driver("nfs.example.com:/exports/inline/**");
        Path t = target("a");
        Status s = assertCode(Status.Code.PERMISSION_DENIED, () -> node.nodePublishVolume(
                publish(KUBELET_ID, t, inline("nfs.example.com", "/exports//inline2/"))));
        s = assertCode(Status.Code.PERMISSION_DENIED, () -> node.nodePublishVolume(
                publish(KUBELET_ID, t, inline("nfs.example.com", "/exports", "subDir", "secret"))));
        assertThat(s.getDescription()).contains("--inline-allowed-shares", "nfs.example.com:/exports/secret");
        assertThat(mounter.mountCalls).isEmpty();
        assertThat(t).doesNotExist();
    }

    @Test
    void inlinePublish_withoutTheFlag_isPermissionDenied_namingTheFlag() throws Exception {
        driver();
        Path t = target("a");
        Status s = assertCode(Status.Code.PERMISSION_DENIED,
                () -> node.nodePublishVolume(publish(KUBELET_ID, t, inline("nfs.example.com", "/exports"))));
        assertThat(s.getDescription()).contains("--inline-allowed-shares");
        assertThat(mounter.mountCalls).isEmpty();
    }

    @Test
    void persistentPublish_ofAShareNoPatternAllows_mounts() throws Exception {
        driver("nfs.example.com:/exports/inline/**");
        var context = inline("nfs.example.com", "/exports/secret", "csi.storage.k8s.io/ephemeral", "false");
        node.nodePublishVolume(publish("nfs-csi:1#nfs.example.com#/exports#secret#pvc-1#delete", target("a"),
                context));
        node.nodePublishVolume(publish("static-pv", target("b"), Map.of("server", "nfs.example.com",
                "share", "/exports/secret")));
        assertThat(mounter.mountCalls).hasSize(2);
    }

    /** Without podInfoOnMount the marker is absent, or whatever the pod's author wrote: kubelet's ID still tells. */
    @ParameterizedTest(name = "marker {0}")
    @CsvSource(nullValues = "NULL", value = {"NULL", "false", "FALSE"})
    void inlinePublish_withoutOrWithAForgedMarker_isStillChecked_byKubeletsVolumeId(String marker) throws Exception {
        driver("nfs.example.com:/exports/inline/**");
        var context = new java.util.HashMap<>(Map.of("server", "nfs.example.com", "share", "/exports/secret"));
        if (marker != null) {
            context.put("csi.storage.k8s.io/ephemeral", marker);
        }
        assertCode(Status.Code.PERMISSION_DENIED,
                () -> node.nodePublishVolume(publish(KUBELET_ID, dirTarget(), context)));
        assertThat(mounter.mountCalls).isEmpty();
    }

    @ParameterizedTest(name = "{0}: {1}")
    @CsvSource({"csi.storage.k8s.io/ephemeral, true", "CSI.storage.k8s.io/Ephemeral, True",
            "csi.storage.k8s.io/ephemeral, yes"})
    void publish_markedEphemeral_isChecked_whateverItsVolumeId(String key, String value) throws Exception {
        driver("nfs.example.com:/exports/inline/**");
        assertCode(Status.Code.PERMISSION_DENIED, () -> node.nodePublishVolume(publish("any-id", dirTarget(),
                Map.of("server", "nfs.example.com", "share", "/exports/secret", key, value))));
        assertThat(mounter.mountCalls).isEmpty();
    }

    @Test
    void inlinePublish_invalidContext_isInvalidArgument_beforeThePermissionCheck() throws Exception {
        driver();
        assertCode(Status.Code.INVALID_ARGUMENT, () -> node.nodePublishVolume(publish(KUBELET_ID, dirTarget(),
                inline("nfs.example.com", "/exports", "subDir", "../etc"))));
    }

    private Path dirTarget() {
        return target("t");
    }

    /** An NFSv4 mount through a server-side symbolic link: the kernel shows the path it reached. */
    @Test
    void inlinePublish_whoseMountReachesADisallowedPath_isPermissionDenied_andUnmounted() throws Exception {
        FakeMounter reached = mounter;
        io.nfscsi.mount.Mounter throughALink = new io.nfscsi.mount.Mounter() {
            @Override
            public void mount(String source, Path target, String fsType, List<String> options,
                              io.nfscsi.concurrent.Deadline deadline) throws io.nfscsi.mount.MountException {
                reached.mount(source.replace("/inline/link", "/secret"), target, fsType, options, deadline);
            }

            @Override
            public void unmount(Path target, io.nfscsi.concurrent.Deadline deadline)
                    throws io.nfscsi.mount.MountException {
                reached.unmount(target, deadline);
            }

            @Override
            public io.nfscsi.mount.MountTable table() {
                return reached.table();
            }
        };
        csi = new InProcessCsi(new NodeService("node-1", throughALink, new BoundedIo(4), dir.resolve("state"),
                Duration.ofSeconds(5), Duration.ofSeconds(2), Duration.ZERO, null,
                AllowedShares.parse("--inline-allowed-shares", List.of("nfs.example.com:/exports/inline/**")),
                false, Clock.systemUTC()));
        node = NodeGrpc.newBlockingStub(csi.channel()).withDeadlineAfter(30, TimeUnit.SECONDS);
        Path t = target("a");

        Status s = assertCode(Status.Code.PERMISSION_DENIED, () -> node.nodePublishVolume(
                publish(KUBELET_ID, t, inline("nfs.example.com", "/exports/inline", "subDir", "link"))));
        assertThat(s.getDescription()).contains("--inline-allowed-shares", "/exports/secret");
        assertThat(reached.mounted()).isZero();
        assertThat(t).doesNotExist();

        // a persistent volume through the same link is the administrator's business
        node.nodePublishVolume(publish("pv-1", target("b"),
                Map.of("server", "nfs.example.com", "share", "/exports/inline", "subDir", "link")));
        assertThat(reached.mounted()).isOne();
    }

    @Test
    void isInline_kubeletIdForm_isExactlyCsiAnd64LowerHexDigits() {
        assertThat(InlineVolumes.isInline(KUBELET_ID, Map.of())).isTrue();
        assertThat(InlineVolumes.isInline(KUBELET_ID.toUpperCase(), Map.of())).isFalse();
        assertThat(InlineVolumes.isInline(KUBELET_ID + "0", Map.of())).isFalse();
        assertThat(InlineVolumes.isInline("pvc-4bcbf944-b6f7-4bd0-b50f-3c3dd00efc64", Map.of())).isFalse();
    }
}
