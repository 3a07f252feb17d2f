package io.nfscsi.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Message;
import io.grpc.StatusRuntimeException;
import io.nfscsi.controller.ControllerService;
import io.nfscsi.controller.ControllerSettings;
import io.nfscsi.csi.v1.ControllerGrpc;
import io.nfscsi.csi.v1.Csi;
import io.nfscsi.csi.v1.GroupControllerGrpc;
import io.nfscsi.csi.v1.NodeGrpc;
import io.nfscsi.csi.v1.SnapshotMetadataGrpc;
import io.nfscsi.concurrent.BoundedIo;
import io.nfscsi.mount.MountException;
import io.nfscsi.node.NodeService;
import io.nfscsi.logging.LogFormat;
import io.nfscsi.testing.CapturedLogs;
import io.nfscsi.testing.FakeMounter;
import io.nfscsi.testing.InProcessCsi;
import io.nfscsi.testing.LogLines;
import io.nfscsi.testing.MutableClock;
import io.nfscsi.testing.TestPools;
import io.nfscsi.volume.OnDelete;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.io.TempDir;

/**
 * Secrets never leave the driver: every RPC whose request has a {@code csi_secret} field (csi.proto: CreateVolume,
 * DeleteVolume, ControllerPublish/Unpublish, ValidateVolumeCapabilities, ControllerModifyVolume, CreateSnapshot,
 * DeleteSnapshot, ListSnapshots, GetSnapshot, ControllerExpandVolume, NodeStage, NodePublish, NodeExpand, and the
 * GroupController and SnapshotMetadata calls the driver does not serve) is sent sentinel secret values, valid and
 * malformed, in calls that succeed and calls that fail; no response, status, trailer or log line of any logger at
 * the most verbose level may hold a sentinel.
 */
class SecretSentinelTest {

    static final String SENTINEL = "SENTINEL-" + UUID.randomUUID().toString().substring(0, 8);

    @TempDir
    Path work;
    @TempDir
    Path pods;
    final FakeMounter mounter = new FakeMounter();
    /** Every response, status and trailer the calls produced, as text. */
    final List<String> answers = new ArrayList<>();
    int serial;

    /** Secrets maps: the mountOptions secret is read by DeleteVolume and DeleteSnapshot, the others by nothing. */
    static List<Map<String, String>> secretVariants() {
        return List.of(
                Map.of("password", SENTINEL + "-pw", "mountOptions", "vers=4.1,sentinelopt=" + SENTINEL + "-opt"),
                Map.of("mountoptions", SENTINEL + "-bare", "username", SENTINEL + "-user"),
                Map.of("mountOptions", "a,b c," + SENTINEL + "-malformed-1"),
                Map.of("mountOptions", SENTINEL + "-malformed-2 x"),
                Map.of("mountOptions", "=" + SENTINEL + "-malformed-3"),
                Map.of("mountOptions", "hard," + SENTINEL + "-malformed-4\n"),
                Map.of("mountOptions", "hard,\0" + SENTINEL + "-malformed-5"),
                Map.of("mountOptions", "!" + SENTINEL + "-malformed-6"));
    }

