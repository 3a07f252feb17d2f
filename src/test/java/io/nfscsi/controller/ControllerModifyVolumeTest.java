package io.nfscsi.controller;

import static io.nfscsi.testing.InProcessCsi.assertCode;
import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.Status;
import io.nfscsi.concurrent.BoundedIo;
import io.nfscsi.csi.v1.ControllerGrpc;
import io.nfscsi.csi.v1.Csi;
import io.nfscsi.testing.FakeMounter;
import io.nfscsi.testing.InProcessCsi;
import io.nfscsi.testing.TestPools;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;
import io.nfscsi.volume.OnDelete;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Request handling of ControllerModifyVolume and of CreateVolume's mutable_parameters, with the in-memory mount
 * table of {@link ControllerServiceTest}. The same against a real NFS server, with publishes, is
 * {@code VolumeAttributesClassTest} in the test bed.
 */
class ControllerModifyVolumeTest {

    @TempDir
    Path work;
    FakeMounter mounter = new FakeMounter();
    Clock clock = Clock.fixed(Instant.parse("2026-11-25T23:15:00Z"), ZoneOffset.UTC);
    InProcessCsi csi;
    ControllerGrpc.ControllerBlockingStub controller;

    void start(boolean perRequest) throws Exception {
        BoundedIo io = new BoundedIo(8);
        SharePool pool = new SharePool(work, mounter, io, clock, Duration.ofMinutes(5), perRequest,
                Duration.ofSeconds(10));
        Jobs jobs = new Jobs(clock, TestPools.shared());
        Provisioner provisioner = new Provisioner(pool, clock, OnDelete.DELETE, Duration.ofSeconds(5),
                TestPools.walkers(4), jobs);
        Snapshots snapshots = new Snapshots(pool, provisioner, jobs, clock, TestPools.compressing(2));
        provisioner.useSnapshots(snapshots);
        csi = new InProcessCsi(new ControllerService(provisioner, snapshots, OnDelete.DELETE, pool::closeIdle));
        controller = ControllerGrpc.newBlockingStub(csi.channel()).withDeadlineAfter(30, TimeUnit.SECONDS);
    }

    @AfterEach
    void stop() {
        if (csi != null) {
            csi.close();
        }
    }

    Path shareRoot() throws Exception {
        try (Stream<Path> dirs = Files.list(work)) {
            return dirs.filter(d -> Files.isDirectory(d) && !d.getFileName().toString().equals("elsewhere"))
                    .findFirst().orElseThrow();
        }
    }

    static Csi.CreateVolumeRequest.Builder create(String name, String... params) {
        return ControllerServiceTest.create(name, params);
    }

    static Csi.VolumeCapability mount() {
        return ControllerServiceTest.mount();
    }

    static Csi.DeleteVolumeRequest delete(String id) {
        return ControllerServiceTest.delete(id);
    }

    static Csi.ControllerModifyVolumeRequest modify(String id, String... kv) {
        var b = Csi.ControllerModifyVolumeRequest.newBuilder().setVolumeId(id);
        for (int i = 0; i < kv.length; i += 2) {
            b.putMutableParameters(kv[i], kv[i + 1]);
        }
        return b.build();
    }

    static Csi.CreateVolumeRequest withMutable(Csi.CreateVolumeRequest.Builder b, String... kv) {
        for (int i = 0; i < kv.length; i += 2) {
            b.addMutableParameters(Csi.CreateVolumeRequest.MutableParametersEntry.newBuilder().setKey(kv[i])
                    .setValue(kv[i + 1]));
        }
        return b.build();
    }

    VolumeRecords.Record record(String name) throws Exception {
        return VolumeRecords.read(shareRoot(), name).orElseThrow();
    }

    @Test
    void capabilities_includeModifyVolume() throws Exception {
        start(false);
        assertThat(controller.controllerGetCapabilities(Csi.ControllerGetCapabilitiesRequest.getDefaultInstance())
                .getCapabilitiesList()).extracting(c -> c.getRpc().getType())
                .contains(Csi.ControllerServiceCapability.RPC.Type.MODIFY_VOLUME);
    }

    @Test
    void modify_noVolumeId_isInvalidArgument() throws Exception {
        start(false);
        assertCode(Status.Code.INVALID_ARGUMENT, () -> controller.controllerModifyVolume(modify("", "onDelete",
                "retain")));
        assertThat(mounter.mountCalls).isEmpty();
    }

