package io.nfscsi.controller;

import static io.nfscsi.testing.InProcessCsi.assertCode;
import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.Status;
import io.nfscsi.csi.v1.ControllerGrpc;
import io.nfscsi.csi.v1.Csi;
import io.nfscsi.concurrent.BoundedIo;
import io.nfscsi.mount.MountException;
import io.nfscsi.testing.FakeMounter;
import io.nfscsi.testing.InProcessCsi;
import io.nfscsi.testing.TestPools;
import io.nfscsi.volume.OnDelete;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Request handling of the controller, with an in-memory mount table: a "mounted share" is a local directory. The
 * same calls against a real NFS server are in {@code DynamicProvisioningTest}, in the test bed.
 */
class ControllerServiceTest {

    @TempDir
    Path work;
    FakeMounter mounter = new FakeMounter();
    Clock clock = Clock.fixed(Instant.parse("2026-11-25T23:15:00Z"), ZoneOffset.UTC);
    InProcessCsi csi;
    ControllerService service;
    ControllerGrpc.ControllerBlockingStub controller;

    ControllerGrpc.ControllerBlockingStub start(boolean perRequest) throws Exception {
        BoundedIo io = new BoundedIo(8);
        SharePool pool = new SharePool(work, mounter, io, clock, Duration.ofMinutes(5), perRequest,
                Duration.ofSeconds(10));
        Jobs jobs = new Jobs(clock, TestPools.shared());
        Provisioner provisioner = new Provisioner(pool, clock, OnDelete.DELETE, Duration.ofSeconds(5),
                TestPools.walkers(4), jobs);
        Snapshots snapshots = new Snapshots(pool, provisioner, jobs, clock, TestPools.compressing(2));
        provisioner.useSnapshots(snapshots);
        service = new ControllerService(provisioner, snapshots, OnDelete.DELETE, pool::closeIdle);
        csi = new InProcessCsi(service);
        controller = ControllerGrpc.newBlockingStub(csi.channel()).withDeadlineAfter(30, TimeUnit.SECONDS);
        return controller;
    }

    @AfterEach
    void stop() {
        if (csi != null) {
            csi.close();
        }
    }

    static Csi.VolumeCapability mount() {
        return Csi.VolumeCapability.newBuilder().setMount(Csi.VolumeCapability.MountVolume.getDefaultInstance())
                .setAccessMode(Csi.VolumeCapability.AccessMode.newBuilder()
                        .setMode(Csi.VolumeCapability.AccessMode.Mode.SINGLE_NODE_SINGLE_WRITER)).build();
    }

    static Csi.CreateVolumeRequest.Builder create(String name, String... params) {
        var b = Csi.CreateVolumeRequest.newBuilder().setName(name)
                .setCapacityRange(Csi.CapacityRange.newBuilder().setRequiredBytes(1 << 20))
                .addVolumeCapabilities(mount())
                .putParameters("server", "nfs.example.com").putParameters("share", "/exports")
                .putParameters("csi.storage.k8s.io/pv/name", name)
                .putParameters("csi.storage.k8s.io/pvc/name", "claim")
                .putParameters("csi.storage.k8s.io/pvc/namespace", "team");
        for (int i = 0; i < params.length; i += 2) {
            b.putParameters(params[i], params[i + 1]);
        }
        return b;
    }

    /** The local directory that plays the mounted share. */
    Path shareRoot() throws Exception {
        try (Stream<Path> dirs = Files.list(work)) {
            return dirs.filter(Files::isDirectory).findFirst().orElseThrow();
        }
    }

