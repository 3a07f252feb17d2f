package io.nfscsi.walkthrough;

import static io.nfscsi.testbed.Shell.step;
import static io.nfscsi.walkthrough.StaticVolumeWalkthroughTest.EXPORT;
import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.nfscsi.csi.v1.Csi;
import io.nfscsi.testbed.DriverProcess;
import io.nfscsi.testbed.Shell;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Two controller replicas on one share (issue 9, item 4): a restore started on replica A, A paused (SIGSTOP: its
 * heartbeat stops with it) while replica B takes the restore over after the staleness bound and completes it, then
 * A resumed (SIGCONT). The restored volume is complete, and A's job, which finds that it lost the volume, removes
 * nothing of it. Two driver processes on their own sockets, {@code --replica-id} replica-a and replica-b.
 */
@Tag("nfs")
class TwoReplicasTest {

    static final Path SHARE = EXPORT.resolve("replicas");
    static final String STALE = "4s";
    static final int SMALL_FILES = 800;
    static DriverProcess a;
    static DriverProcess b;

    @BeforeAll
    static void start() throws Exception {
        Files.createDirectories(SHARE);
        // one after the other: on the test bed's one CPU, two JVMs starting at once starve each other's Probe
        a = DriverProcess.start(Path.of("/run/nfs-csi-replica-a"), "--replica-id", "replica-a",
                "--owner-stale-after", STALE);
        b = DriverProcess.start(Path.of("/run/nfs-csi-replica-b"), "--replica-id", "replica-b",
                "--owner-stale-after", STALE);
    }

    @AfterAll
    static void stop() throws Exception {
        for (DriverProcess d : new DriverProcess[] {a, b}) {
            if (d != null) {
                Shell.sh("kill -CONT " + d.process().pid());
                d.close();
            }
        }
    }

    static Csi.CreateVolumeRequest request(String pv, Csi.VolumeContentSource source) {
        var b = Provisioner.create(pv, "ns", pv, 1L << 30, Map.of("server", "127.0.0.1", "share", SHARE.toString()),
                List.of()).toBuilder();
        if (source != null) {
            b.setVolumeContentSource(source);
        }
        return b.build();
    }

    /** CreateVolume until it is no longer ABORTED; the ABORTED messages seen go to {@code seen}. */
    static Csi.Volume createRetrying(DriverProcess driver, Csi.CreateVolumeRequest request, List<String> seen)
            throws InterruptedException {
        for (int attempt = 0; ; attempt++) {
            try {
                return driver.controller().createVolume(request).getVolume();
            } catch (StatusRuntimeException e) {
                if (e.getStatus().getCode() != Status.Code.ABORTED || attempt > 400) {
                    throw e;
                }
                seen.add(e.getStatus().getDescription());
                Thread.sleep(250);
            }
        }
    }

    /** Every file below {@code dir}: its path, size and content, hashed in path order; and how many files. */
    static String digest(Path dir, long[] files) throws IOException {
        MessageDigest sha = sha256();
        List<Path> all;
        try (Stream<Path> walk = Files.walk(dir)) {
            all = walk.filter(Files::isRegularFile).sorted().toList();
        }
        byte[] buffer = new byte[1 << 16];
        for (Path f : all) {
            sha.update(dir.relativize(f).toString().getBytes(StandardCharsets.UTF_8));
            try (InputStream in = Files.newInputStream(f)) {
                for (int n; (n = in.read(buffer)) > 0; ) {
                    sha.update(buffer, 0, n);
                }
            }
        }
        files[0] = all.size();
        return HexFormat.of().formatHex(sha.digest());
    }

