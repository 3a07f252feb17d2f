package io.nfscsi.node;

import static io.nfscsi.testing.InProcessCsi.assertCode;
import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.Status;
import io.nfscsi.csi.v1.Csi;
import io.nfscsi.csi.v1.NodeGrpc;
import io.nfscsi.mount.MountException;
import io.nfscsi.testing.FakeMounter;
import io.nfscsi.testing.InProcessCsi;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/** Request handling of the node service, with an in-memory mount table (no mounting: see the walkthrough tests). */
class NodeServiceTest {

    @TempDir
    Path dir;
    FakeMounter mounter;
    InProcessCsi csi;
    NodeGrpc.NodeBlockingStub node;
    Path target;

    @BeforeEach
    void start() throws Exception {
        mounter = new FakeMounter();
        csi = new InProcessCsi(new NodeService("node-1", mounter, new io.nfscsi.mount.BoundedIo(8), Duration.ofSeconds(5), Duration.ofSeconds(1),
                Clock.systemUTC()));
        node = NodeGrpc.newBlockingStub(csi.channel()).withDeadlineAfter(30, TimeUnit.SECONDS);
        target = dir.resolve("pods/uid/volumes/kubernetes.io~csi/pv/mount");
        Files.createDirectories(target.getParent());
    }

    @AfterEach
    void stop() {
        csi.close();
    }

    static Csi.NodePublishVolumeRequest.Builder valid(Path target) {
        return Csi.NodePublishVolumeRequest.newBuilder()
                .setVolumeId("vol-1")
                .setTargetPath(target.toString())
                .setVolumeCapability(Csi.VolumeCapability.newBuilder()
                        .setMount(Csi.VolumeCapability.MountVolume.getDefaultInstance())
                        .setAccessMode(Csi.VolumeCapability.AccessMode.newBuilder()
                                .setMode(Csi.VolumeCapability.AccessMode.Mode.MULTI_NODE_MULTI_WRITER)))
                .putVolumeContext("server", "nfs.example.com")
                .putVolumeContext("share", "/exports");
    }

