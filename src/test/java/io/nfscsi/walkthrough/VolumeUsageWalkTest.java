package io.nfscsi.walkthrough;

import static io.nfscsi.testbed.Shell.step;
import static org.assertj.core.api.Assertions.assertThat;

import io.nfscsi.csi.v1.Csi;
import io.nfscsi.mount.MountTable;
import io.nfscsi.testbed.DriverProcess;
import io.nfscsi.testbed.Shell;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * {@code --volume-usage=walk} against the real NFS server: NodeGetVolumeStats reports the volume's own used bytes
 * and inodes (what a walk of its directory found), with the export's capacity and available space; a symbolic link
 * from the volume to a big file outside it is counted as a link, not followed; a write shows once the TTL has
 * passed and a new walk ended. A driver with the default {@code --volume-usage} (export) reports the export's used
 * figures, as before, which include the file outside the volume.
 */
@Tag("nfs")
class VolumeUsageWalkTest {

    static final Path SHARE = Path.of("/export-usagewalk");
    static final Path VOLUME = SHARE.resolve("pvc-walk");
    static final Map<String, String> PV = Map.of("server", "127.0.0.1", "share", SHARE.toString(),
            "subDir", VOLUME.getFileName().toString());
    static final long MIB = 1 << 20;
    static final long OUTSIDE = 16 * MIB;
    static DriverProcess walk;
    static DriverProcess export;

    @BeforeAll
    static void start() throws Exception {
        Shell.sh("mkdir -p " + SHARE + " && (mountpoint -q " + SHARE + " || mount -t tmpfs -o size=128m usagewalk "
                + SHARE + ") && exportfs -o rw,no_root_squash,no_subtree_check,insecure,fsid=95 127.0.0.0/8:"
                + SHARE).orThrow();
        walk = DriverProcess.start(Path.of("/run/nfs-csi-usagewalk"), "--volume-usage=walk",
                "--volume-usage-ttl=10s", "--volume-stats-cache-ttl=0");
        export = DriverProcess.start(Path.of("/run/nfs-csi-usageexport"), "--volume-stats-cache-ttl=0");
    }

    @AfterAll
    static void stop() {
        if (walk != null) {
            walk.close();
        }
        if (export != null) {
            export.close();
        }
        Shell.sh("exportfs -u 127.0.0.0/8:" + SHARE + "; umount " + SHARE + "; true");
    }

    static Csi.NodeGetVolumeStatsResponse stats(DriverProcess driver, Path target) {
        return driver.node().withDeadlineAfter(60, TimeUnit.SECONDS).nodeGetVolumeStats(Kubelet.stats("pvc-walk",
                target));
    }

    static Csi.VolumeUsage usage(Csi.NodeGetVolumeStatsResponse r, Csi.VolumeUsage.Unit unit) {
        return r.getUsageList().stream().filter(u -> u.getUnit() == unit).findFirst()
                .orElseThrow(() -> new AssertionError("no " + unit + " usage in " + r));
    }

    /** Asks until {@code done} holds, for at most two minutes (the TTL is 10s); the last answer either way. */
    static Csi.NodeGetVolumeStatsResponse statsUntil(DriverProcess driver, Path target,
                                                     Predicate<Csi.NodeGetVolumeStatsResponse> done)
            throws InterruptedException {
        Csi.NodeGetVolumeStatsResponse r = stats(driver, target);
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (!done.test(r) && System.nanoTime() < until) {
            Thread.sleep(500);
            r = stats(driver, target);
        }
        return r;
    }

    static boolean usedAtLeast(Csi.NodeGetVolumeStatsResponse r, long bytes) {
        return r.getUsageList().stream().anyMatch(u -> u.getUnit() == Csi.VolumeUsage.Unit.BYTES
                && u.getUsed() >= bytes);
    }

    @Test
    void walk_reportsTheVolumesOwnUsage_withTheExportsCapacity_andFollowsNoLink() throws Exception {
        Shell.sh("mkdir -p " + VOLUME + " && head -c " + OUTSIDE + " /dev/urandom > " + SHARE + "/outside").orThrow();
        Path target = Kubelet.newTarget("pvc-walk");
        Path other = Kubelet.newTarget("pvc-walk");
        walk.node().nodePublishVolume(Kubelet.publish("pvc-walk", target, PV, false, List.of("vers=4.1")));
        export.node().nodePublishVolume(Kubelet.publish("pvc-walk", other, PV, false, List.of("vers=4.1")));
        try {
            // 3 MiB + 1 MiB + 512 KiB in 3 files, 2 directories, 2 links (one to the file outside, one to "..")
            Files.createDirectories(target.resolve("a/b"));
            Files.write(target.resolve("a/three"), new byte[3 << 20]);
            Files.write(target.resolve("a/b/one"), new byte[1 << 20]);
            Files.write(target.resolve("half"), new byte[1 << 19]);
            Files.createSymbolicLink(target.resolve("escape"), SHARE.resolve("outside"));
            Files.createSymbolicLink(target.resolve("a/up"), Path.of(".."));
            Shell.sh("sync").orThrow();
            long written = (3 << 20) + (1 << 20) + (1 << 19);
            step("wrote " + written + " bytes in " + target + "; " + OUTSIDE + " bytes outside the volume");

            var first = stats(walk, target);
            assertThat(first.getVolumeCondition().getAbnormal()).as(first.toString()).isFalse();
            var walked = statsUntil(walk, target, r -> !r.getUsageList().isEmpty());
            step("walk: " + walked.getUsageList());
            var bytes = usage(walked, Csi.VolumeUsage.Unit.BYTES);
            var inodes = usage(walked, Csi.VolumeUsage.Unit.INODES);
            assertThat(bytes.getUsed()).as("the volume's files, each rounded up to whole blocks, and 3 directories")
                    .isBetween(written, written + 256 * 1024);
            assertThat(inodes.getUsed()).as("the volume's root, a, a/b, 3 files, 2 links").isEqualTo(8);

            var exported = stats(export, other);
            step("export: " + exported.getUsageList());
            var exportBytes = usage(exported, Csi.VolumeUsage.Unit.BYTES);
            var exportInodes = usage(exported, Csi.VolumeUsage.Unit.INODES);
            assertThat(exportBytes.getUsed()).as("the export's used bytes, the file outside the volume too")
                    .isGreaterThanOrEqualTo(written + OUTSIDE);
            assertThat(bytes.getTotal()).as("the export's capacity").isEqualTo(exportBytes.getTotal());
            assertThat(bytes.getAvailable()).as("the export's available bytes")
                    .isEqualTo(exportBytes.getAvailable());
            assertThat(inodes.getTotal()).isEqualTo(exportInodes.getTotal());

            step("writing 2 MiB more; the figure follows once the 10s TTL has passed");
            Files.write(target.resolve("a/b/two"), new byte[2 << 20]);
            Shell.sh("sync").orThrow();
            var later = statsUntil(walk, target, r -> usedAtLeast(r, written + (2 << 20)));
            assertThat(usage(later, Csi.VolumeUsage.Unit.BYTES).getUsed())
                    .isBetween(written + (2 << 20), written + (2 << 20) + 256 * 1024);
            assertThat(usage(later, Csi.VolumeUsage.Unit.INODES).getUsed()).isEqualTo(9);
        } finally {
            walk.node().nodeUnpublishVolume(Kubelet.unpublish("pvc-walk", target));
            export.node().nodeUnpublishVolume(Kubelet.unpublish("pvc-walk", other));
        }
        assertThat(MountTable.read().isMountPoint(target)).isFalse();
    }
}
