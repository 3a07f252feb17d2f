package io.nfscsi.walkthrough;

import static io.nfscsi.testbed.Shell.step;
import static io.nfscsi.walkthrough.StaticVolumeWalkthroughTest.EXPORT;
import static io.nfscsi.walkthrough.StaticVolumeWalkthroughTest.assertCode;
import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.nfscsi.csi.v1.Csi;
import io.nfscsi.mount.MountEntry;
import io.nfscsi.mount.MountTable;
import io.nfscsi.testbed.DriverProcess;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Dynamic provisioning against the real NFS server: each PVC becomes a directory of {@code /export/dyn}; the
 * server-side tree is checked after every step.
 */
@Tag("nfs")
class DynamicProvisioningTest {

    static final Path SHARE = EXPORT.resolve("dyn");
    static final Path WORKING_DIR = Path.of("/run/nfs-csi-dynamic/mounts");
    static final Path CYCLE_SHARE = EXPORT.resolve("cycle");
    static DriverProcess driver;

    @BeforeAll
    static void startDriver() throws Exception {
        Files.createDirectories(SHARE);
        driver = DriverProcess.start(Path.of("/run/nfs-csi-dynamic"));
    }

    @AfterAll
    static void stopDriver() throws Exception {
        if (driver != null) {
            driver.close();
        }
    }

    static Map<String, String> storageClass(String... extra) {
        Map<String, String> p = new HashMap<>(Map.of("server", "127.0.0.1", "share", SHARE.toString()));
        for (int i = 0; i < extra.length; i += 2) {
            p.put(extra[i], extra[i + 1]);
        }
        return p;
    }

    static Csi.Volume create(String pv, String ns, String pvc, Map<String, String> sc, List<String> options) {
        return driver.controller().createVolume(Provisioner.create(pv, ns, pvc, 1 << 30, sc, options)).getVolume();
    }

    static int mode(Path p) throws Exception {
        return (Integer) Files.getAttribute(p, "unix:mode") & 07777;
    }

    @ParameterizedTest
    @ValueSource(strings = {"delete", "retain", "archive"})
    void lifecycle_createPublishWriteUnpublishDelete_perOnDeletePolicy(String policy) throws Exception {
        String pv = "pvc-life-" + policy;
        var sc = storageClass("subDir", "${pvc.metadata.namespace}/${pvc.metadata.name}",
                "mountPermissions", "2770", "onDelete", policy);
        step("CreateVolume " + pv + " (onDelete " + policy + ")");
        Csi.Volume volume = create(pv, "team-" + policy, "data", sc, List.of("nfsvers=4.1", "hard"));
        Path dir = SHARE.resolve("team-" + policy + "/data");
        assertThat(dir).isDirectory();
        assertThat(Integer.toOctalString(mode(dir))).isEqualTo("2770");
        assertThat(volume.getCapacityBytes()).isEqualTo(1 << 30);
        assertThat(volume.getVolumeContextMap()).containsEntry("subDir", "team-" + policy + "/data")
                .containsEntry("server", "127.0.0.1").containsEntry("share", SHARE.toString());

        step("publish on the node with the returned volume_context; the pod writes a file");
        Path target = Kubelet.newTarget(pv);
        driver.node().nodePublishVolume(Kubelet.publish(volume.getVolumeId(), target, volume.getVolumeContextMap(),
                false, List.of("nfsvers=4.1", "hard")));
        MountEntry mount = MountTable.read().at(target).orElseThrow();
        assertThat(mount.source()).isEqualTo("127.0.0.1:" + dir);
        new Pod(target).exec("mkdir -p sub && echo payload > sub/file && sync").orThrow();
        assertThat(dir.resolve("sub/file")).hasContent("payload");
        driver.node().nodeUnpublishVolume(Kubelet.unpublish(volume.getVolumeId(), target));

        step("DeleteVolume");
        driver.controller().deleteVolume(Provisioner.delete(volume.getVolumeId()));
        switch (policy) {
            case "delete" -> {
                assertThat(dir).doesNotExist();
                assertThat(SHARE.resolve("team-delete")).as("empty parent removed").doesNotExist();
            }
            case "retain" -> assertThat(dir.resolve("sub/file")).hasContent("payload");
            case "archive" -> {
                assertThat(dir).doesNotExist();
                try (Stream<Path> top = Files.list(SHARE)) {
                    List<Path> archives = top.filter(p -> p.getFileName().toString()
                            .matches("archived-team-archive-data-\\d{8}T\\d{6}Z")).toList();
                    assertThat(archives).hasSize(1);
                    assertThat(archives.getFirst().resolve("sub/file")).hasContent("payload");
                }
            }
            default -> throw new IllegalStateException(policy);
        }
        step("DeleteVolume again: OK");
        driver.controller().deleteVolume(Provisioner.delete(volume.getVolumeId()));
    }