    @ParameterizedTest
    @EnumSource(LogFormat.class)
    void everyRpcWithSecrets_validAndMalformed_neverShowsASecretValue(LogFormat format) throws Exception {
        List<String> logLines;
        try (CapturedLogs logs = new CapturedLogs(format)) {
            BoundedIo io = new BoundedIo(8);
            MutableClock clock = new MutableClock(Instant.parse("2026-12-01T10:00:00Z"));
            ControllerService controllerService = ControllerService.create(new ControllerSettings(work.resolve("mounts"),
                    mounter, io, clock, OnDelete.DELETE, Duration.ofSeconds(5), Duration.ofMinutes(5), false, TestPools.walkers(2),
                    Duration.ZERO, Duration.ofSeconds(10)));
            NodeService nodeService = new NodeService("node-1", mounter, io, work.resolve("node-state"),
                    Duration.ofSeconds(5), Duration.ofSeconds(2), clock);
            try (InProcessCsi controllerCsi = new InProcessCsi(controllerService);
                 InProcessCsi nodeCsi = new InProcessCsi(nodeService)) {
                var controller = ControllerGrpc.newBlockingStub(controllerCsi.channel())
                        .withDeadlineAfter(60, TimeUnit.SECONDS);
                var groups = GroupControllerGrpc.newBlockingStub(controllerCsi.channel());
                var metadata = SnapshotMetadataGrpc.newBlockingStub(controllerCsi.channel());
                var node = NodeGrpc.newBlockingStub(nodeCsi.channel()).withDeadlineAfter(60, TimeUnit.SECONDS);
                for (Map<String, String> secrets : secretVariants()) {
                    controllerCalls(controller, secrets);
                    groupAndMetadataCalls(groups, metadata, secrets);
                    nodeCalls(node, secrets);
                }
                call(() -> node.nodeGetCapabilities(Csi.NodeGetCapabilitiesRequest.getDefaultInstance()));
            } finally {
                controllerService.shutdown();
            }
            logLines = logs.lines();
        }

        // the test reaches what it claims: secrets got to a mount, and the capture saw the most verbose level
        assertThat(mounter.mountCalls).anySatisfy(c -> assertThat(c.get(3)).contains(SENTINEL + "-opt"));
        assertThat(logLines).anySatisfy(l -> assertThat(l).contains("DeleteVolume"));
        // NodeGetCapabilities is logged at debug level only
        assertThat(logLines).anySatisfy(l -> assertThat(l).contains("NodeGetCapabilities"));
        assertThat(logLines).anySatisfy(l -> assertThat(l).contains("secrets"));
        // every line is a line of the format, so that a pipeline never sees a secret in a line it cannot parse
        for (String line : logLines) {
            if (format == LogFormat.JSON) {
                LogLines.json(line);
            } else {
                LogLines.text(line);
            }
        }
        assertThat(answers).anySatisfy(a -> assertThat(a).contains("INVALID_ARGUMENT").contains("mountOptions"));

        assertThat(answers).as("responses, statuses and trailers").noneMatch(a -> a.contains(SENTINEL));
        assertThat(logLines).as("log lines").noneMatch(l -> l.contains(SENTINEL));
    }