    @ParameterizedTest(name = "{0}={1}")
    @CsvSource(delimiter = '|', value = {"iops|100", "subDir|x", "mountOptions|a b", "onDelete|shred",
            "mountPermissions|8"})
    void modify_unsupportedKeyOrValue_isInvalidArgumentNamingIt_andChangesNothing(String key, String value)
            throws Exception {
        start(false);
        String id = controller.createVolume(create("pvc-1").build()).getVolume().getVolumeId();
        var before = record("pvc-1");
        Status s = assertCode(Status.Code.INVALID_ARGUMENT, () -> controller.controllerModifyVolume(modify(id, key,
                value)));
        assertThat(s.getDescription()).contains(key);
        assertThat(record("pvc-1")).isEqualTo(before);
    }

    @Test
    void modify_volumeThatDoesNotExist_isNotFound() throws Exception {
        start(false);
        String id = controller.createVolume(create("pvc-1").build()).getVolume().getVolumeId();
        controller.deleteVolume(delete(id));
        assertCode(Status.Code.NOT_FOUND, () -> controller.controllerModifyVolume(modify(id, "onDelete", "retain")));
        assertCode(Status.Code.NOT_FOUND, () -> controller.controllerModifyVolume(modify("no-such-volume",
                "onDelete", "retain")));
    }

    @Test
    void modify_emptyParameters_isOkAndWritesNothing() throws Exception {
        start(false);
        String id = controller.createVolume(create("pvc-1").build()).getVolume().getVolumeId();
        Path file = VolumeRecords.file(shareRoot(), "pvc-1");
        byte[] before = Files.readAllBytes(file);
        var modified = Files.getLastModifiedTime(file);
        controller.controllerModifyVolume(modify(id));
        assertThat(Files.readAllBytes(file)).isEqualTo(before);
        assertThat(Files.getLastModifiedTime(file)).isEqualTo(modified);
    }

    @Test
    void modify_keepsNewSettingsInTheRecord() throws Exception {
        start(false);
        String id = controller.createVolume(create("pvc-1").clearVolumeCapabilities().addVolumeCapabilities(
                mount().toBuilder().setMount(Csi.VolumeCapability.MountVolume.newBuilder()
                        .addMountFlags("nfsvers=4.1,hard"))).build()).getVolume().getVolumeId();
        // one call only: the fake mounter gives each set of mount options a directory of its own, where a real
        // server shows one export whatever the options
        controller.controllerModifyVolume(modify(id, "MOUNTOPTIONS", "nfsvers=4.2,noac", "onDelete", "retain",
                "mountPermissions", "0750"));
        var r = record("pvc-1");
        assertThat(r.current().mountOptions()).containsExactly("hard", "nfsvers=4.2", "noac");
        assertThat(r.current().onDelete()).isEqualTo(OnDelete.RETAIN);
        assertThat(r.current().mountPermissions()).isEqualTo(0750);
        // what CreateVolume was asked stays, for its idempotency and the volume_context
        assertThat(r.mountOptions()).containsExactly("nfsvers=4.1", "hard");
        assertThat(r.onDelete()).isEqualTo(OnDelete.DELETE);
        assertThat(mode(shareRoot().resolve("pvc-1"))).isEqualTo(0750);
    }

    @Test
    void modify_repeated_isIdempotent() throws Exception {
        start(false);
        String id = controller.createVolume(create("pvc-1").build()).getVolume().getVolumeId();
        controller.controllerModifyVolume(modify(id, "onDelete", "archive", "mountPermissions", "2770"));
        var once = record("pvc-1");
        controller.controllerModifyVolume(modify(id, "onDelete", "archive", "mountPermissions", "2770"));
        assertThat(record("pvc-1")).isEqualTo(once);
        assertThat(once.current().onDelete()).isEqualTo(OnDelete.ARCHIVE);
        assertThat(mode(shareRoot().resolve("pvc-1"))).isEqualTo(02770);
    }

    static int mode(Path p) throws Exception {
        return (Integer) Files.getAttribute(p, "unix:mode", LinkOption.NOFOLLOW_LINKS) & 07777;
    }

    @Test
    void modify_onDeleteRetain_thenDelete_keepsTheDirectory() throws Exception {
        start(false);
        String id = controller.createVolume(create("pvc-1").build()).getVolume().getVolumeId();
        controller.controllerModifyVolume(modify(id, "onDelete", "retain"));
        controller.deleteVolume(delete(id));
        assertThat(shareRoot().resolve("pvc-1")).isDirectory();
        assertThat(VolumeRecords.read(shareRoot(), "pvc-1")).isEmpty();
    }

