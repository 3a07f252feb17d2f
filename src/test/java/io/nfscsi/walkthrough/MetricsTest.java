package io.nfscsi.walkthrough;

import static io.nfscsi.testbed.Shell.step;
import static io.nfscsi.walkthrough.StaticVolumeWalkthroughTest.EXPORT;
import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.nfscsi.csi.v1.Csi;
import io.nfscsi.testbed.DriverProcess;
import io.nfscsi.testbed.Shell;
import io.nfscsi.testing.Scrape;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The driver's metrics endpoint during a walkthrough (a volume provisioned, published, unpublished) and a snapshot
 * restored: scraped over HTTP before and after, parsed from the text format, and every count moved as the calls did.
 */
@Tag("nfs")
class MetricsTest {

    static final Path SHARE = EXPORT.resolve("metrics");
    static final Path RUN = Path.of("/run/nfs-csi-metrics");
    static DriverProcess driver;
    static int port;

    @BeforeAll
    static void start() throws Exception {
        Files.createDirectories(SHARE);
        try (ServerSocket free = new ServerSocket(0)) {
            port = free.getLocalPort();
        }
        driver = DriverProcess.start(RUN, "--metrics-address", "127.0.0.1:" + port);
    }

    @AfterAll
    static void stop() {
        if (driver != null) {
            driver.close();
        }
    }

    static Scrape scrape() throws Exception {
        return Scrape.of("127.0.0.1", port);
    }

    static double delta(Scrape before, Scrape after, String name, String... labels) {
        return after.value(name, labels) - before.value(name, labels);
    }

    static <T> T retryWhileAborted(java.util.function.Supplier<T> call) throws InterruptedException {
        for (int attempt = 0; ; attempt++) {
            try {
                return call.get();
            } catch (StatusRuntimeException e) {
                if (e.getStatus().getCode() != Status.Code.ABORTED || attempt > 200) {
                    throw e;
                }
                Thread.sleep(300);
            }
        }
    }

