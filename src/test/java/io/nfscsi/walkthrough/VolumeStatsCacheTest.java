package io.nfscsi.walkthrough;

import static io.nfscsi.testbed.Shell.step;
import static org.assertj.core.api.Assertions.assertThat;

import io.nfscsi.csi.v1.Csi;
import io.nfscsi.mount.MountTable;
import io.nfscsi.testbed.DriverProcess;
import io.nfscsi.testbed.Shell;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * NodeGetVolumeStats with the usage cache, against the real NFS server: usage read once is served again for the
 * TTL (a file written on the server meanwhile does not show), while the volume's condition is checked on every
 * call: once every packet on lo is dropped ({@code tc ... netem loss 100%}), the very next call answers abnormal,
 * with the usage still kept. When the packets flow again, the condition comes back normal and the usage is read
 * afresh (the failed check dropped the kept usage).
 */
@Tag("nfs")
class VolumeStatsCacheTest {

    static final Path SHARE = Path.of("/export-statscache");
    static final Map<String, String> PV = Map.of("server", "127.0.0.1", "share", SHARE.toString());
    static final long WRITTEN = 8L << 20;
    static DriverProcess driver;

    @BeforeAll
    static void start() throws Exception {
        Shell.sh("mkdir -p " + SHARE + " && (mountpoint -q " + SHARE + " || mount -t tmpfs -o size=64m statscache "
                + SHARE + ") && exportfs -o rw,no_root_squash,no_subtree_check,insecure,fsid=94 127.0.0.0/8:"
                + SHARE).orThrow();
        driver = DriverProcess.start(Path.of("/run/nfs-csi-statscache"), "--stats-timeout", "10s",
                "--volume-stats-cache-ttl", "10m");
    }

    @AfterAll
    static void stop() {
        Shell.sh("tc qdisc del dev lo root 2>/dev/null; true");
        if (driver != null) {
            driver.close();
        }
        Shell.sh("exportfs -u 127.0.0.0/8:" + SHARE + "; umount " + SHARE + "; true");
    }

    static Csi.NodeGetVolumeStatsResponse stats(Path target) {
        return driver.node().withDeadlineAfter(60, TimeUnit.SECONDS)
                .nodeGetVolumeStats(Kubelet.stats("cached", target));
    }

    static long usedBytes(Csi.NodeGetVolumeStatsResponse r) {
        return r.getUsageList().stream().filter(u -> u.getUnit() == Csi.VolumeUsage.Unit.BYTES).findFirst()
                .orElseThrow(() -> new AssertionError("no bytes usage in " + r)).getUsed();
    }

    @Test
    void keptUsage_isServed_butAnUnreachableServer_isAbnormalAtTheNextCall() throws Exception {
        Path target = Kubelet.newTarget("statscache-pv");
        driver.node().nodePublishVolume(Kubelet.publish("cached", target, PV, false, List.of("vers=4.1")));
        try {
            var first = stats(target);
            assertThat(first.getVolumeCondition().getAbnormal()).as(first.toString()).isFalse();
            long used = usedBytes(first);
            step("published at " + target + "; used " + used + " bytes; the server side writes " + WRITTEN);
            Shell.sh("head -c " + WRITTEN + " /dev/zero > " + SHARE + "/written && sync").orThrow();

            var second = stats(target);
            assertThat(second.getVolumeCondition().getAbnormal()).isFalse();
            assertThat(usedBytes(second)).as("the kept usage is served within the TTL").isEqualTo(used);

            step("dropping every packet on lo");
            Shell.sh("modprobe sch_netem; tc qdisc del dev lo root 2>/dev/null; "
                    + "tc qdisc add dev lo root netem loss 100%").orThrow();
            var third = stats(target);
            step("the next call: " + third.getVolumeCondition());
            assertThat(third.getVolumeCondition().getAbnormal()).as(third.toString()).isTrue();
            assertThat(third.getUsageList()).as("no usage from a volume that did not answer").isEmpty();
            var fourth = stats(target);
            assertThat(fourth.getVolumeCondition().getAbnormal()).as("while the check is still blocked").isTrue();

            step("packets flow again; waiting for the blocked check to return");
            Shell.sh("tc qdisc del dev lo root").orThrow();
            Csi.NodeGetVolumeStatsResponse recovered = fourth;
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(180);
            while (recovered.getVolumeCondition().getAbnormal() && System.nanoTime() < until) {
                Thread.sleep(500);
                recovered = stats(target);
            }
            assertThat(recovered.getVolumeCondition().getAbnormal()).as(recovered.toString()).isFalse();
            assertThat(usedBytes(recovered)).as("usage read afresh after the failed check")
                    .isGreaterThanOrEqualTo(used + WRITTEN);
        } finally {
            Shell.sh("tc qdisc del dev lo root 2>/dev/null; true");
            driver.node().nodeUnpublishVolume(Kubelet.unpublish("cached", target));
        }
        assertThat(MountTable.read().isMountPoint(target)).isFalse();
    }