    static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    static long entries(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return 0;
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            return walk.count() - 1;
        }
    }

    static long ownerRecords() throws IOException {
        Path dir = SHARE.resolve(".nfs-csi/owners");
        if (!Files.isDirectory(dir)) {
            return 0;
        }
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(f -> !f.getFileName().toString().startsWith(".")).count();
        }
    }

    @Test
    void restore_ownerPaused_isTakenOverAndCompleted_andTheResumedOwnerRemovesNothing() throws Exception {
        step("a source volume of " + SMALL_FILES + " small files and an 8 MiB one, and its snapshot (no compression)");
        String source = a.controller().createVolume(request("pvc-src", null)).getVolume().getVolumeId();
        Path src = SHARE.resolve("pvc-src");
        Random random = new Random(4);
        byte[] small = new byte[8 << 10];
        for (int i = 0; i < SMALL_FILES; i++) {
            random.nextBytes(small);
            Files.write(src.resolve(String.format("d%02d-f%04d", i % 30, i)), small);
        }
        byte[] big = new byte[8 << 20];
        for (int i = 0; i < 1; i++) {
            random.nextBytes(big);
            Files.write(src.resolve("big-" + i), big);
        }
        long[] sourceFiles = new long[1];
        String sourceDigest = digest(src, sourceFiles);
        var snapRequest = Csi.CreateSnapshotRequest.newBuilder().setName("snap-replicas").setSourceVolumeId(source)
                .putParameters("compression", "none").build();
        Csi.Snapshot snapshot = a.controller().createSnapshot(snapRequest).getSnapshot();
        for (int i = 0; !snapshot.getReadyToUse() && i < 600; i++) {
            Thread.sleep(200);
            snapshot = a.controller().createSnapshot(snapRequest).getSnapshot();
        }
        assertThat(snapshot.getReadyToUse()).isTrue();
        Csi.VolumeContentSource fromSnapshot = Csi.VolumeContentSource.newBuilder().setSnapshot(
                Csi.VolumeContentSource.SnapshotSource.newBuilder().setSnapshotId(snapshot.getSnapshotId())).build();
        Csi.CreateVolumeRequest restore = request("pvc-restored", fromSnapshot);

        // B mounts the share now, so that it answers at once once A is paused
        b.controller().controllerGetVolume(Csi.ControllerGetVolumeRequest.newBuilder().setVolumeId(source).build());
        step("replica A starts the restore; once it has written part of it, A is paused (SIGSTOP)");
        try {
            a.controller().withDeadlineAfter(1500, TimeUnit.MILLISECONDS).createVolume(restore);
        } catch (StatusRuntimeException e) {
            assertThat(e.getStatus().getCode()).isIn(Status.Code.ABORTED, Status.Code.DEADLINE_EXCEEDED);
        }
        Path staging = SHARE.resolve(".nfs-csi/staging");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (entries(staging) < 20 && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        Shell.sh("kill -STOP " + a.process().pid()).orThrow();
        long stoppedAt = System.nanoTime();
        long partial = entries(staging);
        assertThat(SHARE.resolve(".nfs-csi/volumes/pvc-restored.properties"))
                .as("A was paused before it finished; %d entries were staged", partial).doesNotExist();
        assertThat(partial).isPositive();
        assertThat(ownerRecords()).isEqualTo(1);

        step("replica B is asked: ABORTED naming replica A while A's heartbeat is fresh, then it takes over");
        List<String> seen = new java.util.ArrayList<>();
        Csi.Volume restored = createRetrying(b, restore, seen);
        double tookOverSeconds = (System.nanoTime() - stoppedAt) / 1e9;
        // on a loaded test bed B's first answer may come only once A's heartbeat is already stale; the ABORTED
        // answer for a live owner is pinned down by TwoReplicasProvisionerTest, here it is only checked when seen
        if (!seen.isEmpty() && !b.log().contains("its heartbeat is")) {
            assertThat(seen.getFirst()).contains("replica-a");
        }
        assertThat(b.log()).contains("taking over from controller replica replica-a");
        Path volume = SHARE.resolve("pvc-restored");
        long[] restoredFiles = new long[1];
        String restoredDigest = digest(volume, restoredFiles);
        assertThat(restoredFiles[0]).isEqualTo(sourceFiles[0]);
        assertThat(restoredDigest).as("every file restored with its content").isEqualTo(sourceDigest);

        step("replica A is resumed (SIGCONT): its job finds the volume taken over and stops, removing nothing");
        Shell.sh("kill -CONT " + a.process().pid()).orThrow();
        List<String> seenByA = new java.util.ArrayList<>();
        Csi.Volume fromA = createRetrying(a, restore, seenByA);
        assertThat(fromA.getVolumeId()).isEqualTo(restored.getVolumeId());
        deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!a.log().contains("replica-a lost it") && System.nanoTime() < deadline) {
            Thread.sleep(100);
        }
        assertThat(a.log()).contains("replica-a lost it");
        long[] afterFiles = new long[1];
        String afterDigest = digest(volume, afterFiles);
        long lost = Math.abs(sourceFiles[0] - afterFiles[0]);
        assertThat(afterDigest).as("the finished volume is untouched by A's job").isEqualTo(sourceDigest);
        assertThat(entries(staging)).as("no staging directory is left").isZero();
        assertThat(ownerRecords()).as("no owner record is left").isZero();
        assertThat(b.controller().controllerGetVolume(Csi.ControllerGetVolumeRequest.newBuilder()
                .setVolumeId(restored.getVolumeId()).build()).getStatus().getVolumeCondition().getAbnormal()).isFalse();

        System.out.printf("RELIABILITY|4|entries replica A had staged when it was paused|%d%n", partial);
        System.out.printf("RELIABILITY|4|seconds from pausing A to B's completed restore (owner stale after %s)|%.1f%n",
                STALE, tookOverSeconds);
        System.out.printf("RELIABILITY|4|ABORTED answers B gave before its restore completed (live owner or still filling)|%d%n",
                seen.size());
        System.out.printf("RELIABILITY|4|files missing or changed in the restored volume after A resumed|%d%n",
                afterDigest.equals(sourceDigest) ? lost : Math.max(1, lost));
    }
}
