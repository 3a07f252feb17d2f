package io.nfscsi.walkthrough;

import static io.nfscsi.testbed.Shell.step;
import static io.nfscsi.walkthrough.StaticVolumeWalkthroughTest.EXPORT;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.nfscsi.csi.v1.Csi;
import io.nfscsi.mount.MountTable;
import io.nfscsi.testbed.DriverProcess;
import io.nfscsi.testbed.Shell;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * A server that stops answering must not wedge the node: mounts give up at the mount timeout and leave nothing
 * behind, stats report an abnormal volume instead of blocking, unpublish still detaches, and Probe keeps answering.
 * Each test stops the kernel NFS server and starts it again afterwards.
 */
@Tag("nfs")
class UnresponsiveServerTest {

    static final Duration MOUNT_TIMEOUT = Duration.ofSeconds(5);
    static final Map<String, String> PV = Map.of("server", "127.0.0.1", "share", EXPORT.toString());
    static DriverProcess driver;

    @BeforeAll
    static void startDriver() throws Exception {
        driver = DriverProcess.start(Path.of("/run/nfs-csi-faults"), "--mount-timeout", "5s",
                "--stats-timeout", "2s");
    }

    @AfterAll
    static void stopDriver() throws Exception {
        if (driver != null) {
            driver.close();
        }
    }

    @AfterEach
    void restartServer() {
        Shell.sh("rpc.nfsd 8 && echo Y > /proc/fs/nfsd/v4_end_grace 2>/dev/null; true").orThrow();
    }

    static void stopServer() {
        Shell.sh("rpc.nfsd 0").orThrow();
    }

    @Test
    void publish_toAStoppedServer_isUnavailableAtTheMountTimeout_andProbeKeepsAnswering() throws Exception {
        step("stopping nfsd; publishing with --mount-timeout " + MOUNT_TIMEOUT.toSeconds() + "s");
        stopServer();
        Path target = Kubelet.newTarget("dead-pv");
        AtomicBoolean done = new AtomicBoolean();
        AtomicInteger probes = new AtomicInteger();
        CompletableFuture<Void> prober = CompletableFuture.runAsync(() -> {
            while (!done.get()) {
                var ready = driver.identity().withDeadlineAfter(2, java.util.concurrent.TimeUnit.SECONDS)
                        .probe(Csi.ProbeRequest.getDefaultInstance());
                assertThat(ready.getReady().getValue()).isTrue();
                probes.incrementAndGet();
                try {
                    Thread.sleep(200);
                } catch (InterruptedException e) {
                    return;
                }
            }
        });
        long start = System.nanoTime();
        try {
            assertThatThrownBy(() -> driver.node().nodePublishVolume(
                    Kubelet.publish("dead", target, PV, false, List.of("vers=4.1"))))
                    .isInstanceOfSatisfying(StatusRuntimeException.class, e -> assertThat(e.getStatus().getCode())
                            .as(e.getStatus().toString()).isEqualTo(Status.Code.UNAVAILABLE));
        } finally {
            done.set(true);
        }
        Duration took = Duration.ofNanos(System.nanoTime() - start);
        prober.get();
        // the driver's --mount-timeout expired while the caller's deadline (120 s) had time left: the server did not
        // answer, UNAVAILABLE; DEADLINE_EXCEEDED is for the caller's own deadline
        step("UNAVAILABLE after " + took.toMillis() + " ms; " + probes.get() + " Probe calls answered meanwhile");
        assertThat(took).isLessThan(MOUNT_TIMEOUT.plusSeconds(5));
        assertThat(probes.get()).isGreaterThan(3);
        assertThat(mountProcesses()).as("mount processes left behind").isEmpty();
        assertThat(MountTable.read().isMountPoint(target)).isFalse();
        assertThat(target).doesNotExist();
    }

    @Test
    void stats_ofAHungMount_reportAbnormalInsteadOfBlocking_andUnpublishStillDetaches() throws Exception {
        Path target = Kubelet.newTarget("hung-pv");
        driver.node().nodePublishVolume(Kubelet.publish("hung", target, PV, false, List.of("vers=4.1", "hard")));
        step("published; stopping nfsd under the mounted volume");
        stopServer();

        long start = System.nanoTime();
        var first = driver.node().nodeGetVolumeStats(Kubelet.stats("hung", target));
        long firstMs = (System.nanoTime() - start) / 1_000_000;
        step("NodeGetVolumeStats after " + firstMs + " ms: abnormal=" + first.getVolumeCondition().getAbnormal()
                + " (" + first.getVolumeCondition().getMessage() + ")");
        assertThat(first.getVolumeCondition().getAbnormal()).isTrue();
        assertThat(first.getUsageList()).isEmpty();

        start = System.nanoTime();
        var second = driver.node().nodeGetVolumeStats(Kubelet.stats("hung", target));
        step("second NodeGetVolumeStats after " + (System.nanoTime() - start) / 1_000_000 + " ms: "
                + second.getVolumeCondition().getMessage());
        assertThat(second.getVolumeCondition().getAbnormal()).isTrue();

        start = System.nanoTime();
        driver.node().nodeUnpublishVolume(Kubelet.unpublish("hung", target));
        step("NodeUnpublishVolume of the hung mount took " + (System.nanoTime() - start) / 1_000_000 + " ms");
        assertThat(MountTable.read().isMountPoint(target)).isFalse();
        assertThat(target).doesNotExist();
        assertThat(driver.identity().probe(Csi.ProbeRequest.getDefaultInstance()).getReady().getValue()).isTrue();
    }

    /** mount and mount.nfs processes still alive. */
    static List<String> mountProcesses() {
        return ProcessHandle.allProcesses()
                .filter(p -> p.info().command().map(c -> c.endsWith("/mount") || c.endsWith("mount.nfs")
                        || c.endsWith("mount.nfs4")).orElse(false))
                .map(p -> p.pid() + " " + p.info().commandLine().orElse("?"))
                .toList();
    }
}