    static Stream<Arguments> invalidCreates() {
        return Stream.of(
                Arguments.of("no name", (UnaryOperator<Csi.CreateVolumeRequest.Builder>) b -> b.clearName()),
                Arguments.of("no capabilities", (UnaryOperator<Csi.CreateVolumeRequest.Builder>) b -> b.clearVolumeCapabilities()),
                Arguments.of("block", (UnaryOperator<Csi.CreateVolumeRequest.Builder>) b -> b.clearVolumeCapabilities()
                        .addVolumeCapabilities(mount().toBuilder().setBlock(Csi.VolumeCapability.BlockVolume.getDefaultInstance()))),
                Arguments.of("no access mode", (UnaryOperator<Csi.CreateVolumeRequest.Builder>) b -> b.clearVolumeCapabilities()
                        .addVolumeCapabilities(mount().toBuilder().clearAccessMode())),
                Arguments.of("negative capacity", (UnaryOperator<Csi.CreateVolumeRequest.Builder>) b -> b.setCapacityRange(
                        Csi.CapacityRange.newBuilder().setRequiredBytes(-1))),
                Arguments.of("limit below required", (UnaryOperator<Csi.CreateVolumeRequest.Builder>) b -> b.setCapacityRange(
                        Csi.CapacityRange.newBuilder().setRequiredBytes(10).setLimitBytes(5))),
                Arguments.of("unknown parameter", (UnaryOperator<Csi.CreateVolumeRequest.Builder>) b -> b.putParameters("sever", "x")),
                Arguments.of("no server", (UnaryOperator<Csi.CreateVolumeRequest.Builder>) b -> b.removeParameters("server")),
                Arguments.of("no share", (UnaryOperator<Csi.CreateVolumeRequest.Builder>) b -> b.removeParameters("share")),
                Arguments.of("unknown template", (UnaryOperator<Csi.CreateVolumeRequest.Builder>) b -> b.putParameters("subDir", "${pvc.metadata.uid}")),
                Arguments.of("escaping subDir", (UnaryOperator<Csi.CreateVolumeRequest.Builder>) b -> b.putParameters("subDir", "a/../../b")),
                Arguments.of("absolute subDir", (UnaryOperator<Csi.CreateVolumeRequest.Builder>) b -> b.putParameters("subDir", "/etc")),
                Arguments.of("bad onDelete", (UnaryOperator<Csi.CreateVolumeRequest.Builder>) b -> b.putParameters("onDelete", "shred")),
                Arguments.of("bad mountPermissions", (UnaryOperator<Csi.CreateVolumeRequest.Builder>) b -> b.putParameters("mountPermissions", "999")),
                Arguments.of("empty content source", (UnaryOperator<Csi.CreateVolumeRequest.Builder>) b -> b.setVolumeContentSource(
                        Csi.VolumeContentSource.getDefaultInstance())));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("invalidCreates")
    void create_invalidRequest_isInvalidArgument_andMountsNothing(String why,
                                                                 UnaryOperator<Csi.CreateVolumeRequest.Builder> breakIt)
            throws Exception {
        start(false);
        assertCode(Status.Code.INVALID_ARGUMENT, () -> controller.createVolume(breakIt.apply(create("pvc-1")).build()));
        assertThat(mounter.mountCalls).isEmpty();
    }

    @Test
    void create_makesDirectoryAndRecord_andReturnsIdCapacityContext() throws Exception {
        start(false);
        var v = controller.createVolume(create("pvc-1", "subDir", "${pvc.metadata.namespace}/${pvc.metadata.name}",
                "mountPermissions", "2775", "onDelete", "archive").build()).getVolume();
        Path dir = shareRoot().resolve("team/claim");
        assertThat(dir).isDirectory();
        assertThat(Integer.toOctalString((Integer) Files.getAttribute(dir, "unix:mode") & 07777)).isEqualTo("2775");
        assertThat(shareRoot().resolve(".nfs-csi/volumes/pvc-1.properties")).exists();
        assertThat(v.getVolumeId()).isEqualTo("nfs-csi:1#nfs.example.com#/exports#team/claim#pvc-1#archive");
        assertThat(v.getCapacityBytes()).isEqualTo(1 << 20);
        assertThat(v.getVolumeContextMap()).containsEntry("server", "nfs.example.com")
                .containsEntry("share", "/exports").containsEntry("subDir", "team/claim")
                .containsEntry("onDelete", "archive");
        assertThat(mounter.mountCalls).hasSize(1);
    }

    @Test
    void create_sameNameSameRequest_isIdempotent_otherCapacityOrParameters_areAlreadyExists() throws Exception {
        start(false);
        var first = controller.createVolume(create("pvc-1").build());
        assertThat(controller.createVolume(create("pvc-1").build())).isEqualTo(first);
        assertCode(Status.Code.ALREADY_EXISTS, () -> controller.createVolume(create("pvc-1")
                .setCapacityRange(Csi.CapacityRange.newBuilder().setRequiredBytes(2 << 20)).build()));
        assertCode(Status.Code.ALREADY_EXISTS, () -> controller.createVolume(create("pvc-1", "onDelete", "retain")
                .build()));
    }

    @Test
    void createAndDelete_twentyCycles_mountTheShareOnce() throws Exception {
        start(false);
        for (int i = 0; i < 20; i++) {
            var v = controller.createVolume(create("pvc-" + i).build()).getVolume();
            controller.deleteVolume(Csi.DeleteVolumeRequest.newBuilder().setVolumeId(v.getVolumeId()).build());
        }
        assertThat(mounter.mountCalls).hasSize(1);
    }

    @Test
    void createAndDelete_perRequestMode_mountsForEveryCall_andLeavesNothingMounted() throws Exception {
        start(true);
        for (int i = 0; i < 5; i++) {
            var v = controller.createVolume(create("pvc-" + i).build()).getVolume();
            controller.deleteVolume(Csi.DeleteVolumeRequest.newBuilder().setVolumeId(v.getVolumeId()).build());
        }
        assertThat(mounter.mountCalls.size()).isGreaterThanOrEqualTo(10);
        assertThat(mounter.mounted()).isZero();
    }

    @ParameterizedTest
    @ValueSource(strings = {"delete", "retain", "archive"})
    void delete_followsTheRecordedPolicy(String policy) throws Exception {
        start(false);
        var v = controller.createVolume(create("pvc-1", "subDir", "ns/data", "onDelete", policy).build()).getVolume();
        Path root = shareRoot();
        Files.writeString(root.resolve("ns/data/file"), "x");
        controller.deleteVolume(Csi.DeleteVolumeRequest.newBuilder().setVolumeId(v.getVolumeId()).build());
        assertThat(root.resolve(".nfs-csi/volumes/pvc-1.properties")).doesNotExist();
        switch (policy) {
            case "delete" -> assertThat(root.resolve("ns")).doesNotExist();
            case "retain" -> assertThat(root.resolve("ns/data/file")).hasContent("x");
            case "archive" -> {
                assertThat(root.resolve("ns/data")).doesNotExist();
                assertThat(root.resolve("archived-ns-data-20261125T231500Z/file")).hasContent("x");
            }
            default -> throw new IllegalStateException();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "garbage", "nfs-csi:1#h#/e#../x#n#delete", "nfs-csi:9#h#/e#x#n#delete", "h#e",
            "nfs-csi:1#h#/e##n#delete"})
    void malformedIds_deleteIsOk_othersAreNotFoundOrInvalid(String id) throws Exception {
        start(false);
        if (id.isEmpty()) {
            assertCode(Status.Code.INVALID_ARGUMENT, () -> controller.deleteVolume(
                    Csi.DeleteVolumeRequest.getDefaultInstance()));
            return;
        }
        controller.deleteVolume(Csi.DeleteVolumeRequest.newBuilder().setVolumeId(id).build());
        assertThat(mounter.mountCalls).isEmpty();
        assertCode(Status.Code.NOT_FOUND, () -> controller.controllerGetVolume(
                Csi.ControllerGetVolumeRequest.newBuilder().setVolumeId(id).build()));
        assertCode(Status.Code.NOT_FOUND, () -> controller.validateVolumeCapabilities(
                Csi.ValidateVolumeCapabilitiesRequest.newBuilder().setVolumeId(id).addVolumeCapabilities(mount())
                        .build()));
        assertCode(Status.Code.NOT_FOUND, () -> controller.controllerExpandVolume(
                Csi.ControllerExpandVolumeRequest.newBuilder().setVolumeId(id)
                        .setCapacityRange(Csi.CapacityRange.newBuilder().setRequiredBytes(1)).build()));
    }

    @Test
    void validate_confirmsMountModes_andRejectsBlock() throws Exception {
        start(false);
        var v = controller.createVolume(create("pvc-1").build()).getVolume();
        var ok = controller.validateVolumeCapabilities(Csi.ValidateVolumeCapabilitiesRequest.newBuilder()
                .setVolumeId(v.getVolumeId()).addVolumeCapabilities(mount()).build());
        assertThat(ok.getConfirmed().getVolumeCapabilitiesList()).containsExactly(mount());
        var block = controller.validateVolumeCapabilities(Csi.ValidateVolumeCapabilitiesRequest.newBuilder()
                .setVolumeId(v.getVolumeId()).addVolumeCapabilities(mount().toBuilder()
                        .setBlock(Csi.VolumeCapability.BlockVolume.getDefaultInstance())).build());
        assertThat(block.hasConfirmed()).isFalse();
        assertCode(Status.Code.INVALID_ARGUMENT, () -> controller.validateVolumeCapabilities(
                Csi.ValidateVolumeCapabilitiesRequest.newBuilder().setVolumeId(v.getVolumeId()).build()));
    }

    @Test
    void expand_recordsTheNewCapacity() throws Exception {
        start(false);
        var v = controller.createVolume(create("pvc-1").build()).getVolume();
        var r = controller.controllerExpandVolume(Csi.ControllerExpandVolumeRequest.newBuilder()
                .setVolumeId(v.getVolumeId()).setCapacityRange(Csi.CapacityRange.newBuilder().setRequiredBytes(8 << 20))
                .build());
        assertThat(r.getCapacityBytes()).isEqualTo(8 << 20);
        assertThat(r.getNodeExpansionRequired()).isFalse();
        assertThat(controller.controllerGetVolume(Csi.ControllerGetVolumeRequest.newBuilder()
                .setVolumeId(v.getVolumeId()).build()).getVolume().getCapacityBytes()).isEqualTo(8 << 20);
        assertCode(Status.Code.INVALID_ARGUMENT, () -> controller.controllerExpandVolume(
                Csi.ControllerExpandVolumeRequest.newBuilder().setVolumeId(v.getVolumeId()).build()));
    }

    static Csi.ControllerGetVolumeRequest get(String id) {
        return Csi.ControllerGetVolumeRequest.newBuilder().setVolumeId(id).build();
    }

    static Csi.DeleteVolumeRequest delete(String id) {
        return Csi.DeleteVolumeRequest.newBuilder().setVolumeId(id).build();
    }

    @Test
    void getVolume_missingDirectory_isNotFound() throws Exception {
        start(false);
        var v = controller.createVolume(create("pvc-1").build()).getVolume();
        Files.delete(shareRoot().resolve("pvc-1"));
        assertCode(Status.Code.NOT_FOUND, () -> controller.controllerGetVolume(get(v.getVolumeId())));
        assertCode(Status.Code.NOT_FOUND, () -> controller.validateVolumeCapabilities(
                Csi.ValidateVolumeCapabilitiesRequest.newBuilder().setVolumeId(v.getVolumeId())
                        .addVolumeCapabilities(mount()).build()));
    }

    @Test
    void getVolume_missingRecord_isNotFound() throws Exception {
        start(false);
        var v = controller.createVolume(create("pvc-1").build()).getVolume();
        Files.delete(shareRoot().resolve(".nfs-csi/volumes/pvc-1.properties"));
        assertThat(shareRoot().resolve("pvc-1")).isDirectory();
        assertCode(Status.Code.NOT_FOUND, () -> controller.controllerGetVolume(get(v.getVolumeId())));
        assertCode(Status.Code.NOT_FOUND, () -> controller.controllerExpandVolume(
                Csi.ControllerExpandVolumeRequest.newBuilder().setVolumeId(v.getVolumeId())
                        .setCapacityRange(Csi.CapacityRange.newBuilder().setRequiredBytes(1)).build()));
    }

    @Test
    void getVolume_afterDelete_isNotFound() throws Exception {
        start(false);
        var v = controller.createVolume(create("pvc-1").build()).getVolume();
        controller.deleteVolume(delete(v.getVolumeId()));
        assertCode(Status.Code.NOT_FOUND, () -> controller.controllerGetVolume(get(v.getVolumeId())));
    }

    @Test
    void getVolume_csiDriverNfsVolumeWithoutRecord_existsWhileItsDirectoryDoes() throws Exception {
        start(false);
        controller.createVolume(create("pvc-1").build());
        Files.createDirectories(shareRoot().resolve("pvc-legacy"));
        String legacy = "nfs.example.com#exports#pvc-legacy#pvc-legacy#retain";
        var got = controller.controllerGetVolume(get(legacy));
        assertThat(got.getStatus().getVolumeCondition().getAbnormal()).isFalse();
        assertThat(got.getVolume().getVolumeId()).isEqualTo(legacy);
        Files.delete(shareRoot().resolve("pvc-legacy"));
        assertCode(Status.Code.NOT_FOUND, () -> controller.controllerGetVolume(get(legacy)));
    }

    @Test
    void getVolume_directoryReplacedByAFileOrLink_isAbnormal() throws Exception {
        start(false);
        var v = controller.createVolume(create("pvc-1").build()).getVolume();
        Files.delete(shareRoot().resolve("pvc-1"));
        Files.createSymbolicLink(shareRoot().resolve("pvc-1"), Path.of("/"));
        var got = controller.controllerGetVolume(get(v.getVolumeId()));
        assertThat(got.getStatus().getVolumeCondition().getAbnormal()).isTrue();
        assertThat(got.getStatus().getVolumeCondition().getMessage()).contains("no longer a directory");
        Files.delete(shareRoot().resolve("pvc-1"));
    }

    // ---- two volumes never share a directory ----

    @Test
    void create_subDirOfAnotherVolume_isAlreadyExists_andLeavesItAlone() throws Exception {
        start(false);
        controller.createVolume(create("pvc-1", "subDir", "shared").build());
        Files.writeString(shareRoot().resolve("shared/data"), "pvc-1's");
        assertCode(Status.Code.ALREADY_EXISTS, () -> controller.createVolume(create("pvc-2", "subDir", "shared")
                .build()));
        assertThat(shareRoot().resolve(".nfs-csi/volumes/pvc-2.properties")).doesNotExist();
        assertThat(shareRoot().resolve("shared/data")).hasContent("pvc-1's");
        // and a template that resolves to it is refused the same way
        assertCode(Status.Code.ALREADY_EXISTS, () -> controller.createVolume(create("pvc-3", "subDir",
                "${pvc.metadata.name}").putParameters("csi.storage.k8s.io/pvc/name", "shared").build()));
    }

    @Test
    void create_existingDirectoryOfNoVolume_isAlreadyExists_andReleasesItsClaim() throws Exception {
        start(false);
        controller.createVolume(create("pvc-1").build());
        Files.createDirectories(shareRoot().resolve("stray"));
        Files.writeString(shareRoot().resolve("stray/data"), "someone's");
        assertCode(Status.Code.ALREADY_EXISTS, () -> controller.createVolume(create("pvc-2", "subDir", "stray")
                .build()));
        assertThat(shareRoot().resolve("stray/data")).hasContent("someone's");
        Files.delete(shareRoot().resolve("stray/data"));
        Files.delete(shareRoot().resolve("stray"));
        // the refused call left no claim behind: once the directory is gone, the volume can be made there
        controller.createVolume(create("pvc-2", "subDir", "stray").build());
        assertThat(shareRoot().resolve("stray")).isDirectory();
    }

    @Test
    void create_existingDirectoryNamedAfterTheVolume_isAdopted_asCsiDriverNfsMadeIt() throws Exception {
        start(false);
        controller.createVolume(create("pvc-1").build());
        Files.createDirectories(shareRoot().resolve("pvc-old"));
        Files.writeString(shareRoot().resolve("pvc-old/data"), "kept");
        var v = controller.createVolume(create("pvc-old").build()).getVolume();
        assertThat(shareRoot().resolve("pvc-old/data")).hasContent("kept");
        assertThat(shareRoot().resolve(".nfs-csi/volumes/pvc-old.properties")).exists();
        assertThat(controller.createVolume(create("pvc-old").build()).getVolume()).isEqualTo(v);
    }

    @Test
    void create_subDirOfAVolumeRecordedBeforeClaimsExisted_isAlreadyExists() throws Exception {
        start(false);
        controller.createVolume(create("pvc-1", "subDir", "old").build());
        // what a share provisioned by the previous version holds: records, no claims
        try (Stream<Path> claims = Files.walk(shareRoot().resolve(".nfs-csi/subdirs"))) {
            claims.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
        assertCode(Status.Code.ALREADY_EXISTS, () -> controller.createVolume(create("pvc-2", "subDir", "old")
                .build()));
    }

    @Test
    void create_afterDelete_theSubDirIsFreeAgain() throws Exception {
        start(false);
        var v = controller.createVolume(create("pvc-1", "subDir", "ns/claim").build()).getVolume();
        controller.deleteVolume(delete(v.getVolumeId()));
        controller.createVolume(create("pvc-2", "subDir", "ns/claim").build());
        assertThat(shareRoot().resolve("ns/claim")).isDirectory();
    }

    @Test
    void create_retainedDirectoryOfADeletedVolume_isNotReused() throws Exception {
        start(false);
        var v = controller.createVolume(create("pvc-1", "subDir", "ns/claim", "onDelete", "retain").build())
                .getVolume();
        Files.writeString(shareRoot().resolve("ns/claim/data"), "retained");
        controller.deleteVolume(delete(v.getVolumeId()));
        assertCode(Status.Code.ALREADY_EXISTS, () -> controller.createVolume(create("pvc-2", "subDir", "ns/claim")
                .build()));
        assertThat(shareRoot().resolve("ns/claim/data")).hasContent("retained");
    }

    @Test
    void delete_idNamingAnotherVolumesDirectory_deletesNothing() throws Exception {
        start(false);
        var v = controller.createVolume(create("pvc-1", "subDir", "data").build()).getVolume();
        Files.writeString(shareRoot().resolve("data/file"), "pvc-1's");
        String forged = "nfs-csi:1#nfs.example.com#/exports#data#pvc-other#delete";
        controller.deleteVolume(delete(forged));
        assertThat(shareRoot().resolve("data/file")).hasContent("pvc-1's");
        assertCode(Status.Code.NOT_FOUND, () -> controller.controllerGetVolume(get(forged)));
        assertThat(controller.controllerGetVolume(get(v.getVolumeId())).getStatus().getVolumeCondition()
                .getAbnormal()).isFalse();
    }

    @ParameterizedTest
    @ValueSource(strings = {"nfs-csi:1#nfs.example.com#/exports#.nfs-csi#pvc-1#delete",
            "nfs-csi:1#nfs.example.com#/exports#.nfs-csi/volumes#pvc-1#delete",
            "nfs.example.com#exports#.nfs-csi", "nfs.example.com/exports/.hidden"})
    void hiddenSubDirInAVolumeId_isInvalidArgument_forEveryCall(String id) throws Exception {
        start(false);
        assertCode(Status.Code.INVALID_ARGUMENT, () -> controller.deleteVolume(delete(id)));
        assertCode(Status.Code.INVALID_ARGUMENT, () -> controller.controllerGetVolume(get(id)));
        assertCode(Status.Code.INVALID_ARGUMENT, () -> controller.validateVolumeCapabilities(
                Csi.ValidateVolumeCapabilitiesRequest.newBuilder().setVolumeId(id).addVolumeCapabilities(mount())
                        .build()));
        assertCode(Status.Code.INVALID_ARGUMENT, () -> controller.controllerExpandVolume(
                Csi.ControllerExpandVolumeRequest.newBuilder().setVolumeId(id)
                        .setCapacityRange(Csi.CapacityRange.newBuilder().setRequiredBytes(1)).build()));
        assertCode(Status.Code.INVALID_ARGUMENT, () -> controller.createSnapshot(Csi.CreateSnapshotRequest
                .newBuilder().setName("snap-1").setSourceVolumeId(id).build()));
        assertCode(Status.Code.INVALID_ARGUMENT, () -> controller.createVolume(create("pvc-2")
                .setVolumeContentSource(Csi.VolumeContentSource.newBuilder().setVolume(
                        Csi.VolumeContentSource.VolumeSource.newBuilder().setVolumeId(id))).build()));
        assertCode(Status.Code.INVALID_ARGUMENT, () -> controller.createVolume(create("pvc-3", "subDir", ".nfs-csi")
                .build()));
        assertThat(mounter.mountCalls).isEmpty();
    }

    // ---- records missing fields ----

    @Test
    void damagedRecord_createGetAndDelete_goOnWithoutIt() throws Exception {
        start(false);
        var v = controller.createVolume(create("pvc-1").build()).getVolume();
        Files.writeString(shareRoot().resolve(".nfs-csi/volumes/pvc-1.properties"), "name=pvc-1\ncapacityBytes=x\n");
        assertThat(controller.createVolume(create("pvc-1").build()).getVolume().getVolumeId())
                .isEqualTo(v.getVolumeId());
        assertThat(controller.controllerGetVolume(get(v.getVolumeId())).getStatus().getVolumeCondition()
                .getAbnormal()).isFalse();
        controller.deleteVolume(delete(v.getVolumeId()));
        assertThat(shareRoot().resolve("pvc-1")).doesNotExist();
        assertThat(shareRoot().resolve(".nfs-csi/volumes/pvc-1.properties")).doesNotExist();
    }

    // ---- one lock key per volume, whatever the call ----

    @Test
    void deleteOrExpand_whileCreateOfTheSameVolumeIsInFlight_isAborted() throws Exception {
        start(false);
        mounter.mountGate = new CountDownLatch(1);
        CompletableFuture<Csi.CreateVolumeResponse> first =
                CompletableFuture.supplyAsync(() -> controller.createVolume(create("pvc-1").build()));
        assertThat(mounter.mountEntered.await(10, TimeUnit.SECONDS)).isTrue();
        String id = "nfs-csi:1#nfs.example.com#/exports#pvc-1#pvc-1#delete";
        assertCode(Status.Code.ABORTED, () -> controller.deleteVolume(delete(id)));
        assertCode(Status.Code.ABORTED, () -> controller.controllerExpandVolume(
                Csi.ControllerExpandVolumeRequest.newBuilder().setVolumeId(id)
                        .setCapacityRange(Csi.CapacityRange.newBuilder().setRequiredBytes(1)).build()));
        assertCode(Status.Code.ABORTED, () -> controller.createVolume(create("pvc-clone")
                .setVolumeContentSource(Csi.VolumeContentSource.newBuilder().setVolume(
                        Csi.VolumeContentSource.VolumeSource.newBuilder().setVolumeId(id))).build()));
        mounter.mountGate.countDown();
        assertThat(first.get(10, TimeUnit.SECONDS).getVolume().getVolumeId()).isEqualTo(id);
    }

    @Test
    void deleteSnapshot_whileCreateOfTheSameSnapshotIsInFlight_isAborted() throws Exception {
        start(false);
        mounter.mountGate = new CountDownLatch(1);
        CompletableFuture<Csi.CreateSnapshotResponse> first = CompletableFuture.supplyAsync(() ->
                controller.createSnapshot(Csi.CreateSnapshotRequest.newBuilder().setName("snap-1")
                        .setSourceVolumeId("nfs-csi:1#nfs.example.com#/exports#pvc-1#pvc-1#delete").build()));
        assertThat(mounter.mountEntered.await(10, TimeUnit.SECONDS)).isTrue();
        assertCode(Status.Code.ABORTED, () -> controller.deleteSnapshot(Csi.DeleteSnapshotRequest.newBuilder()
                .setSnapshotId("nfs-csi-snapshot:1#nfs.example.com#/exports#snap-1#pvc-1").build()));
        assertCode(Status.Code.ABORTED, () -> controller.deleteSnapshot(Csi.DeleteSnapshotRequest.newBuilder()
                .setSnapshotId("nfs.example.com#exports#snap-1#snap-1#pvc-1").build()));
        mounter.mountGate.countDown();
        // the source does not exist: what matters is that the calls above did not run beside it
        assertThat(first.handle((r, t) -> t).get(10, TimeUnit.SECONDS)).isNotNull();
    }

    @Test
    void getVolume_unreachableShare_isAbnormal() throws Exception {
        start(false);
        var v = controller.createVolume(create("pvc-1").build()).getVolume();
        csi.close();
        mounter = new FakeMounter();
        mounter.failWith = io.nfscsi.mount.MountException.Kind.TIMED_OUT;
        start(false);
        var got = controller.controllerGetVolume(Csi.ControllerGetVolumeRequest.newBuilder()
                .setVolumeId(v.getVolumeId()).build());
        assertThat(got.getStatus().getVolumeCondition().getAbnormal()).isTrue();
        assertThat(got.getStatus().getVolumeCondition().getMessage()).contains("unreachable");
    }

    @Test
    void list_pagesThroughEveryVolume_pastADeletion_andABadTokenIsAborted() throws Exception {
        start(false);
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            ids.add(controller.createVolume(create("pvc-" + i).build()).getVolume().getVolumeId());
        }
        List<String> seen = new ArrayList<>();
        String token = "";
        do {
            var page = controller.listVolumes(Csi.ListVolumesRequest.newBuilder().setMaxEntries(2)
                    .setStartingToken(token).build());
            page.getEntriesList().forEach(e -> seen.add(e.getVolume().getVolumeId()));
            token = page.getNextToken();
        } while (!token.isEmpty());
        assertThat(seen).containsExactlyInAnyOrderElementsOf(ids);
        var first = controller.listVolumes(Csi.ListVolumesRequest.newBuilder().setMaxEntries(1).build());
        controller.deleteVolume(Csi.DeleteVolumeRequest.newBuilder()
                .setVolumeId(first.getEntries(0).getVolume().getVolumeId()).build());
        // the token's volume is gone: the next page still starts after it (ControllerListsTest has more)
        assertThat(controller.listVolumes(Csi.ListVolumesRequest.newBuilder()
                .setStartingToken(first.getNextToken()).build()).getEntriesCount()).isEqualTo(4);
        assertCode(Status.Code.ABORTED, () -> controller.listVolumes(Csi.ListVolumesRequest.newBuilder()
                .setStartingToken("!!not-base64!!").build()));
        assertCode(Status.Code.INVALID_ARGUMENT, () -> controller.listVolumes(Csi.ListVolumesRequest.newBuilder()
                .setMaxEntries(-1).build()));
    }

    @Test
    void concurrentCreateOfTheSameName_isAborted() throws Exception {
        start(false);
        mounter.mountGate = new CountDownLatch(1);
        CompletableFuture<Csi.CreateVolumeResponse> first =
                CompletableFuture.supplyAsync(() -> controller.createVolume(create("pvc-1").build()));
        assertThat(mounter.mountEntered.await(10, TimeUnit.SECONDS)).isTrue();
        assertCode(Status.Code.ABORTED, () -> controller.createVolume(create("pvc-1").build()));
        mounter.mountGate.countDown();
        assertThat(first.get(10, TimeUnit.SECONDS).getVolume().getVolumeId()).isNotEmpty();
    }

    @Test
    void shutdown_unmountsThePooledShares() throws Exception {
        start(false);
        controller.createVolume(create("pvc-1").build());
        assertThat(mounter.mounted()).isEqualTo(1);
        service.shutdown();
        assertThat(mounter.mounted()).isZero();
    }

    @Test
    void capabilities_areAdvertised() throws Exception {
        start(false);
        assertThat(controller.controllerGetCapabilities(Csi.ControllerGetCapabilitiesRequest.getDefaultInstance())
                .getCapabilitiesList()).extracting(c -> c.getRpc().getType()).containsExactlyInAnyOrder(
                Csi.ControllerServiceCapability.RPC.Type.CREATE_DELETE_VOLUME,
                Csi.ControllerServiceCapability.RPC.Type.EXPAND_VOLUME,
                Csi.ControllerServiceCapability.RPC.Type.GET_CAPACITY,
                Csi.ControllerServiceCapability.RPC.Type.LIST_VOLUMES,
                Csi.ControllerServiceCapability.RPC.Type.GET_VOLUME,
                Csi.ControllerServiceCapability.RPC.Type.VOLUME_CONDITION,
                Csi.ControllerServiceCapability.RPC.Type.SINGLE_NODE_MULTI_WRITER,
                Csi.ControllerServiceCapability.RPC.Type.CREATE_DELETE_SNAPSHOT,
                Csi.ControllerServiceCapability.RPC.Type.LIST_SNAPSHOTS,
                Csi.ControllerServiceCapability.RPC.Type.GET_SNAPSHOT,
                Csi.ControllerServiceCapability.RPC.Type.CLONE_VOLUME,
                Csi.ControllerServiceCapability.RPC.Type.MODIFY_VOLUME);
        assertCode(Status.Code.UNIMPLEMENTED, () -> controller.controllerPublishVolume(
                Csi.ControllerPublishVolumeRequest.getDefaultInstance()));
    }

    @Test
    void getCapacity_serverWithoutShare_isInvalidArgument_bothGiveTheSharesCapacity() throws Exception {
        start(false);
        assertCode(Status.Code.INVALID_ARGUMENT, () -> controller.getCapacity(Csi.GetCapacityRequest.newBuilder()
                .putParameters("server", "x").build()));
        long available = controller.getCapacity(Csi.GetCapacityRequest.newBuilder()
                .putAllParameters(Map.of("server", "nfs.example.com", "share", "/exports", "onDelete", "retain"))
                .build()).getAvailableCapacity();
        assertThat(available).isPositive();
    }

    @Test
    void deleteVolumeAndSnapshot_ofAShareThatDoesNotExist_areOk() throws Exception {
        start(false);
        mounter.failWith = io.nfscsi.mount.MountException.Kind.NO_SUCH_PATH;
        controller.deleteVolume(Csi.DeleteVolumeRequest.newBuilder()
                .setVolumeId("nfs-csi:1#nfs.example.com#/gone#pvc-1#pvc-1#delete").build());
        controller.deleteSnapshot(Csi.DeleteSnapshotRequest.newBuilder()
                .setSnapshotId("nfs-csi-snapshot:1#nfs.example.com#/gone#snap-1#pvc-1").build());
        assertThat(mounter.mountCalls).hasSize(2);
    }

    /**
     * A failed share mount answers the code of MountException#toCsi, the same for every controller call that
     * mounts; DeleteVolume and DeleteSnapshot answer OK for a share that does not exist.
     */
    @ParameterizedTest
    @EnumSource(MountException.Kind.class)
    void mountFailure_isMappedOnce_forEveryCallThatMountsAShare(MountException.Kind kind) throws Exception {
        start(false);
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
        String snapshot = "nfs-csi-snapshot:1#nfs.example.com#/exports#snap-1#pvc-1";
        assertCode(expected, () -> controller.createVolume(create("pvc-1").build()));
        assertCode(expected, () -> controller.getCapacity(Csi.GetCapacityRequest.newBuilder()
                .putAllParameters(Map.of("server", "nfs.example.com", "share", "/exports")).build()));
        var listed = Csi.ListSnapshotsRequest.newBuilder().setSnapshotId(snapshot).build();
        if (kind == MountException.Kind.NO_SUCH_PATH) {
            // an export that does not exist holds no snapshot: an empty list, and deletes are OK
            assertThat(controller.listSnapshots(listed).getEntriesList()).isEmpty();
            return; // deleteVolumeAndSnapshot_ofAShareThatDoesNotExist_areOk
        }
        assertCode(expected, () -> controller.listSnapshots(listed));
        assertCode(expected, () -> controller.deleteVolume(
                delete("nfs-csi:1#nfs.example.com#/exports#pvc-1#pvc-1#delete")));
        assertCode(expected, () -> controller.deleteSnapshot(Csi.DeleteSnapshotRequest.newBuilder()
                .setSnapshotId(snapshot).build()));
    }
}