    private void controllerCalls(ControllerGrpc.ControllerBlockingStub controller, Map<String, String> secrets) {
        int n = ++serial;
        String name = "pvc-secret-" + n;
        String[] created = new String[1];
        call(() -> {
            var v = controller.createVolume(Csi.CreateVolumeRequest.newBuilder().setName(name)
                    .addVolumeCapabilities(capability()).putAllSecrets(secrets)
                    .putParameters("server", "nfs.example.com").putParameters("share", "/exports").build());
            created[0] = v.getVolume().getVolumeId();
            return v;
        });
        call(() -> controller.createVolume(Csi.CreateVolumeRequest.newBuilder().setName(name + "-bad")
                .addVolumeCapabilities(capability()).putAllSecrets(secrets).putParameters("bogus", "x").build()));
        String id = created[0] == null ? "nfs-csi:1#nfs.example.com#/exports#" + name + "#" + name + "#delete"
                : created[0];

        call(() -> controller.validateVolumeCapabilities(Csi.ValidateVolumeCapabilitiesRequest.newBuilder()
                .setVolumeId(id).addVolumeCapabilities(capability()).putAllSecrets(secrets).build()));
        call(() -> controller.validateVolumeCapabilities(Csi.ValidateVolumeCapabilitiesRequest.newBuilder()
                .setVolumeId("no-such-volume").addVolumeCapabilities(capability()).putAllSecrets(secrets).build()));
        call(() -> controller.controllerExpandVolume(Csi.ControllerExpandVolumeRequest.newBuilder().setVolumeId(id)
                .setCapacityRange(Csi.CapacityRange.newBuilder().setRequiredBytes(1 << 30)).putAllSecrets(secrets)
                .build()));
        call(() -> controller.controllerExpandVolume(Csi.ControllerExpandVolumeRequest.newBuilder().setVolumeId(id)
                .putAllSecrets(secrets).build()));
        call(() -> controller.controllerPublishVolume(Csi.ControllerPublishVolumeRequest.newBuilder().setVolumeId(id)
                .setNodeId("node-1").setVolumeCapability(capability()).putAllSecrets(secrets).build()));
        call(() -> controller.controllerUnpublishVolume(Csi.ControllerUnpublishVolumeRequest.newBuilder()
                .setVolumeId(id).setNodeId("node-1").putAllSecrets(secrets).build()));
        call(() -> controller.controllerModifyVolume(Csi.ControllerModifyVolumeRequest.newBuilder().setVolumeId(id)
                .putMutableParameters("x", "y").putAllSecrets(secrets).build()));

        String[] snapshot = new String[1];
        call(() -> {
            var s = controller.createSnapshot(Csi.CreateSnapshotRequest.newBuilder().setSourceVolumeId(id)
                    .setName("snapshot-secret-" + n).putAllSecrets(secrets).build());
            snapshot[0] = s.getSnapshot().getSnapshotId();
            return s;
        });
        call(() -> controller.createSnapshot(Csi.CreateSnapshotRequest.newBuilder().setSourceVolumeId(id)
                .putAllSecrets(secrets).build()));
        call(() -> controller.listSnapshots(Csi.ListSnapshotsRequest.newBuilder().putAllSecrets(secrets).build()));
        call(() -> controller.listSnapshots(Csi.ListSnapshotsRequest.newBuilder().setMaxEntries(-1)
                .putAllSecrets(secrets).build()));
        if (snapshot[0] != null) {
            call(() -> controller.getSnapshot(Csi.GetSnapshotRequest.newBuilder().setSnapshotId(snapshot[0])
                    .putAllSecrets(secrets).build()));
            call(() -> controller.deleteSnapshot(Csi.DeleteSnapshotRequest.newBuilder().setSnapshotId(snapshot[0])
                    .putAllSecrets(secrets).build()));
        }
        call(() -> controller.getSnapshot(Csi.GetSnapshotRequest.newBuilder().setSnapshotId("no-such-snapshot")
                .putAllSecrets(secrets).build()));

        // csi-driver-nfs IDs on shares not mounted yet: without a record, the mountOptions secret is what the share
        // is mounted with
        String legacyServer = "legacy-" + n + ".example.com";
        call(() -> controller.deleteSnapshot(Csi.DeleteSnapshotRequest.newBuilder()
                .setSnapshotId(legacyServer + "#exports#snapshot-" + n + "#snapshot-" + n + "#pvc-" + n)
                .putAllSecrets(secrets).build()));
        call(() -> controller.deleteVolume(Csi.DeleteVolumeRequest.newBuilder()
                .setVolumeId(legacyServer + "#exports#pvc-legacy-" + n).putAllSecrets(secrets).build()));
        for (MountException.Kind kind : MountException.Kind.values()) {
            mounter.failWith = kind;
            try {
                call(() -> controller.deleteVolume(Csi.DeleteVolumeRequest.newBuilder()
                        .setVolumeId("failing-" + kind.name().toLowerCase() + "-" + n + ".example.com#exports#pvc")
                        .putAllSecrets(secrets).build()));
            } finally {
                mounter.failWith = null;
            }
        }
        call(() -> controller.deleteVolume(Csi.DeleteVolumeRequest.newBuilder().setVolumeId(id)
                .putAllSecrets(secrets).build()));
        call(() -> controller.deleteVolume(Csi.DeleteVolumeRequest.newBuilder().putAllSecrets(secrets).build()));
    }