    static Stream<Arguments> invalidPublishRequests() {
        return Stream.of(
                Arguments.of("no volume_id", (UnaryOperator<Csi.NodePublishVolumeRequest.Builder>) b -> b.clearVolumeId()),
                Arguments.of("no target_path", (UnaryOperator<Csi.NodePublishVolumeRequest.Builder>) b -> b.clearTargetPath()),
                Arguments.of("relative target_path", (UnaryOperator<Csi.NodePublishVolumeRequest.Builder>) b -> b.setTargetPath("pods/x")),
                Arguments.of("target_path with ..", (UnaryOperator<Csi.NodePublishVolumeRequest.Builder>) b -> b.setTargetPath("/var/lib/kubelet/../../etc")),
                Arguments.of("no volume_capability", (UnaryOperator<Csi.NodePublishVolumeRequest.Builder>) b -> b.clearVolumeCapability()),
                Arguments.of("block access", (UnaryOperator<Csi.NodePublishVolumeRequest.Builder>) b -> b.setVolumeCapability(
                        b.getVolumeCapability().toBuilder().setBlock(Csi.VolumeCapability.BlockVolume.getDefaultInstance()))),
                Arguments.of("no access type", (UnaryOperator<Csi.NodePublishVolumeRequest.Builder>) b -> b.setVolumeCapability(
                        b.getVolumeCapability().toBuilder().clearMount())),
                Arguments.of("no access mode", (UnaryOperator<Csi.NodePublishVolumeRequest.Builder>) b -> b.setVolumeCapability(
                        b.getVolumeCapability().toBuilder().clearAccessMode())),
                Arguments.of("no server", (UnaryOperator<Csi.NodePublishVolumeRequest.Builder>) b -> b.removeVolumeContext("server")),
                Arguments.of("no share", (UnaryOperator<Csi.NodePublishVolumeRequest.Builder>) b -> b.removeVolumeContext("share")),
                Arguments.of("relative share", (UnaryOperator<Csi.NodePublishVolumeRequest.Builder>) b -> b.putVolumeContext("share", "exports")),
                Arguments.of("subDir escaping", (UnaryOperator<Csi.NodePublishVolumeRequest.Builder>) b -> b.putVolumeContext("subDir", "a/../../etc")),
                Arguments.of("unknown key", (UnaryOperator<Csi.NodePublishVolumeRequest.Builder>) b -> b.putVolumeContext("sever", "typo")),
                Arguments.of("bad mountPermissions", (UnaryOperator<Csi.NodePublishVolumeRequest.Builder>) b -> b.putVolumeContext("mountPermissions", "rwx")),
                Arguments.of("option with newline", (UnaryOperator<Csi.NodePublishVolumeRequest.Builder>) b -> b.putVolumeContext("mountOptions", "vers=3\nfoo")),
                Arguments.of("option with NUL", (UnaryOperator<Csi.NodePublishVolumeRequest.Builder>) b -> b.setVolumeCapability(
                        b.getVolumeCapability().toBuilder().setMount(Csi.VolumeCapability.MountVolume.newBuilder().addMountFlags("ro\0x")))),
                Arguments.of("malformed option", (UnaryOperator<Csi.NodePublishVolumeRequest.Builder>) b -> b.setVolumeCapability(
                        b.getVolumeCapability().toBuilder().setMount(Csi.VolumeCapability.MountVolume.newBuilder().addMountFlags("=3")))));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("invalidPublishRequests")
    void publish_invalidRequest_isInvalidArgument_andMountsNothing(String why,
                                                                  UnaryOperator<Csi.NodePublishVolumeRequest.Builder> breakIt) {
        assertCode(Status.Code.INVALID_ARGUMENT, () -> node.nodePublishVolume(breakIt.apply(valid(target)).build()));
        assertThat(mounter.mountCalls).isEmpty();
        assertThat(target).doesNotExist();
    }

    @Test
    void publish_errorMessage_namesTheField() {
        Status s = assertCode(Status.Code.INVALID_ARGUMENT,
                () -> node.nodePublishVolume(valid(target).putVolumeContext("Sever", "x").build()));
        assertThat(s.getDescription()).contains("Sever");
        s = assertCode(Status.Code.INVALID_ARGUMENT, () -> node.nodePublishVolume(valid(target).clearTargetPath().build()));
        assertThat(s.getDescription()).contains("target_path");
    }

    @Test
    void publish_valid_createsTargetAndMountsMergedOptions() {
        node.nodePublishVolume(valid(target)
                .setVolumeCapability(valid(target).getVolumeCapability().toBuilder()
                        .setMount(Csi.VolumeCapability.MountVolume.newBuilder().addMountFlags("nfsvers=4.1,hard")))
                .putVolumeContext("MountOptions", "hard,timeo=600")
                .putVolumeContext("SUBDIR", "team/a")
                .putVolumeContext("csi.storage.k8s.io/pod.name", "web-0")
                .setReadonly(true).build());
        assertThat(target).isDirectory();
        assertThat(mounter.mountCalls).containsExactly(List.of("nfs.example.com:/exports/team/a", target.toString(),
                "nfs", "nfsvers=4.1,hard,timeo=600,ro"));
    }

    @Test
    void publish_ipv6Server_isBracketed() {
        node.nodePublishVolume(valid(target).putVolumeContext("server", "fd00::12").build());
        assertThat(mounter.mountCalls.getFirst().getFirst()).isEqualTo("[fd00::12]:/exports");
    }

    @Test
    void publish_alreadyMountedSameSource_isIdempotent() {
        node.nodePublishVolume(valid(target).build());
        node.nodePublishVolume(valid(target).build());
        assertThat(mounter.mountCalls).hasSize(1);
        assertThat(mounter.table().countAt(target)).isEqualTo(1);
    }

    @Test
    void publish_alreadyMountedSameExportUnderAnotherServerName_isIdempotent() throws Exception {
        // NFSv4 client trunking: the kernel names the mount after the server's first mount, e.g. its IP
        Files.createDirectory(target);
        mounter.mount("10.0.0.5:/exports", target, "nfs", List.of(), null);
        node.nodePublishVolume(valid(target).build());
        assertThat(mounter.mountCalls).hasSize(1);
    }

    @Test
    void publish_alreadyMountedOtherSourceOrReadOnlyState_isAlreadyExists() {
        node.nodePublishVolume(valid(target).build());
        assertCode(Status.Code.ALREADY_EXISTS,
                () -> node.nodePublishVolume(valid(target).putVolumeContext("share", "/other").build()));
        assertCode(Status.Code.ALREADY_EXISTS, () -> node.nodePublishVolume(valid(target).setReadonly(true).build()));
        assertThat(mounter.mountCalls).hasSize(1);
    }

    @Test
    void publish_missingParentOfTarget_isFailedPrecondition() {
        Path orphan = dir.resolve("no/such/parent/mount");
        assertCode(Status.Code.FAILED_PRECONDITION, () -> node.nodePublishVolume(valid(orphan).build()));
    }

    @Test
    void publish_targetIsAFile_isFailedPrecondition() throws Exception {
        Files.writeString(target, "x");
        assertCode(Status.Code.FAILED_PRECONDITION, () -> node.nodePublishVolume(valid(target).build()));
    }

    @ParameterizedTest
    @EnumSource(MountException.Kind.class)
    void publish_mountFailure_isMappedOnce_andLeavesNoTarget(MountException.Kind kind) {
        mounter.failWith = kind;
        Status.Code expected = switch (kind) {
            case TIMED_OUT, UNREACHABLE -> Status.Code.UNAVAILABLE; // the caller's deadline had time left
            case ACCESS_DENIED -> Status.Code.PERMISSION_DENIED;
            case NO_SUCH_PATH -> Status.Code.NOT_FOUND;
            case BAD_OPTION -> Status.Code.INVALID_ARGUMENT;
            case STALE, READ_ONLY -> Status.Code.FAILED_PRECONDITION;
            case NO_SPACE, BUSY -> Status.Code.RESOURCE_EXHAUSTED;
            case FAILED -> Status.Code.INTERNAL;
        };
        assertCode(expected, () -> node.nodePublishVolume(valid(target).build()));
        assertThat(target).doesNotExist();
    }

    @Test
    void publish_concurrentForSameVolumeAndTarget_isAborted() throws Exception {
        mounter.mountGate = new CountDownLatch(1);
        CompletableFuture<Csi.NodePublishVolumeResponse> first =
                CompletableFuture.supplyAsync(() -> node.nodePublishVolume(valid(target).build()));
        assertThat(mounter.mountEntered.await(10, TimeUnit.SECONDS)).isTrue();
        assertCode(Status.Code.ABORTED, () -> node.nodePublishVolume(valid(target).build()));
        assertCode(Status.Code.ABORTED, () -> node.nodeUnpublishVolume(Csi.NodeUnpublishVolumeRequest.newBuilder()
                .setVolumeId("vol-1").setTargetPath(target.toString()).build()));
        mounter.mountGate.countDown();
        first.get(10, TimeUnit.SECONDS);
        assertThat(mounter.table().isMountPoint(target)).isTrue();
    }

    @Test
    void unpublish_mounted_unmountsAndRemovesTarget() {
        node.nodePublishVolume(valid(target).build());
        node.nodeUnpublishVolume(unpublish(target));
        assertThat(mounter.table().isMountPoint(target)).isFalse();
        assertThat(target).doesNotExist();
        assertThat(target.getParent()).isDirectory();
    }

    @Test
    void unpublish_absentOrUnmountedTarget_isOk() throws Exception {
        node.nodeUnpublishVolume(unpublish(target));
        Files.createDirectory(target);
        node.nodeUnpublishVolume(unpublish(target));
        assertThat(target).doesNotExist();
    }

    @Test
    void unpublish_nonEmptyUnmountedTarget_isLeftInPlace() throws Exception {
        Files.createDirectory(target);
        Files.writeString(target.resolve("data"), "keep me");
        assertCode(Status.Code.FAILED_PRECONDITION, () -> node.nodeUnpublishVolume(unpublish(target)));
        assertThat(target.resolve("data")).hasContent("keep me");
    }

    @Test
    void unpublish_missingFields_isInvalidArgument() {
        assertCode(Status.Code.INVALID_ARGUMENT, () -> node.nodeUnpublishVolume(
                Csi.NodeUnpublishVolumeRequest.newBuilder().setTargetPath(target.toString()).build()));
        assertCode(Status.Code.INVALID_ARGUMENT, () -> node.nodeUnpublishVolume(
                Csi.NodeUnpublishVolumeRequest.newBuilder().setVolumeId("v").build()));
    }

    @Test
    void stats_missingFields_isInvalidArgument() {
        assertCode(Status.Code.INVALID_ARGUMENT, () -> node.nodeGetVolumeStats(
                Csi.NodeGetVolumeStatsRequest.newBuilder().setVolumePath(target.toString()).build()));
        assertCode(Status.Code.INVALID_ARGUMENT, () -> node.nodeGetVolumeStats(
                Csi.NodeGetVolumeStatsRequest.newBuilder().setVolumeId("v").build()));
    }

    @Test
    void stats_absentPath_isNotFound() {
        assertCode(Status.Code.NOT_FOUND, () -> node.nodeGetVolumeStats(stats(target)));
    }

    @Test
    void stats_directoryThatIsNotAMount_isAbnormalWithoutUsage() throws Exception {
        Files.createDirectory(target);
        var reply = node.nodeGetVolumeStats(stats(target));
        assertThat(reply.getVolumeCondition().getAbnormal()).isTrue();
        assertThat(reply.getUsageList()).isEmpty();
    }

    @Test
    void stats_mounted_reportsBytesAndInodes() {
        node.nodePublishVolume(valid(target).build());
        var reply = node.nodeGetVolumeStats(stats(target));
        assertThat(reply.getVolumeCondition().getAbnormal()).isFalse();
        assertThat(reply.getUsageList()).extracting(Csi.VolumeUsage::getUnit)
                .containsExactly(Csi.VolumeUsage.Unit.BYTES, Csi.VolumeUsage.Unit.INODES);
        assertThat(reply.getUsage(0).getTotal()).isPositive();
    }

    @Test
    void info_andCapabilities_areAdvertised() {
        assertThat(node.nodeGetInfo(Csi.NodeGetInfoRequest.getDefaultInstance()).getNodeId()).isEqualTo("node-1");
        assertThat(node.nodeGetCapabilities(Csi.NodeGetCapabilitiesRequest.getDefaultInstance()).getCapabilitiesList())
                .extracting(c -> c.getRpc().getType())
                .containsExactlyInAnyOrder(Csi.NodeServiceCapability.RPC.Type.GET_VOLUME_STATS,
                        Csi.NodeServiceCapability.RPC.Type.SINGLE_NODE_MULTI_WRITER,
                        Csi.NodeServiceCapability.RPC.Type.VOLUME_CONDITION);
    }

    @Test
    void stageAndExpand_areUnimplemented() {
        assertCode(Status.Code.UNIMPLEMENTED, () -> node.nodeStageVolume(Csi.NodeStageVolumeRequest.getDefaultInstance()));
        assertCode(Status.Code.UNIMPLEMENTED,
                () -> node.nodeUnstageVolume(Csi.NodeUnstageVolumeRequest.getDefaultInstance()));
        assertCode(Status.Code.UNIMPLEMENTED,
                () -> node.nodeExpandVolume(Csi.NodeExpandVolumeRequest.getDefaultInstance()));
    }

    private static Csi.NodeUnpublishVolumeRequest unpublish(Path target) {
        return Csi.NodeUnpublishVolumeRequest.newBuilder().setVolumeId("vol-1").setTargetPath(target.toString())
                .build();
    }

    private static Csi.NodeGetVolumeStatsRequest stats(Path target) {
        return Csi.NodeGetVolumeStatsRequest.newBuilder().setVolumeId("vol-1").setVolumePath(target.toString())
                .build();
    }

}