    @Test
    void modify_mountPermissionsOnASymlinkedDirectory_isRefusedAndFollowsNothing() throws Exception {
        start(false);
        String id = controller.createVolume(create("pvc-1").build()).getVolume().getVolumeId();
        Path elsewhere = Files.createDirectories(work.resolve("elsewhere"));
        int modeBefore = (Integer) Files.getAttribute(elsewhere, "unix:mode") & 07777;
        Files.delete(shareRoot().resolve("pvc-1"));
        Files.createSymbolicLink(shareRoot().resolve("pvc-1"), elsewhere);
        assertCode(Status.Code.FAILED_PRECONDITION, () -> controller.controllerModifyVolume(modify(id,
                "mountPermissions", "0777")));
        assertThat((Integer) Files.getAttribute(elsewhere, "unix:mode") & 07777).isEqualTo(modeBefore);
    }

    @Test
    void modify_csiDriverNfsVolume_isInvalidArgument_butEmptyParametersAreOk() throws Exception {
        start(false);
        controller.createVolume(create("pvc-1").build());
        Files.createDirectories(shareRoot().resolve("pvc-legacy"));
        String legacy = "nfs.example.com#exports#pvc-legacy#pvc-legacy#delete";
        assertCode(Status.Code.INVALID_ARGUMENT, () -> controller.controllerModifyVolume(modify(legacy, "onDelete",
                "retain")));
        controller.controllerModifyVolume(modify(legacy));
    }

    @Test
    void create_mutableParameters_takePrecedenceOverParametersAndFlags() throws Exception {
        start(false);
        var v = controller.createVolume(withMutable(create("pvc-1", "onDelete", "delete")
                .clearVolumeCapabilities().addVolumeCapabilities(mount().toBuilder().setMount(
                        Csi.VolumeCapability.MountVolume.newBuilder().addMountFlags("nfsvers=4.1").addMountFlags("hard"))),
                "onDelete", "retain", "mountOptions", "nfsvers=4.2")).getVolume();
        assertThat(v.getVolumeContextMap()).containsEntry("onDelete", "retain")
                .containsEntry("mountOptions", "hard,nfsvers=4.2");
        assertThat(v.getVolumeId()).endsWith("#retain");
        assertThat(record("pvc-1").current().mountOptions()).containsExactly("hard", "nfsvers=4.2");
        assertThat(mounter.mountCalls.getLast().get(3)).isEqualTo("hard,nfsvers=4.2");
    }

    @Test
    void create_repeated_sameMutableParametersIsOk_otherOnesAreAlreadyExists() throws Exception {
        start(false);
        var first = controller.createVolume(withMutable(create("pvc-1"), "mountPermissions", "0700")).getVolume();
        assertThat(controller.createVolume(withMutable(create("pvc-1"), "mountPermissions", "0700")).getVolume())
                .isEqualTo(first);
        assertCode(Status.Code.ALREADY_EXISTS, () -> controller.createVolume(withMutable(create("pvc-1"),
                "mountPermissions", "0750")));
        assertCode(Status.Code.ALREADY_EXISTS, () -> controller.createVolume(create("pvc-1").build()));
    }

    @Test
    void create_repeatedAfterAModify_isStillTheSameVolume() throws Exception {
        start(false);
        var first = controller.createVolume(create("pvc-1").build()).getVolume();
        controller.controllerModifyVolume(modify(first.getVolumeId(), "onDelete", "archive", "mountOptions", "noac"));
        assertThat(controller.createVolume(create("pvc-1").build()).getVolume()).isEqualTo(first);
    }

    @Test
    void create_unknownMutableParameter_isInvalidArgument_andMountsNothing() throws Exception {
        start(false);
        assertCode(Status.Code.INVALID_ARGUMENT, () -> controller.createVolume(withMutable(create("pvc-1"),
                "iops", "100")));
        assertThat(mounter.mountCalls).isEmpty();
    }

    @Test
    void record_withModifiedSettings_roundTrips() throws Exception {
        start(false);
        controller.createVolume(create("pvc-1").build());
        var r = record("pvc-1");
        var changed = r.withCurrent(new io.nfscsi.volume.MutableParameters.Settings(List.of("noac"), OnDelete.ARCHIVE,
                02770));
        VolumeRecords.write(shareRoot(), changed);
        assertThat(record("pvc-1")).isEqualTo(changed);
        assertThat(changed.modified()).isTrue();
        assertThat(r.modified()).isFalse();
        assertThat(Map.copyOf(r.parameters())).isEqualTo(changed.parameters());
    }
}