    private void groupAndMetadataCalls(GroupControllerGrpc.GroupControllerBlockingStub groups,
                                       SnapshotMetadataGrpc.SnapshotMetadataBlockingStub metadata,
                                       Map<String, String> secrets) {
        call(() -> groups.createVolumeGroupSnapshot(Csi.CreateVolumeGroupSnapshotRequest.newBuilder().setName("g")
                .addSourceVolumeIds("v").putAllSecrets(secrets).build()));
        call(() -> groups.deleteVolumeGroupSnapshot(Csi.DeleteVolumeGroupSnapshotRequest.newBuilder()
                .setGroupSnapshotId("g").putAllSecrets(secrets).build()));
        call(() -> groups.getVolumeGroupSnapshot(Csi.GetVolumeGroupSnapshotRequest.newBuilder()
                .setGroupSnapshotId("g").putAllSecrets(secrets).build()));
        call(() -> {
            var it = metadata.getMetadataAllocated(Csi.GetMetadataAllocatedRequest.newBuilder().setSnapshotId("s")
                    .putAllSecrets(secrets).build());
            it.hasNext();
            return it.next();
        });
        call(() -> {
            var it = metadata.getMetadataDelta(Csi.GetMetadataDeltaRequest.newBuilder().setBaseSnapshotId("a")
                    .setTargetSnapshotId("b").putAllSecrets(secrets).build());
            it.hasNext();
            return it.next();
        });
    }

    private void nodeCalls(NodeGrpc.NodeBlockingStub node, Map<String, String> secrets) throws Exception {
        int n = ++serial;
        Path target = Files.createDirectories(pods.resolve("pod-" + n)).resolve("mount");
        var publish = Csi.NodePublishVolumeRequest.newBuilder().setVolumeId("vol-" + n)
                .setTargetPath(target.toString()).setVolumeCapability(capability())
                .putVolumeContext("server", "nfs.example.com").putVolumeContext("share", "/exports")
                .putAllSecrets(secrets);
        call(() -> node.nodePublishVolume(publish.build()));
        call(() -> node.nodeUnpublishVolume(Csi.NodeUnpublishVolumeRequest.newBuilder().setVolumeId("vol-" + n)
                .setTargetPath(target.toString()).build()));
        call(() -> node.nodePublishVolume(publish.clone().putVolumeContext("bogus", "x").build()));
        call(() -> node.nodePublishVolume(publish.clone().clearVolumeCapability().build()));
        mounter.failWith = MountException.Kind.ACCESS_DENIED;
        try {
            call(() -> node.nodePublishVolume(publish.build()));
        } finally {
            mounter.failWith = null;
        }
        call(() -> node.nodeStageVolume(Csi.NodeStageVolumeRequest.newBuilder().setVolumeId("vol-" + n)
                .setStagingTargetPath(pods.resolve("staging").toString()).setVolumeCapability(capability())
                .putAllSecrets(secrets).build()));
        call(() -> node.nodeExpandVolume(Csi.NodeExpandVolumeRequest.newBuilder().setVolumeId("vol-" + n)
                .setVolumePath(target.toString()).putAllSecrets(secrets).build()));
    }

    /** Makes the call and keeps its response, or its status and trailers. */
    private void call(Supplier<? extends Message> rpc) {
        try {
            answers.add(rpc.get().toString());
        } catch (StatusRuntimeException e) {
            answers.add(e.getStatus().toString());
            answers.add(String.valueOf(e.getTrailers()));
        } catch (java.util.NoSuchElementException e) {
            answers.add(e.toString()); // an empty server stream
        }
    }

    static Csi.VolumeCapability capability() {
        return Csi.VolumeCapability.newBuilder().setMount(Csi.VolumeCapability.MountVolume.getDefaultInstance())
                .setAccessMode(Csi.VolumeCapability.AccessMode.newBuilder()
                        .setMode(Csi.VolumeCapability.AccessMode.Mode.MULTI_NODE_MULTI_WRITER)).build();
    }
}
