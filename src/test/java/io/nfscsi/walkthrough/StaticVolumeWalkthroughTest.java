package io.nfscsi.walkthrough;

import static io.nfscsi.testbed.Shell.step;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.nfscsi.csi.v1.Csi;
import io.nfscsi.mount.MountEntry;
import io.nfscsi.mount.MountTable;
import io.nfscsi.mount.Posix;
import io.nfscsi.posix.FsStats;
import io.nfscsi.testbed.DriverProcess;
import io.nfscsi.testbed.Shell;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The walkthrough this project started from, against the real kernel NFS server of the test bed: a static
 * PersistentVolume naming {@code server: 127.0.0.1, share: /export} goes to a pod and away again.
 */
@Tag("nfs")
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class StaticVolumeWalkthroughTest {

    static final Path EXPORT = Path.of(System.getenv().getOrDefault("NFS_EXPORT", "/export"));
    static final String VOLUME = "data-id";
    static final String SENTINEL = "s3cr3t-sentinel-7f1d";
    static final Map<String, String> STATIC_PV = Map.of("server", "127.0.0.1", "share", EXPORT.toString());

    static DriverProcess driver;
    static Path target;
    static Pod pod;

    @BeforeAll
    static void startDriver() throws Exception {
        step("server side: the export holds mongodb/, influxdb/, user/");
        for (String d : List.of("mongodb", "influxdb", "user")) {
            Files.createDirectories(EXPORT.resolve(d));
        }
        step("starting the driver as a node plugin on its unix socket");
        driver = DriverProcess.start(Path.of("/run/nfs-csi-walkthrough"));
        target = Kubelet.newTarget("data-nfsplugin");
        pod = new Pod(target);
    }

    @AfterAll
    static void stopDriver() throws Exception {
        if (driver != null) {
            step("stopping the driver with SIGTERM");
            driver.terminate();
            assertThat(driver.socket()).as("socket removed on exit").doesNotExist();
            assertThat(driver.log()).doesNotContain(SENTINEL).contains("***");
            driver.close();
        }
    }

    @Test
    @Order(1)
    void identity_answersNameAndReadiness() {
        var info = driver.identity().getPluginInfo(Csi.GetPluginInfoRequest.getDefaultInstance());
        step("GetPluginInfo: " + info.getName() + " " + info.getVendorVersion());
        assertThat(info.getName()).isEqualTo("nfs.csi.io");
        assertThat(driver.identity().probe(Csi.ProbeRequest.getDefaultInstance()).getReady().getValue()).isTrue();
    }

    @Test
    @Order(2)
    void publish_mountsTheExportAtTheTarget() {
        step("kubelet: NodePublishVolume " + VOLUME + " at " + target);
        var request = Kubelet.publish(VOLUME, target, STATIC_PV, false, List.of()).toBuilder()
                .putSecrets("password", SENTINEL).build();
        driver.node().nodePublishVolume(request);

        MountEntry mount = MountTable.read().at(target).orElseThrow();
        step("mountinfo: " + mount.source() + " on " + mount.mountPoint() + " type " + mount.fsType());
        assertThat(mount.source()).isEqualTo("127.0.0.1:" + EXPORT);
        assertThat(mount.fsType()).isIn("nfs", "nfs4");
    }

    @Test
    @Order(3)
    void pod_seesTheExportsEntries() {
        Shell.Result ls = pod.exec("ls").orThrow();
        step("pod: ls /var/www -> " + ls.output().strip().replace('\n', ' '));
        assertThat(ls.output().lines()).contains("mongodb", "influxdb", "user");
    }

    @Test
    @Order(4)
    void serverSideFile_appearsInThePod() throws Exception {
        step("server: touch " + EXPORT.resolve("test1"));
        Files.writeString(EXPORT.resolve("test1"), "from the server\n");
        Shell.Result cat = pod.exec("cat test1").orThrow();
        step("pod: cat /var/www/test1 -> " + cat.output().strip());
        assertThat(cat.output()).isEqualTo("from the server\n");
    }

    @Test
    @Order(5)
    void podWrittenFile_appearsOnTheServer() throws Exception {
        step("pod: echo hello > /var/www/from-pod");
        pod.exec("echo hello > from-pod && sync").orThrow();
        assertThat(Files.readString(EXPORT.resolve("from-pod"))).isEqualTo("hello\n");
        step("server: " + EXPORT.resolve("from-pod") + " holds 'hello'");
    }

    @Test
    @Order(6)
    void stats_reportTheExportsNumbers() throws Exception {
        step("server: writing 4 MiB so that the export has usage to report");
        Files.write(EXPORT.resolve("ballast"), new byte[4 << 20]);
        var stats = driver.node().nodeGetVolumeStats(Kubelet.stats(VOLUME, target));
        FsStats server = Posix.statvfs(EXPORT);
        var bytes = stats.getUsageList().stream().filter(u -> u.getUnit() == Csi.VolumeUsage.Unit.BYTES)
                .findFirst().orElseThrow();
        var inodes = stats.getUsageList().stream().filter(u -> u.getUnit() == Csi.VolumeUsage.Unit.INODES)
                .findFirst().orElseThrow();
        step("NodeGetVolumeStats: bytes total=" + bytes.getTotal() + " available=" + bytes.getAvailable()
                + " used=" + bytes.getUsed() + "; inodes total=" + inodes.getTotal() + "; condition abnormal="
                + stats.getVolumeCondition().getAbnormal());
        assertThat(bytes.getTotal()).isEqualTo(server.totalBytes());
        assertThat(inodes.getTotal()).isEqualTo(server.totalInodes());
        assertThat(bytes.getUsed()).isGreaterThanOrEqualTo(4 << 20).isLessThanOrEqualTo(bytes.getTotal());
        assertThat(bytes.getAvailable()).isLessThanOrEqualTo(bytes.getTotal() - bytes.getUsed());
        assertThat(stats.getVolumeCondition().getAbnormal()).isFalse();
    }

    @Test
    @Order(7)
    void publishAgain_sameSource_isIdempotent() {
        step("kubelet retries NodePublishVolume: OK, still one mount");
        driver.node().nodePublishVolume(Kubelet.publish(VOLUME, target, STATIC_PV, false, List.of()));
        assertThat(MountTable.read().countAt(target)).isEqualTo(1);
    }

    @Test
    @Order(8)
    void publishAgain_otherSourceOrMode_isAlreadyExists() {
        step("NodePublishVolume of another source or read-only at the same target: ALREADY_EXISTS");
        var other = Map.of("server", "127.0.0.1", "share", EXPORT.toString(), "subDir", "user");
        assertCode(() -> driver.node().nodePublishVolume(Kubelet.publish(VOLUME, target, other, false, List.of())),
                Status.Code.ALREADY_EXISTS);
        assertCode(() -> driver.node().nodePublishVolume(Kubelet.publish(VOLUME, target, STATIC_PV, true, List.of())),
                Status.Code.ALREADY_EXISTS);
    }

    @Test
    @Order(9)
    void unpublish_leavesNoMountAndNoDirectory() {
        step("kubelet: NodeUnpublishVolume");
        driver.node().nodeUnpublishVolume(Kubelet.unpublish(VOLUME, target));
        assertThat(MountTable.read().isMountPoint(target)).isFalse();
        assertThat(target).doesNotExist();
        assertThat(EXPORT.resolve("from-pod")).as("data stays on the server").exists();
        step("target gone; unpublishing again is OK too");
        driver.node().nodeUnpublishVolume(Kubelet.unpublish(VOLUME, target));
    }

    @Test
    @Order(10)
    void stats_ofAnUnpublishedPath_isNotFound() {
        assertCode(() -> driver.node().nodeGetVolumeStats(Kubelet.stats(VOLUME, target)), Status.Code.NOT_FOUND);
    }

    static void assertCode(Runnable call, Status.Code code) {
        assertThatThrownBy(call::run).isInstanceOfSatisfying(StatusRuntimeException.class,
                e -> assertThat(e.getStatus().getCode()).as(e.getStatus().toString()).isEqualTo(code));
    }
}
