package io.nfscsi.walkthrough;

import static io.nfscsi.testbed.Shell.step;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.nfscsi.csi.v1.Csi;
import io.nfscsi.csi.v1.Csi.VolumeCapability.AccessMode.Mode;
import io.nfscsi.mount.MountTable;
import io.nfscsi.testbed.DriverProcess;
import io.nfscsi.testbed.Shell;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The node's answers where the spec's tables name them, against the real NFS server and a real driver process:
 * access modes across target paths (also across a driver restart), a stale target mounted again, a hung target
 * left alone, and the NOT_FOUND rows of NodeGetVolumeStats and NodeUnpublishVolume. After each test nothing of it is
 * mounted and none of its target directories is left.
 */
@Tag("nfs")
class NodeContractTest {

    static final Path SHARE = Path.of("/export-nodecontract");
    static final Path DRIVER_DIR = Path.of("/run/nfs-csi-nodecontract");
    static final Map<String, String> PV = Map.of("server", "127.0.0.1", "share", SHARE.toString());
    static final Duration STATS_TIMEOUT = Duration.ofSeconds(2);
    static DriverProcess driver;

    /** The targets this test made; each must be gone (not mounted, no directory) when it ends. */
    final List<Path> targets = new ArrayList<>();
    /** (volume, target) pairs published by this test, unpublished after it if it failed half-way. */
    final List<String[]> published = new ArrayList<>();

    @BeforeAll
    static void start() throws Exception {
        export(81);
        driver = startDriver();
    }

    static DriverProcess startDriver() throws Exception {
        return DriverProcess.start(DRIVER_DIR, "--stats-timeout", STATS_TIMEOUT.toSeconds() + "s");
    }

    @AfterAll
    static void stop() throws Exception {
        if (driver != null) {
            driver.close();
        }
    }

    @AfterEach
    void nothingLeft() {
        Shell.sh("rpc.nfsd 8 && echo Y > /proc/fs/nfsd/v4_end_grace 2>/dev/null; true").orThrow();
        for (String[] p : published) {
            try {
                driver.node().nodeUnpublishVolume(Kubelet.unpublish(p[0], Path.of(p[1])));
            } catch (StatusRuntimeException ignored) {
                // the assertions below say what is left
            }
        }
        MountTable table = MountTable.read();
        for (Path t : targets) {
            assertThat(table.isMountPoint(t)).as("%s still mounted", t).isFalse();
            assertThat(t).as("target directory left behind").doesNotExist();
        }
    }

    /** A fresh tmpfs exported at {@link #SHARE} under {@code fsid}: every file handle of the previous one is stale. */
    static void export(int fsid) {
        Shell.sh("exportfs -u 127.0.0.0/8:" + SHARE + " 2>/dev/null; mountpoint -q " + SHARE + " && umount " + SHARE
                + "; mkdir -p " + SHARE + " && mount -t tmpfs -o size=16m nodecontract" + fsid + " " + SHARE
                + " && exportfs -o rw,no_root_squash,no_subtree_check,insecure,fsid=" + fsid + " 127.0.0.0/8:"
                + SHARE).orThrow();
    }

    Path newTarget(String pv) throws Exception {
        Path t = Kubelet.newTarget(pv);
        targets.add(t);
        return t;
    }

    void publish(String volumeId, Path target, Mode mode, boolean readOnly) {
        driver.node().nodePublishVolume(request(volumeId, target, mode, readOnly));
        published.add(new String[] {volumeId, target.toString()});
    }

    void unpublish(String volumeId, Path target) {
        driver.node().nodeUnpublishVolume(Kubelet.unpublish(volumeId, target));
    }

    static Csi.NodePublishVolumeRequest request(String volumeId, Path target, Mode mode, boolean readOnly) {
        Csi.NodePublishVolumeRequest r = Kubelet.publish(volumeId, target, PV, readOnly, List.of("vers=4.1"));
        return r.toBuilder().setVolumeCapability(r.getVolumeCapability().toBuilder()
                .setAccessMode(Csi.VolumeCapability.AccessMode.newBuilder().setMode(mode))).build();
    }