    @Test
    void walkthroughAndSnapshot_moveTheCounts() throws Exception {
        Map<String, String> sc = Map.of("server", "127.0.0.1", "share", SHARE.toString());
        double startedAt = System.currentTimeMillis() / 1000.0;
        Scrape before = scrape();

        step("CreateVolume, NodePublishVolume, a write through the mount, NodeUnpublishVolume");
        Csi.Volume volume = driver.controller().createVolume(Provisioner.create("pvc-metrics", "ns", "data",
                1 << 30, sc, List.of())).getVolume();
        Path target = Kubelet.newTarget("pvc-metrics");
        driver.node().nodePublishVolume(Kubelet.publish(volume.getVolumeId(), target, volume.getVolumeContextMap(),
                false, List.of()));
        Shell.sh("head -c 2000000 /dev/urandom > " + target.resolve("payload") + " && sync").orThrow();
        driver.node().nodeUnpublishVolume(Kubelet.unpublish(volume.getVolumeId(), target));
        Scrape walked = scrape();

        assertThat(delta(before, walked, "nfs_csi_rpc_handled_total", "method", "CreateVolume", "code", "OK"))
                .isEqualTo(1);
        assertThat(delta(before, walked, "nfs_csi_rpc_handled_total", "method", "NodePublishVolume", "code", "OK"))
                .isEqualTo(1);
        assertThat(delta(before, walked, "nfs_csi_rpc_handled_total", "method", "NodeUnpublishVolume",
                "code", "OK")).isEqualTo(1);
        assertThat(delta(before, walked, "nfs_csi_rpc_duration_seconds_count", "method", "NodePublishVolume"))
                .isEqualTo(1);
        assertThat(delta(before, walked, "nfs_csi_mount_operations_total", "operation", "mount", "result", "ok"))
                .as("the record lookup's read-only mount of the share, the publish's mount, and the controller's"
                        + " share if it was not pooled yet").isBetween(2.0, 3.0);
        assertThat(delta(before, walked, "nfs_csi_mount_operations_total", "operation", "unmount",
                "result", "ok")).as("the record lookup's and the unpublish's").isEqualTo(2);
        assertThat(walked.value("nfs_csi_nfs_server_last_success_timestamp_seconds", "server", "127.0.0.1"))
                .isGreaterThanOrEqualTo(Math.floor(startedAt));
        assertThat(walked.value("nfs_csi_nfs_server_consecutive_failures", "server", "127.0.0.1")).isZero();
        assertThat(walked.value("nfs_csi_share_pool_mounted_shares", "pool", "controller")).isGreaterThanOrEqualTo(1);
        assertThat(walked.value("nfs_csi_share_pool_leases", "pool", "controller")).isZero();
        assertThat(walked.value("nfs_csi_bounded_io_stuck_calls")).isZero();

        step("CreateSnapshot until ready, then CreateVolume from it until the restore is done");
        var snapshotRequest = Csi.CreateSnapshotRequest.newBuilder().setName("snapshot-metrics")
                .setSourceVolumeId(volume.getVolumeId()).build();
        Csi.Snapshot snapshot = driver.controller().createSnapshot(snapshotRequest).getSnapshot();
        for (int i = 0; !snapshot.getReadyToUse() && i < 600; i++) {
            Thread.sleep(200);
            snapshot = driver.controller().createSnapshot(snapshotRequest).getSnapshot();
        }
        assertThat(snapshot.getReadyToUse()).isTrue();
        String snapshotId = snapshot.getSnapshotId();
        var restoreRequest = Provisioner.create("pvc-metrics-restored", "ns", "restored", 1 << 30, sc, List.of())
                .toBuilder().setVolumeContentSource(Csi.VolumeContentSource.newBuilder()
                        .setSnapshot(Csi.VolumeContentSource.SnapshotSource.newBuilder().setSnapshotId(snapshotId)))
                .build();
        retryWhileAborted(() -> driver.controller().createVolume(restoreRequest));
        Scrape after = scrape();

        assertThat(delta(walked, after, "nfs_csi_rpc_handled_total", "method", "CreateSnapshot", "code", "OK"))
                .isGreaterThanOrEqualTo(1);
        assertThat(delta(walked, after, "nfs_csi_rpc_handled_total", "method", "CreateVolume", "code", "OK"))
                .isEqualTo(1);
        assertThat(delta(walked, after, "nfs_csi_jobs_ended_total", "kind", "snapshot", "outcome", "ok"))
                .isEqualTo(1);
        assertThat(delta(walked, after, "nfs_csi_jobs_ended_total", "kind", "restore", "outcome", "ok"))
                .isEqualTo(1);
        assertThat(delta(walked, after, "nfs_csi_job_bytes_done_total", "kind", "snapshot"))
                .isGreaterThanOrEqualTo(2_000_000);
        assertThat(delta(walked, after, "nfs_csi_job_bytes_done_total", "kind", "restore"))
                .isGreaterThanOrEqualTo(2_000_000);
        assertThat(after.value("nfs_csi_jobs_in_flight")).isZero();
        assertThat(after.value("jvm_memory_used_bytes", "area", "heap")).isGreaterThan(0);
        assertThat(after.value("process_open_fds")).isGreaterThan(0);
        assertThat(driver.log()).contains("serving metrics on 127.0.0.1:" + port);

        step("DeleteVolume of the restored volume: its tree delete counts as a job");
        Csi.Volume restored = retryWhileAborted(() -> driver.controller().createVolume(restoreRequest)).getVolume();
        driver.controller().deleteVolume(Provisioner.delete(restored.getVolumeId()));
        Scrape deleted = scrape();
        assertThat(delta(after, deleted, "nfs_csi_jobs_ended_total", "kind", "delete", "outcome", "ok"))
                .isEqualTo(1);
        assertThat(delta(after, deleted, "nfs_csi_job_entries_done_total", "kind", "delete"))
                .as("the payload and the volume's directory").isGreaterThanOrEqualTo(2);
    }
}