    @Test
    void subDir_defaultsToThePvName() throws Exception {
        Csi.Volume v = create("pvc-default-subdir", "ns", "claim", storageClass(), List.of());
        assertThat(SHARE.resolve("pvc-default-subdir")).isDirectory();
        driver.controller().deleteVolume(Provisioner.delete(v.getVolumeId()));
        assertThat(SHARE.resolve("pvc-default-subdir")).doesNotExist();
    }

    @Test
    void create_isIdempotent_andConflictingRepeatsAreAlreadyExists() throws Exception {
        var sc = storageClass("subDir", "idem/${pv.metadata.name}");
        Csi.Volume first = create("pvc-idem", "ns", "c", sc, List.of());
        Csi.Volume again = create("pvc-idem", "ns", "c", sc, List.of());
        assertThat(again).isEqualTo(first);
        assertCode(() -> driver.controller().createVolume(Provisioner.create("pvc-idem", "ns", "c", 2L << 30, sc,
                List.of())), Status.Code.ALREADY_EXISTS);
        assertCode(() -> create("pvc-idem", "ns", "c", storageClass("subDir", "elsewhere"), List.of()),
                Status.Code.ALREADY_EXISTS);
        assertCode(() -> create("pvc-idem", "ns", "c", sc, List.of("nfsvers=3")), Status.Code.ALREADY_EXISTS);
        driver.controller().deleteVolume(Provisioner.delete(first.getVolumeId()));
    }

    @Test
    void badTemplates_andEscapingSubDirs_areInvalidArgument() {
        assertCode(() -> create("pvc-bad1", "ns", "c", storageClass("subDir", "${pvc.metadata.labels}"), List.of()),
                Status.Code.INVALID_ARGUMENT);
        assertCode(() -> create("pvc-bad2", "ns", "c", storageClass("subDir", "../escape"), List.of()),
                Status.Code.INVALID_ARGUMENT);
        assertCode(() -> create("pvc-bad3", "ns", "c", storageClass("subDir", "/abs"), List.of()),
                Status.Code.INVALID_ARGUMENT);
        assertCode(() -> create("pvc-bad4", "ns", "c", storageClass("typo", "x"), List.of()),
                Status.Code.INVALID_ARGUMENT);
        assertThat(SHARE.resolve("escape")).doesNotExist();
        assertThat(EXPORT.resolve("escape")).doesNotExist();
    }