    /** NodeGetVolumeStats of {@code target}, {@code callers} at once; the answers in the callers' order. */
    static List<Csi.NodeGetVolumeStatsResponse> together(Path target, String volumeId, int callers)
            throws Exception {
        try (ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor()) {
            List<CompletableFuture<Csi.NodeGetVolumeStatsResponse>> calls = new ArrayList<>();
            CountDownLatch go = new CountDownLatch(1);
            for (int i = 0; i < callers; i++) {
                calls.add(CompletableFuture.supplyAsync(() -> {
                    try {
                        go.await();
                    } catch (InterruptedException e) {
                        throw new IllegalStateException(e);
                    }
                    return driver.node().withDeadlineAfter(60, TimeUnit.SECONDS)
                            .nodeGetVolumeStats(Kubelet.stats(volumeId, target));
                }, threads));
            }
            go.countDown();
            List<Csi.NodeGetVolumeStatsResponse> answers = new ArrayList<>();
            for (var c : calls) {
                answers.add(c.get());
            }
            return answers;
        }
    }

    /**
     * Concurrent calls of one volume, each checked live: callers at once on a healthy volume all get a normal
     * condition and usage; on
     * a volume whose server does not answer they all get an abnormal condition at the driver's stats timeout,
     * before their own deadline, rather than a blocked or failed call.
     */
    @Test
    void concurrentCalls_allNormalWhenHealthy_allAbnormalWhenTheServerIsGone() throws Exception {
        Path target = Kubelet.newTarget("statsshared-pv");
        driver.node().nodePublishVolume(Kubelet.publish("shared", target, PV, false, List.of("vers=4.1")));
        try {
            for (int round = 0; round < 10; round++) {
                for (var answer : together(target, "shared", 4)) {
                    assertThat(answer.getVolumeCondition().getAbnormal()).as(answer.toString()).isFalse();
                    assertThat(answer.getUsageList()).hasSize(2);
                }
            }
            step("40 concurrent calls answered normal; dropping every packet on lo");
            Shell.sh("modprobe sch_netem; tc qdisc del dev lo root 2>/dev/null; "
                    + "tc qdisc add dev lo root netem loss 100%").orThrow();
            for (var answer : together(target, "shared", 2)) {
                step("while the server does not answer: " + answer.getVolumeCondition());
                assertThat(answer.getVolumeCondition().getAbnormal()).as(answer.toString()).isTrue();
                assertThat(answer.getUsageList()).isEmpty();
            }
            Shell.sh("tc qdisc del dev lo root").orThrow();
            Csi.NodeGetVolumeStatsResponse recovered = together(target, "shared", 1).getFirst();
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(180);
            while (recovered.getVolumeCondition().getAbnormal() && System.nanoTime() < until) {
                Thread.sleep(500);
                recovered = together(target, "shared", 1).getFirst();
            }
            assertThat(recovered.getVolumeCondition().getAbnormal()).as(recovered.toString()).isFalse();
        } finally {
            Shell.sh("tc qdisc del dev lo root 2>/dev/null; true");
            driver.node().nodeUnpublishVolume(Kubelet.unpublish("shared", target));
        }
    }
}
