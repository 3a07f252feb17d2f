package io.nfscsi.node;

import static io.nfscsi.testing.InProcessCsi.assertCode;
import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.Status;
import io.nfscsi.csi.v1.Csi;
import io.nfscsi.csi.v1.NodeGrpc;
import io.nfscsi.concurrent.Deadline;
import io.nfscsi.csi.v1.Csi.VolumeCapability.AccessMode.Mode;
import io.nfscsi.concurrent.BoundedIo;
import io.nfscsi.mount.MountException;
import io.nfscsi.mount.MountTable;
import io.nfscsi.mount.Mounter;
import io.nfscsi.mount.Posix;
import io.nfscsi.posix.FsStats;
import io.nfscsi.testing.FakeMounter;
import io.nfscsi.testing.InProcessCsi;
import io.nfscsi.testing.MutableClock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
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
    /** What the service mounts with: {@link #mounter}, plus stats that can be made stale or hung per path. */
    ProbedMounter probed;
    Path stateDir;
    InProcessCsi csi;
    NodeGrpc.NodeBlockingStub node;
    Path target;
    Path target2;
    final MutableClock clock = new MutableClock(Instant.parse("2026-01-01T00:00:00Z"));

    @BeforeEach
    void start() throws Exception {
        mounter = new FakeMounter();
        probed = new ProbedMounter(mounter);
        stateDir = dir.resolve("plugin/node-state");
        startDriver();
        target = dir.resolve("pods/uid/volumes/kubernetes.io~csi/pv/mount");
        target2 = dir.resolve("pods/uid2/volumes/kubernetes.io~csi/pv/mount");
        Files.createDirectories(target.getParent());
        Files.createDirectories(target2.getParent());
    }

    /** A new driver process, as after a restart: same node (mount table), same state directory. */
    void startDriver() throws Exception {
        startDriver(Duration.ofSeconds(2));
    }

    void startDriver(Duration statsTimeout) throws Exception {
        startDriver(statsTimeout, Duration.ofMinutes(1));
    }

    void startDriver(Duration statsTimeout, Duration statsCacheTtl) throws Exception {
        csi = new InProcessCsi(new NodeService("node-1", probed, new BoundedIo(8), stateDir, Duration.ofSeconds(5),
                statsTimeout, statsCacheTtl, clock));
        node = NodeGrpc.newBlockingStub(csi.channel()).withDeadlineAfter(30, TimeUnit.SECONDS);
    }

    void restartDriver() throws Exception {
        csi.close();
        startDriver();
    }

    @AfterEach
    void stop() {
        probed.release();
        csi.close();
    }

    /** Delegates to a {@link FakeMounter}; {@link #statfs} fails or blocks for the paths a test names. */
    static final class ProbedMounter implements Mounter {
        final FakeMounter fake;
        final Map<Path, MountException.Kind> failing = new ConcurrentHashMap<>();
        final CountDownLatch hang = new CountDownLatch(1);
        final Set<Path> hanging = ConcurrentHashMap.newKeySet();

        ProbedMounter(FakeMounter fake) {
            this.fake = fake;
        }

        @Override
        public void mount(String source, Path target, String fsType, List<String> options, Deadline deadline)
                throws MountException {
            fake.mount(source, target, fsType, options, deadline);
            failing.remove(target); // a fresh mount answers again
        }

        /** When set, every unmount fails so: TIMED_OUT as CommandMounter's forced unmount and detach both hung. */
        volatile MountException.Kind unmountFailWith;

        @Override
        public void unmount(Path target, Deadline deadline) throws MountException {
            MountException.Kind kind = unmountFailWith;
            if (kind != null) {
                throw new MountException(kind, "fake " + kind + " unmounting " + target);
            }
            fake.unmount(target, deadline);
        }

        @Override
        public MountTable table() {
            return fake.table();
        }

        /** How many usage reads (statfs) and live checks reached the "server". */
        final AtomicInteger statfsCalls = new AtomicInteger();
        final AtomicInteger liveChecks = new AtomicInteger();

        @Override
        public FsStats statfs(Path path) throws MountException {
            statfsCalls.incrementAndGet();
            serve(path);
            return Posix.statvfs(path);
        }

        /** The fake mount's ID where the fake table has one (the real one is the temporary directory's). */
        @Override
        public long liveMountId(Path path) throws MountException {
            liveChecks.incrementAndGet();
            serve(path);
            long real = Posix.liveMountId(path);
            return fake.table().at(path).map(e -> (long) e.mountId()).orElse(real);
        }

        /**
         * As the server would answer a call on {@code path}: blocks while it hangs (as the kernel does, deaf to
         * interrupts) until {@link #release}, fails as told.
         */
        private void serve(Path path) throws MountException {
            if (hanging.contains(path)) {
                boolean interrupted = false;
                while (true) {
                    try {
                        hang.await(10, TimeUnit.SECONDS);
                        break;
                    } catch (InterruptedException e) {
                        interrupted = true;
                    }
                }
                if (interrupted) {
                    Thread.currentThread().interrupt();
                }
            }
            MountException.Kind kind = failing.get(path);
            if (kind != null) {
                throw new MountException(kind, "fake " + kind + " at " + path);
            }
        }

        void release() {
            hang.countDown();
        }
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

    /**
     * An unmount that did not return in time (the mounter's forced unmount and lazy detach both timed out, the
     * caller's deadline not yet out) is UNAVAILABLE; one that found every slot for file-system calls held is
     * RESOURCE_EXHAUSTED. The mount and its record stay, and the retry unpublishes.
     */
    @ParameterizedTest
    @EnumSource(value = MountException.Kind.class, names = {"TIMED_OUT", "BUSY"})
    void unpublish_unmountHungOrNoSlot_isUnavailableOrResourceExhausted_andTheRetryUnpublishes(
            MountException.Kind kind) {
        node.nodePublishVolume(valid(target).build());
        probed.unmountFailWith = kind;
        assertCode(kind == MountException.Kind.TIMED_OUT ? Status.Code.UNAVAILABLE : Status.Code.RESOURCE_EXHAUSTED,
                () -> node.nodeUnpublishVolume(unpublish(target)));
        assertThat(mounter.table().isMountPoint(target)).isTrue();
        probed.unmountFailWith = null;
        node.nodeUnpublishVolume(unpublish(target));
        assertThat(mounter.table().isMountPoint(target)).isFalse();
        assertThat(target).doesNotExist();
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
    void stats_directoryThatIsNotAMount_isNotFound() throws Exception {
        Files.createDirectory(target);
        assertCode(Status.Code.NOT_FOUND, () -> node.nodeGetVolumeStats(stats(target)));
    }

    @ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(strings = {"some/path", "relative", "/a/../b", "/a/./b"})
    void stats_pathNotAbsoluteOrWithDots_isNotFound(String path) {
        // csi-sanity: "should fail when volume does not exist on the specified path" sends "some/path"
        node.nodePublishVolume(valid(target).build());
        assertCode(Status.Code.NOT_FOUND, () -> node.nodeGetVolumeStats(Csi.NodeGetVolumeStatsRequest.newBuilder()
                .setVolumeId("vol-1").setVolumePath(path).build()));
    }

    @Test
    void stats_missingVolumeIdWithRelativePath_isInvalidArgument() {
        // a missing field is checked first, whatever the path
        assertCode(Status.Code.INVALID_ARGUMENT, () -> node.nodeGetVolumeStats(
                Csi.NodeGetVolumeStatsRequest.newBuilder().setVolumePath("some/path").build()));
    }

    @Test
    void stats_pathWhereAnotherVolumeIsPublished_isNotFound() {
        node.nodePublishVolume(valid(target).setVolumeId("other").build());
        assertCode(Status.Code.NOT_FOUND, () -> node.nodeGetVolumeStats(stats(target)));
        assertThat(node.nodeGetVolumeStats(Csi.NodeGetVolumeStatsRequest.newBuilder().setVolumeId("other")
                .setVolumePath(target.toString()).build()).getUsageCount()).isEqualTo(2);
    }

    @Test
    void stats_parentOfThePublishedTarget_isNotFound() {
        node.nodePublishVolume(valid(target).build());
        assertCode(Status.Code.NOT_FOUND, () -> node.nodeGetVolumeStats(stats(target.getParent())));
    }

    @Test
    void stats_afterARestart_stillKnowsThePublishedTarget() throws Exception {
        node.nodePublishVolume(valid(target).build());
        restartDriver();
        var reply = node.nodeGetVolumeStats(stats(target));
        assertThat(reply.getVolumeCondition().getAbnormal()).isFalse();
        assertThat(reply.getUsageCount()).isEqualTo(2);
    }

    @Test
    void stats_nfsMountWithoutARecord_isReported() throws Exception {
        // a target published before this driver kept records: the mount table vouches for it
        Files.createDirectory(target);
        mounter.mount("10.0.0.5:/exports", target, "nfs", List.of(), null);
        assertThat(node.nodeGetVolumeStats(stats(target)).getUsageCount()).isEqualTo(2);
    }

    @Test
    void stats_recordedTargetUnmountedBehindTheDriver_isNotFound() {
        node.nodePublishVolume(valid(target).build());
        mounter.unmount(target, null);
        assertCode(Status.Code.NOT_FOUND, () -> node.nodeGetVolumeStats(stats(target)));
    }

    // ---- access modes across target paths (spec: NodePublishVolume, the second table) ----

    static Csi.NodePublishVolumeRequest.Builder valid(Path target, Mode mode) {
        Csi.NodePublishVolumeRequest.Builder b = valid(target);
        return b.setVolumeCapability(b.getVolumeCapability().toBuilder()
                .setAccessMode(Csi.VolumeCapability.AccessMode.newBuilder().setMode(mode)));
    }

    @ParameterizedTest
    @EnumSource(value = Mode.class, names = {"SINGLE_NODE_WRITER", "SINGLE_NODE_SINGLE_WRITER",
            "SINGLE_NODE_READER_ONLY"})
    void publish_exclusiveModeAtASecondTarget_isFailedPrecondition_namingTheFirst_andLeavesNothing(Mode mode) {
        boolean ro = mode == Mode.SINGLE_NODE_READER_ONLY;
        node.nodePublishVolume(valid(target, mode).setReadonly(ro).build());
        Status s = assertCode(Status.Code.FAILED_PRECONDITION,
                () -> node.nodePublishVolume(valid(target2, mode).setReadonly(ro).build()));
        assertThat(s.getDescription()).contains(target.toString());
        assertThat(target2).doesNotExist();
        assertThat(mounter.table().isMountPoint(target2)).isFalse();
        assertThat(mounter.mountCalls).hasSize(1);
    }

    @Test
    void publish_exclusiveModeWhereAMultiWriterPublicationExists_isFailedPrecondition() {
        node.nodePublishVolume(valid(target, Mode.SINGLE_NODE_MULTI_WRITER).build());
        assertCode(Status.Code.FAILED_PRECONDITION,
                () -> node.nodePublishVolume(valid(target2, Mode.SINGLE_NODE_SINGLE_WRITER).build()));
        assertThat(target2).doesNotExist();
    }

    @Test
    void publish_secondTargetOfAnExclusivePublication_evenWithAMultiMode_isFailedPrecondition() {
        node.nodePublishVolume(valid(target, Mode.SINGLE_NODE_SINGLE_WRITER).build());
        assertCode(Status.Code.FAILED_PRECONDITION,
                () -> node.nodePublishVolume(valid(target2, Mode.MULTI_NODE_MULTI_WRITER).build()));
    }

    @ParameterizedTest
    @EnumSource(value = Mode.class, names = {"SINGLE_NODE_MULTI_WRITER", "MULTI_NODE_READER_ONLY",
            "MULTI_NODE_SINGLE_WRITER", "MULTI_NODE_MULTI_WRITER"})
    void publish_multiTargetModes_atManyTargets_isOk(Mode mode) throws Exception {
        boolean ro = mode == Mode.MULTI_NODE_READER_ONLY;
        Path target3 = dir.resolve("pods/uid3/volumes/kubernetes.io~csi/pv/mount");
        Files.createDirectories(target3.getParent());
        node.nodePublishVolume(valid(target, mode).setReadonly(ro).build());
        node.nodePublishVolume(valid(target2, mode).setReadonly(ro).build());
        node.nodePublishVolume(valid(target3, mode).setReadonly(true).build());
        assertThat(mounter.table().isMountPoint(target2)).isTrue();
        assertThat(mounter.table().isMountPoint(target3)).isTrue();
    }

    @Test
    void publish_exclusiveModeSameTargetSameArguments_isIdempotent() {
        node.nodePublishVolume(valid(target, Mode.SINGLE_NODE_SINGLE_WRITER).build());
        node.nodePublishVolume(valid(target, Mode.SINGLE_NODE_SINGLE_WRITER).build());
        assertThat(mounter.mountCalls).hasSize(1);
    }

    @Test
    void publish_sameTargetOtherAccessMode_isAlreadyExists() {
        node.nodePublishVolume(valid(target, Mode.SINGLE_NODE_SINGLE_WRITER).build());
        assertCode(Status.Code.ALREADY_EXISTS,
                () -> node.nodePublishVolume(valid(target, Mode.SINGLE_NODE_MULTI_WRITER).build()));
        assertThat(mounter.mountCalls).hasSize(1);
    }

    @Test
    void publish_sameTargetHeldByAnotherVolumeOfTheSameExport_isAlreadyExists() {
        node.nodePublishVolume(valid(target).setVolumeId("other").build());
        assertCode(Status.Code.ALREADY_EXISTS, () -> node.nodePublishVolume(valid(target).build()));
    }

    @Test
    void publish_exclusiveModeAtASecondTarget_afterUnpublishingTheFirst_isOk() {
        node.nodePublishVolume(valid(target, Mode.SINGLE_NODE_WRITER).build());
        node.nodeUnpublishVolume(unpublish(target));
        node.nodePublishVolume(valid(target2, Mode.SINGLE_NODE_WRITER).build());
        assertThat(mounter.table().isMountPoint(target2)).isTrue();
    }

    @Test
    void publish_exclusiveModeAtASecondTarget_afterADriverRestart_isFailedPrecondition() throws Exception {
        node.nodePublishVolume(valid(target, Mode.SINGLE_NODE_WRITER).build());
        restartDriver();
        Status s = assertCode(Status.Code.FAILED_PRECONDITION,
                () -> node.nodePublishVolume(valid(target2, Mode.SINGLE_NODE_WRITER).build()));
        assertThat(s.getDescription()).contains(target.toString());
        assertThat(target2).doesNotExist();
        node.nodePublishVolume(valid(target, Mode.SINGLE_NODE_WRITER).build()); // and the first stays idempotent
        assertThat(mounter.mountCalls).hasSize(1);
    }

    @Test
    void restart_forgetsTargetsNoLongerMounted() throws Exception {
        node.nodePublishVolume(valid(target, Mode.SINGLE_NODE_WRITER).build());
        assertThat(stateDir).isDirectoryContaining(f -> f.getFileName().toString().endsWith(".properties"));
        mounter.unmount(target, null); // e.g. the node rebooted
        restartDriver();
        assertThat(stateDir).isEmptyDirectory();
        node.nodePublishVolume(valid(target2, Mode.SINGLE_NODE_WRITER).build());
        assertThat(mounter.table().isMountPoint(target2)).isTrue();
    }

    @Test
    void publish_forgetsAnExclusiveTargetUnmountedBehindTheDriver() {
        node.nodePublishVolume(valid(target, Mode.SINGLE_NODE_WRITER).build());
        mounter.unmount(target, null);
        node.nodePublishVolume(valid(target2, Mode.SINGLE_NODE_WRITER).build());
        assertThat(mounter.table().isMountPoint(target2)).isTrue();
    }

    @Test
    void restart_skipsAMalformedRecord() throws Exception {
        node.nodePublishVolume(valid(target, Mode.SINGLE_NODE_WRITER).build());
        Files.writeString(stateDir.resolve(PublishedTargets.fileName("garbage")), "volume_id=garbage\n"
                + "publication.0.target=relative\n");
        Files.writeString(stateDir.resolve(".half-written.properties.tmp"), "volume_id=");
        restartDriver();
        assertThat(stateDir.resolve(".half-written.properties.tmp")).doesNotExist();
        assertCode(Status.Code.FAILED_PRECONDITION,
                () -> node.nodePublishVolume(valid(target2, Mode.SINGLE_NODE_WRITER).build()));
    }

    @Test
    void publish_recordCannotBeWritten_isInternal_andMountsNothing() throws Exception {
        Files.createDirectories(stateDir.getParent());
        Files.writeString(stateDir, "not a directory");
        restartDriver();
        assertCode(Status.Code.INTERNAL, () -> node.nodePublishVolume(valid(target).build()));
        assertThat(mounter.mountCalls).isEmpty();
        assertThat(target).doesNotExist();
    }

    @Test
    void publish_mountFailure_forgetsTheTarget() {
        mounter.failWith = MountException.Kind.FAILED;
        assertCode(Status.Code.INTERNAL, () -> node.nodePublishVolume(valid(target, Mode.SINGLE_NODE_WRITER).build()));
        mounter.failWith = null;
        node.nodePublishVolume(valid(target2, Mode.SINGLE_NODE_WRITER).build());
        assertThat(stateDir).isDirectoryContaining(f -> f.getFileName().toString().endsWith(".properties"));
    }

    @Test
    void publish_concurrentForSameVolumeAtAnotherTarget_isAborted() throws Exception {
        mounter.mountGate = new CountDownLatch(1);
        CompletableFuture<Csi.NodePublishVolumeResponse> first =
                CompletableFuture.supplyAsync(() -> node.nodePublishVolume(valid(target).build()));
        assertThat(mounter.mountEntered.await(10, TimeUnit.SECONDS)).isTrue();
        assertCode(Status.Code.ABORTED, () -> node.nodePublishVolume(valid(target2).build()));
        mounter.mountGate.countDown();
        first.get(10, TimeUnit.SECONDS);
    }

    // ---- a stale target is repaired ----

    @Test
    void publish_staleTargetOfThisVolume_isUnmountedAndMountedAgain() {
        node.nodePublishVolume(valid(target).build());
        probed.failing.put(target, MountException.Kind.STALE);
        node.nodePublishVolume(valid(target).build());
        assertThat(mounter.mountCalls).hasSize(2);
        assertThat(mounter.table().countAt(target)).isEqualTo(1);
        assertThat(node.nodeGetVolumeStats(stats(target)).getVolumeCondition().getAbnormal()).isFalse();
    }

    @Test
    void publish_staleTarget_whoseRemountFails_isAnError_andLeavesNoTarget() {
        node.nodePublishVolume(valid(target, Mode.SINGLE_NODE_WRITER).build());
        probed.failing.put(target, MountException.Kind.STALE);
        mounter.failWith = MountException.Kind.ACCESS_DENIED;
        assertCode(Status.Code.PERMISSION_DENIED, () -> node.nodePublishVolume(valid(target, Mode.SINGLE_NODE_WRITER)
                .build()));
        assertThat(mounter.table().isMountPoint(target)).isFalse();
        assertThat(target).doesNotExist();
        mounter.failWith = null;
        node.nodePublishVolume(valid(target2, Mode.SINGLE_NODE_WRITER).build()); // the first is forgotten
    }

    @Test
    void publish_hungTarget_isNotStale_andAnswersOkWithinTheStatsTimeout() throws Exception {
        csi.close();
        startDriver(Duration.ofMillis(200));
        node.nodePublishVolume(valid(target).build());
        probed.hanging.add(target);
        long start = System.nanoTime();
        node.nodePublishVolume(valid(target).build());
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(5));
        assertThat(mounter.mountCalls).hasSize(1);
        assertThat(mounter.table().countAt(target)).isEqualTo(1);
    }

    @ParameterizedTest
    @EnumSource(value = MountException.Kind.class, names = {"ACCESS_DENIED", "FAILED", "NO_SUCH_PATH"})
    void publish_targetWhoseStatFailsOtherwise_isLeftMounted(MountException.Kind kind) {
        node.nodePublishVolume(valid(target).build());
        probed.failing.put(target, kind);
        node.nodePublishVolume(valid(target).build());
        assertThat(mounter.mountCalls).hasSize(1);
    }

    // ---- NodeUnpublishVolume edge cases ----

    @Test
    void unpublish_targetWhereAnotherVolumeIsPublished_isNotFound_andLeavesItMounted() {
        node.nodePublishVolume(valid(target).setVolumeId("other").build());
        assertCode(Status.Code.NOT_FOUND, () -> node.nodeUnpublishVolume(unpublish(target)));
        assertThat(mounter.table().isMountPoint(target)).isTrue();
    }

    @Test
    void unpublish_twice_isOk() {
        node.nodePublishVolume(valid(target).build());
        node.nodeUnpublishVolume(unpublish(target));
        node.nodeUnpublishVolume(unpublish(target));
        assertThat(target).doesNotExist();
    }

    @Test
    void unpublish_ofAnUnrecordedMount_unmountsIt() throws Exception {
        // published before this driver kept records
        Files.createDirectory(target);
        mounter.mount("nfs.example.com:/exports", target, "nfs", List.of(), null);
        node.nodeUnpublishVolume(unpublish(target));
        assertThat(mounter.table().isMountPoint(target)).isFalse();
        assertThat(target).doesNotExist();
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

    // ---- the usage cache: usage kept for the TTL, the condition checked on every call ----

    @Test
    void stats_secondCallWithinTheTtl_servesKeptUsage_butChecksTheVolumeAgain() {
        node.nodePublishVolume(valid(target).build());
        var first = node.nodeGetVolumeStats(stats(target));
        var second = node.nodeGetVolumeStats(stats(target));
        assertThat(second.getUsageList()).isEqualTo(first.getUsageList());
        assertThat(probed.statfsCalls).hasValue(1);
        assertThat(probed.liveChecks).hasValue(2);
    }

    @Test
    void stats_afterTheTtl_readsUsageAgain() {
        node.nodePublishVolume(valid(target).build());
        node.nodeGetVolumeStats(stats(target));
        clock.advance(Duration.ofSeconds(59));
        node.nodeGetVolumeStats(stats(target));
        assertThat(probed.statfsCalls).hasValue(1);
        clock.advance(Duration.ofSeconds(1));
        node.nodeGetVolumeStats(stats(target));
        assertThat(probed.statfsCalls).hasValue(2);
    }

    @Test
    void stats_ttlZero_readsUsageOnEveryCall() throws Exception {
        csi.close();
        startDriver(Duration.ofSeconds(2), Duration.ZERO);
        node.nodePublishVolume(valid(target).build());
        for (int i = 0; i < 3; i++) {
            node.nodeGetVolumeStats(stats(target));
        }
        assertThat(probed.statfsCalls).hasValue(3);
    }

    @ParameterizedTest
    @EnumSource(value = MountException.Kind.class, names = {"STALE", "FAILED", "ACCESS_DENIED"})
    void stats_withKeptUsage_aVolumeThatFailsItsCheck_isAbnormalAtOnce_withoutUsage(MountException.Kind kind) {
        node.nodePublishVolume(valid(target).build());
        assertThat(node.nodeGetVolumeStats(stats(target)).getVolumeCondition().getAbnormal()).isFalse();
        probed.failing.put(target, kind);
        var reply = node.nodeGetVolumeStats(stats(target));
        assertThat(reply.getVolumeCondition().getAbnormal()).isTrue();
        assertThat(reply.getUsageList()).isEmpty();
        probed.failing.remove(target);
        assertThat(node.nodeGetVolumeStats(stats(target)).getVolumeCondition().getAbnormal()).isFalse();
        assertThat(probed.statfsCalls).as("the kept usage was dropped when the check failed").hasValue(2);
    }

    @Test
    void stats_withKeptUsage_aHungServer_isAbnormalAtTheDeadline_andAtOnceWhileStillBlocked() throws Exception {
        csi.close();
        startDriver(Duration.ofMillis(200));
        node.nodePublishVolume(valid(target).build());
        node.nodeGetVolumeStats(stats(target));
        probed.hanging.add(target);
        var atDeadline = node.nodeGetVolumeStats(stats(target));
        assertThat(atDeadline.getVolumeCondition().getAbnormal()).isTrue();
        assertThat(atDeadline.getUsageList()).isEmpty();
        int checks = probed.liveChecks.get();
        var whileBlocked = node.nodeGetVolumeStats(stats(target));
        assertThat(whileBlocked.getVolumeCondition().getAbnormal()).isTrue();
        assertThat(probed.liveChecks).as("no second call piles up behind the blocked one").hasValue(checks);
    }

    @Test
    void stats_afterUnpublishAndPublishAgain_readsUsageAgain() {
        node.nodePublishVolume(valid(target).build());
        node.nodeGetVolumeStats(stats(target));
        node.nodeUnpublishVolume(unpublish(target));
        node.nodePublishVolume(valid(target).build());
        node.nodeGetVolumeStats(stats(target));
        assertThat(probed.statfsCalls).hasValue(2);
    }

    @Test
    void stats_unmountedBehindTheDriver_withKeptUsage_isNotFound() {
        node.nodePublishVolume(valid(target).build());
        node.nodeGetVolumeStats(stats(target));
        mounter.unmount(target, null);
        assertCode(Status.Code.NOT_FOUND, () -> node.nodeGetVolumeStats(stats(target)));
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