    @Test
    void delete_ofATreeHoldingSymlinks_removesOnlyTheLinks() throws Exception {
        Csi.Volume victim = create("pvc-victim", "ns", "victim", storageClass(), List.of());
        Csi.Volume attacker = create("pvc-attacker", "ns", "attacker", storageClass(), List.of());
        Files.writeString(SHARE.resolve("pvc-victim/precious"), "keep");
        Files.writeString(EXPORT.resolve("outside-canary"), "keep");
        Path target = Kubelet.newTarget("pvc-attacker");
        driver.node().nodePublishVolume(Kubelet.publish(attacker.getVolumeId(), target,
                attacker.getVolumeContextMap(), false, List.of()));
        step("the attacker's pod plants links to / and to a sibling volume");
        new Pod(target).exec("ln -s / root && ln -s ../pvc-victim sibling && ln -s " + SHARE.resolve("pvc-victim")
                + " absolute-sibling && mkdir d && ln -s /etc d/etc && sync").orThrow();
        driver.node().nodeUnpublishVolume(Kubelet.unpublish(attacker.getVolumeId(), target));
        driver.controller().deleteVolume(Provisioner.delete(attacker.getVolumeId()));
        assertThat(SHARE.resolve("pvc-attacker")).doesNotExist();
        assertThat(SHARE.resolve("pvc-victim/precious")).hasContent("keep");
        assertThat(Path.of("/etc/hostname")).exists();
        assertThat(EXPORT.resolve("outside-canary")).as("the export's other content").hasContent("keep");
        driver.controller().deleteVolume(Provisioner.delete(victim.getVolumeId()));
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "nfs-csi:1#127.0.0.1#/export/dyn#../../etc#pvc-x#delete",
            "nfs-csi:1#127.0.0.1#/export/../etc#pvc-x#pvc-x#delete",
            "nfs-csi:1#127.0.0.1#/export/dyn#a/../..#pvc-x#delete",
            "127.0.0.1#export#..#pvc-x#delete",
            "127.0.0.1#export/../..#etc#",
            "127.0.0.1/export/..",
            "nfs-csi:1#127.0.0.1#/export/dyn##pvc-x#delete"})
    void idsWithDotDotOrNoSubDir_deleteNothing_andAreNotFoundElsewhere(String id) throws Exception {
        Files.createDirectories(SHARE.resolve("canary"));
        driver.controller().deleteVolume(Provisioner.delete(id));
        assertThat(SHARE.resolve("canary")).isDirectory();
        assertThat(Path.of("/etc/hostname")).exists();
        assertCode(() -> driver.controller().controllerGetVolume(
                Csi.ControllerGetVolumeRequest.newBuilder().setVolumeId(id).build()), Status.Code.NOT_FOUND);
        assertCode(() -> driver.controller().validateVolumeCapabilities(Csi.ValidateVolumeCapabilitiesRequest
                .newBuilder().setVolumeId(id).addVolumeCapabilities(Kubelet.mountCapability(List.of())).build()),
                Status.Code.NOT_FOUND);
    }

    @Test
    void csiDriverNfsVolume_isPublishedAndDeleted() throws Exception {
        step("a volume made by csi-driver-nfs: a directory and an ID in its format, no record");
        Files.createDirectories(SHARE.resolve("pvc-legacy/data"));
        Files.writeString(SHARE.resolve("pvc-legacy/data/f"), "old");
        String id = "127.0.0.1#export/dyn#pvc-legacy##";
        Path target = Kubelet.newTarget("pvc-legacy");
        driver.node().nodePublishVolume(Kubelet.publish(id, target, Map.of("server", "127.0.0.1",
                "share", SHARE.toString(), "subDir", "pvc-legacy", "csi.storage.k8s.io/pv/name", "pvc-legacy",
                "onDelete", "delete"), false, List.of()));
        assertThat(new Pod(target).exec("cat data/f").orThrow().output()).isEqualTo("old");
        driver.node().nodeUnpublishVolume(Kubelet.unpublish(id, target));
        driver.controller().deleteVolume(Provisioner.delete(id));
        assertThat(SHARE.resolve("pvc-legacy")).doesNotExist();
    }

    @Test
    void concurrentCreates_fiftyCallsForTenNames_makeExactlyTenDirectories() throws Exception {
        Files.createDirectories(SHARE.resolve("race"));
        var sc = storageClass("subDir", "race/${pv.metadata.name}");
        Set<String> ids = ConcurrentHashMap.newKeySet();
        List<Future<?>> calls = new ArrayList<>();
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int i = 0; i < 50; i++) {
                String pv = "pvc-race-" + (i % 10);
                calls.add(pool.submit(() -> {
                    while (true) {
                        try {
                            ids.add(create(pv, "ns", pv, sc, List.of()).getVolumeId());
                            return null;
                        } catch (StatusRuntimeException e) {
                            if (e.getStatus().getCode() != Status.Code.ABORTED) {
                                throw e;
                            }
                            Thread.sleep(20);
                        }
                    }
                }));
            }
            for (Future<?> f : calls) {
                f.get();
            }
        }
        try (Stream<Path> dirs = Files.list(SHARE.resolve("race"))) {
            assertThat(dirs.map(p -> p.getFileName().toString()).sorted().toList())
                    .containsExactly("pvc-race-0", "pvc-race-1", "pvc-race-2", "pvc-race-3", "pvc-race-4",
                            "pvc-race-5", "pvc-race-6", "pvc-race-7", "pvc-race-8", "pvc-race-9");
        }
        assertThat(ids).hasSize(10);
        for (String id : ids) {
            driver.controller().deleteVolume(Provisioner.delete(id));
        }
    }

    @Test
    void eightLoopsOfSiblingsInOneParent_createAndDeleteWithoutError_andLeaveNoParent() throws Exception {
        // subDir ${pvc.metadata.namespace}/${pvc.metadata.name}: every delete removes the namespace directory
        // when it leaves it empty, while the other loops create and delete in it
        var sc = storageClass("subDir", "${pvc.metadata.namespace}/${pvc.metadata.name}");
        List<Future<?>> loops = new ArrayList<>();
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int loop = 0; loop < 8; loop++) {
                int l = loop;
                loops.add(pool.submit(() -> {
                    for (int i = 0; i < 15; i++) {
                        String pv = "pvc-sib-" + l + "-" + i;
                        Csi.Volume v = create(pv, "siblings", pv, sc, List.of());
                        driver.controller().deleteVolume(Provisioner.delete(v.getVolumeId()));
                    }
                    return null;
                }));
            }
            for (Future<?> f : loops) {
                f.get();
            }
        }
        step("8 loops x 15 create+delete of siblings under " + SHARE.resolve("siblings"));
        assertThat(SHARE.resolve("siblings")).doesNotExist();
    }

    @Test
    void hundredCreateDeleteCycles_useOneShareMount() throws Exception {
        // a share of its own, so that no other test's pooled mount is counted
        Files.createDirectories(CYCLE_SHARE);
        var sc = new HashMap<>(Map.of("server", "127.0.0.1", "share", CYCLE_SHARE.toString()));
        create("pvc-cycle-warmup", "ns", "w", sc, List.of());
        List<MountEntry> before = shareMounts();
        assertThat(before).hasSize(1);
        long mountLinesBefore = driver.log().lines().filter(l -> l.contains("mounted share")).count();
        for (int i = 0; i < 100; i++) {
            Csi.Volume v = create("pvc-cycle-" + i, "ns", "c" + i, sc, List.of());
            driver.controller().deleteVolume(Provisioner.delete(v.getVolumeId()));
        }
        List<MountEntry> after = shareMounts();
        step("share mounts in mountinfo before/after 100 cycles: " + before.getFirst().mountId() + " / "
                + after.getFirst().mountId());
        assertThat(after).hasSize(1);
        assertThat(after.getFirst().mountId()).as("the same mount, never remade").isEqualTo(before.getFirst().mountId());
        assertThat(driver.log().lines().filter(l -> l.contains("mounted share")).count()).isEqualTo(mountLinesBefore);
    }

    /** The controller's pooled mounts of the cycle test's share. */
    static List<MountEntry> shareMounts() {
        return MountTable.read().entries().stream()
                .filter(e -> e.source().equals("127.0.0.1:" + CYCLE_SHARE))
                .filter(e -> e.mountPoint().getParent().equals(WORKING_DIR))
                .toList();
    }

    @Test
    void validateExpandGetAndCapacity() throws Exception {
        Csi.Volume v = create("pvc-vx", "ns", "vx", storageClass(), List.of());
        var ok = driver.controller().validateVolumeCapabilities(Csi.ValidateVolumeCapabilitiesRequest.newBuilder()
                .setVolumeId(v.getVolumeId()).addVolumeCapabilities(Kubelet.mountCapability(List.of())).build());
        assertThat(ok.hasConfirmed()).isTrue();
        var block = driver.controller().validateVolumeCapabilities(Csi.ValidateVolumeCapabilitiesRequest.newBuilder()
                .setVolumeId(v.getVolumeId()).addVolumeCapabilities(Csi.VolumeCapability.newBuilder()
                        .setBlock(Csi.VolumeCapability.BlockVolume.getDefaultInstance())
                        .setAccessMode(Kubelet.mountCapability(List.of()).getAccessMode())).build());
        assertThat(block.hasConfirmed()).isFalse();
        assertThat(block.getMessage()).isNotEmpty();

        var expanded = driver.controller().controllerExpandVolume(Csi.ControllerExpandVolumeRequest.newBuilder()
                .setVolumeId(v.getVolumeId()).setCapacityRange(Csi.CapacityRange.newBuilder()
                        .setRequiredBytes(5L << 30)).build());
        assertThat(expanded.getCapacityBytes()).isEqualTo(5L << 30);
        assertThat(expanded.getNodeExpansionRequired()).isFalse();
        var got = driver.controller().controllerGetVolume(Csi.ControllerGetVolumeRequest.newBuilder()
                .setVolumeId(v.getVolumeId()).build());
        assertThat(got.getVolume().getCapacityBytes()).isEqualTo(5L << 30);
        assertThat(got.getStatus().getVolumeCondition().getAbnormal()).isFalse();

        var capacity = driver.controller().getCapacity(Csi.GetCapacityRequest.newBuilder()
                .putAllParameters(storageClass()).build());
        assertThat(capacity.getAvailableCapacity()).isPositive()
                .isCloseTo(io.nfscsi.mount.Posix.statvfs(EXPORT).availableBytes(),
                        org.assertj.core.data.Percentage.withPercentage(5));

        step("the directory vanishes behind the driver's back: the volume does not exist (NOT_FOUND)");
        Files.delete(SHARE.resolve("pvc-vx"));
        assertCode(() -> driver.controller().controllerGetVolume(Csi.ControllerGetVolumeRequest.newBuilder()
                .setVolumeId(v.getVolumeId()).build()), Status.Code.NOT_FOUND);
        assertCode(() -> driver.controller().validateVolumeCapabilities(Csi.ValidateVolumeCapabilitiesRequest
                .newBuilder().setVolumeId(v.getVolumeId()).addVolumeCapabilities(Kubelet.mountCapability(List.of()))
                .build()), Status.Code.NOT_FOUND);
        driver.controller().deleteVolume(Provisioner.delete(v.getVolumeId()));
    }

    @Test
    void listVolumes_pagesThroughEveryVolume_pastADeletion_andABadTokenIsAborted() {
        var sc = storageClass("subDir", "list/${pv.metadata.name}");
        List<String> made = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            made.add(create("pvc-list-" + i, "ns", "l" + i, sc, List.of()).getVolumeId());
        }
        List<String> seen = new ArrayList<>();
        String token = "";
        do {
            var page = driver.controller().listVolumes(Csi.ListVolumesRequest.newBuilder().setMaxEntries(2)
                    .setStartingToken(token).build());
            assertThat(page.getEntriesCount()).isLessThanOrEqualTo(2);
            page.getEntriesList().forEach(e -> seen.add(e.getVolume().getVolumeId()));
            token = page.getNextToken();
        } while (!token.isEmpty());
        assertThat(seen).containsAll(made).doesNotHaveDuplicates();

        var first = driver.controller().listVolumes(Csi.ListVolumesRequest.newBuilder().setMaxEntries(1).build());
        String pointsAfter = first.getEntries(0).getVolume().getVolumeId();
        driver.controller().deleteVolume(Provisioner.delete(pointsAfter));
        String afterDeleted = first.getNextToken();
        var next = driver.controller().listVolumes(Csi.ListVolumesRequest.newBuilder().setMaxEntries(1)
                .setStartingToken(afterDeleted).build());
        assertThat(next.getEntries(0).getVolume().getVolumeId()).as("the page after a deleted volume's token")
                .isGreaterThan(pointsAfter);
        assertCode(() -> driver.controller().listVolumes(Csi.ListVolumesRequest.newBuilder()
                .setStartingToken("not-a-token").build()), Status.Code.ABORTED);
        made.forEach(id -> driver.controller().deleteVolume(Provisioner.delete(id)));
    }
}