    static Status assertCode(Runnable call, Status.Code code) {
        StatusRuntimeException[] caught = new StatusRuntimeException[1];
        assertThatThrownBy(call::run).isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
            assertThat(e.getStatus().getCode()).as(e.getStatus().toString()).isEqualTo(code);
            caught[0] = e;
        });
        return caught[0].getStatus();
    }

    @ParameterizedTest
    @EnumSource(value = Mode.class, names = {"SINGLE_NODE_WRITER", "SINGLE_NODE_SINGLE_WRITER"})
    void singleWriter_atASecondTarget_isFailedPrecondition_alsoAfterADriverRestart(Mode mode) throws Exception {
        String volume = "sw-" + mode.getNumber();
        Path first = newTarget("sw-pv");
        Path second = newTarget("sw-pv");
        step("publishing " + volume + " (" + mode + ") at " + first);
        publish(volume, first, mode, false);

        Status s = assertCode(() -> publish(volume, second, mode, false), Status.Code.FAILED_PRECONDITION);
        step("at a second target: " + s);
        assertThat(s.getDescription()).contains(first.toString());
        assertThat(MountTable.read().isMountPoint(second)).isFalse();
        assertThat(second).doesNotExist();

        step("restarting the driver; the mount at " + first + " stays");
        driver.terminate();
        driver.close();
        driver = startDriver();
        assertThat(MountTable.read().isMountPoint(first)).isTrue();
        s = assertCode(() -> publish(volume, second, mode, false), Status.Code.FAILED_PRECONDITION);
        assertThat(s.getDescription()).contains(first.toString());
        assertThat(second).doesNotExist();

        step("the same publish at the first target stays idempotent");
        publish(volume, first, mode, false);
        assertThat(MountTable.read().countAt(first)).isEqualTo(1);

        step("unpublished at the first target, the volume may go to the second");
        unpublish(volume, first);
        publish(volume, second, mode, false);
        assertThat(MountTable.read().isMountPoint(second)).isTrue();
        unpublish(volume, second);
    }

    @Test
    void multiWriterAndReadOnly_atManyTargets_areOk() throws Exception {
        Path a = newTarget("mw-pv");
        Path b = newTarget("mw-pv");
        Path c = newTarget("mw-pv");
        publish("mw", a, Mode.SINGLE_NODE_MULTI_WRITER, false);
        publish("mw", b, Mode.SINGLE_NODE_MULTI_WRITER, false);
        publish("mw", c, Mode.MULTI_NODE_READER_ONLY, true);
        new Pod(a).exec("echo shared > mw-file").orThrow();
        assertThat(new Pod(b).exec("cat mw-file").orThrow().output()).contains("shared");
        assertThat(new Pod(c).exec("cat mw-file").orThrow().output()).contains("shared");
        assertThat(new Pod(c).exec("echo x > ro-file").exitCode()).isNotZero();
        for (Path t : List.of(a, b, c)) {
            unpublish("mw", t);
        }
    }

    @Test
    void staleTarget_isUnmountedAndMountedAgain() throws Exception {
        Path target = newTarget("stale-pv");
        publish("stale", target, Mode.SINGLE_NODE_MULTI_WRITER, false);
        new Pod(target).exec("echo before > before-file").orThrow();
        step("the server replaces the exported file system under the published volume");
        export(82);
        Shell.Result ls = Shell.sh("ls " + target);
        assertThat(ls.output()).as("the target is stale before the publish").containsIgnoringCase("stale");
        var stats = driver.node().nodeGetVolumeStats(Kubelet.stats("stale", target));
        assertThat(stats.getVolumeCondition().getAbnormal()).isTrue();

        step("kubelet publishes again (a restarted pod)");
        publish("stale", target, Mode.SINGLE_NODE_MULTI_WRITER, false);
        Files.writeString(SHARE.resolve("after-file"), "after");
        assertThat(new Pod(target).exec("cat after-file").orThrow().output()).contains("after");
        assertThat(MountTable.read().countAt(target)).isEqualTo(1);
        assertThat(driver.log()).contains("stale file handle");
        assertThat(driver.node().nodeGetVolumeStats(Kubelet.stats("stale", target)).getVolumeCondition()
                .getAbnormal()).isFalse();
        unpublish("stale", target);
    }

    @Test
    void hungTarget_isNotStale_andAPublishAnswersOkWithinTheStatsTimeout() throws Exception {
        Path target = newTarget("hung-pv");
        publish("hung", target, Mode.SINGLE_NODE_MULTI_WRITER, false);
        step("stopping nfsd under the published volume");
        Shell.sh("rpc.nfsd 0").orThrow();
        long start = System.nanoTime();
        publish("hung", target, Mode.SINGLE_NODE_MULTI_WRITER, false);
        Duration took = Duration.ofNanos(System.nanoTime() - start);
        step("NodePublishVolume of the hung target answered OK after " + took.toMillis() + " ms");
        assertThat(took).isLessThan(STATS_TIMEOUT.plusSeconds(5));
        assertThat(MountTable.read().countAt(target)).isEqualTo(1);
        unpublish("hung", target);
    }

    @Test
    void volumeStats_notWhereTheVolumeIsPublished_isNotFound() throws Exception {
        Path target = newTarget("stats-pv");
        Path other = newTarget("stats-other-pv");
        publish("stats", target, Mode.SINGLE_NODE_MULTI_WRITER, false);
        publish("stats-other", other, Mode.SINGLE_NODE_MULTI_WRITER, false);
        assertThat(driver.node().nodeGetVolumeStats(Kubelet.stats("stats", target)).getUsageCount()).isEqualTo(2);

        for (String path : List.of("some/path", "/no/such/path", target.getParent().toString(), other.toString())) {
            step("NodeGetVolumeStats of volume stats at " + path);
            assertCode(() -> driver.node().nodeGetVolumeStats(Csi.NodeGetVolumeStatsRequest.newBuilder()
                    .setVolumeId("stats").setVolumePath(path).build()), Status.Code.NOT_FOUND);
        }
        assertCode(() -> driver.node().nodeGetVolumeStats(Csi.NodeGetVolumeStatsRequest.newBuilder()
                .setVolumeId("stats").build()), Status.Code.INVALID_ARGUMENT);

        step("after a driver restart the published target is still known");
        driver.terminate();
        driver.close();
        driver = startDriver();
        assertThat(driver.node().nodeGetVolumeStats(Kubelet.stats("stats", target)).getUsageCount()).isEqualTo(2);
        assertCode(() -> driver.node().nodeGetVolumeStats(Kubelet.stats("stats", other)), Status.Code.NOT_FOUND);
        unpublish("stats", target);
        unpublish("stats-other", other);
        assertCode(() -> driver.node().nodeGetVolumeStats(Kubelet.stats("stats", target)), Status.Code.NOT_FOUND);
    }

    @Test
    void unpublish_edgeCases() throws Exception {
        Path target = newTarget("unpub-pv");
        step("a target that was never made: OK");
        unpublish("unpub", target);
        publish("unpub", target, Mode.SINGLE_NODE_MULTI_WRITER, false);
        step("another volume's target: NOT_FOUND, and its mount stays");
        assertCode(() -> unpublish("not-there", target), Status.Code.NOT_FOUND);
        assertThat(MountTable.read().isMountPoint(target)).isTrue();
        unpublish("unpub", target);
        step("again: OK");
        unpublish("unpub", target);
    }
}
