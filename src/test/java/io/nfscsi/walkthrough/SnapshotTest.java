package io.nfscsi.walkthrough;

import static io.nfscsi.testbed.Shell.step;
import static io.nfscsi.walkthrough.StaticVolumeWalkthroughTest.EXPORT;
import static io.nfscsi.walkthrough.StaticVolumeWalkthroughTest.assertCode;
import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.nfscsi.csi.v1.Csi;
import io.nfscsi.testbed.DriverProcess;
import io.nfscsi.testbed.Shell;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Snapshots, restores and clones against the real NFS server: archives in csi-driver-nfs's layout
 * ({@code <share>/<snapshot>/<volume>.tar.gz}), compared byte for byte and attribute for attribute.
 */
@Tag("nfs")
class SnapshotTest {

    static final Path SHARE = EXPORT.resolve("snap");
    static final Path RUN = Path.of("/run/nfs-csi-snapshots");
    static DriverProcess driver;

    @BeforeAll
    static void start() throws Exception {
        Files.createDirectories(SHARE);
        driver = DriverProcess.start(RUN);
    }

    @AfterAll
    static void stop() throws Exception {
        if (driver != null) {
            driver.close();
        }
    }

    static Map<String, String> sc() {
        return Map.of("server", "127.0.0.1", "share", SHARE.toString());
    }

    static Csi.Volume create(String pv, long bytes) {
        return driver.controller().createVolume(Provisioner.create(pv, "ns", pv, bytes, sc(), List.of())).getVolume();
    }

    static Csi.Volume createFrom(String pv, long bytes, Csi.VolumeContentSource source) {
        var request = Provisioner.create(pv, "ns", pv, bytes, sc(), List.of()).toBuilder()
                .setVolumeContentSource(source).build();
        for (int attempt = 0; ; attempt++) {
            try {
                return driver.controller().createVolume(request).getVolume();
            } catch (StatusRuntimeException e) {
                if (e.getStatus().getCode() != Status.Code.ABORTED || attempt > 100) {
                    throw e;
                }
                sleep(500);
            }
        }
    }

    static Csi.Snapshot snapshot(String name, String sourceVolumeId) {
        var request = Csi.CreateSnapshotRequest.newBuilder().setName(name).setSourceVolumeId(sourceVolumeId).build();
        Csi.Snapshot s = driver.controller().createSnapshot(request).getSnapshot();
        for (int i = 0; !s.getReadyToUse() && i < 600; i++) {
            sleep(200);
            s = driver.controller().createSnapshot(request).getSnapshot();
        }
        assertThat(s.getReadyToUse()).isTrue();
        return s;
    }

    static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Writes a tree with every entry kind the archive must keep, through a shell as a pod would. */
    static void fillWithEveryKind(Path dir) {
        Shell.sh("cd " + dir + " && mkdir -p a/b/c empty && head -c 3000000 /dev/urandom > a/big"
                + " && echo hello > a/b/c/small && : > zero && ln -s / root-link && ln -s ../zero a/rel-link"
                + " && ln -s /nonexistent dangling && ln a/b/c/small hard && mkfifo fifo"
                + " && cp /bin/true suid && chmod 4755 suid && mkdir sgid && chmod 2775 sgid && mkdir sticky"
                + " && chmod 1777 sticky && chmod 600 a/b/c/small && chown 1234:5678 a/big"
                + " && chown -h 4321:8765 a/rel-link && touch -d '2001-02-03 04:05:06' a/big zero"
                + " && touch -h -d '2002-03-04 05:06:07' a/rel-link && touch -d '2003-04-05 06:07:08' a/b"
                + " && sync").orThrow();
    }

    /**
     * `find -printf` of everything that must survive: type, mode, owner, mtime (to the second: tar's unit), link
     * target, content hash and hard-link count.
     */
    static String describe(Path dir) {
        return Shell.sh("cd " + dir + " && find . -mindepth 1 ! -type p -printf '%p %y %m %U:%G %Ts %l\\n' | sort"
                + " && find . -type f -exec md5sum {} + | sort && stat -c '%n %h' hard a/b/c/small").orThrow().output();
    }

    @Test
    void snapshotThenRestore_reproducesEveryEntryKind() throws Exception {
        Csi.Volume source = create("pvc-snap-src", 1 << 30);
        Path src = SHARE.resolve("pvc-snap-src");
        fillWithEveryKind(src);
        step("CreateSnapshot of a tree with files, dirs, symlinks, a hard link, a FIFO, setuid/setgid/sticky modes");
        Csi.Snapshot snap = snapshot("snapshot-every-kind", source.getVolumeId());
        Path archive = SHARE.resolve("snapshot-every-kind/pvc-snap-src.tar.gz");
        assertThat(archive).isRegularFile();
        assertThat(snap.getSizeBytes()).isEqualTo(Files.size(archive));
        assertThat(snap.getSourceVolumeId()).isEqualTo(source.getVolumeId());
        assertThat(snap.getCreationTime().getSeconds()).isPositive();

        step("GNU tar reads our multi-member gzip archive");
        assertThat(Shell.sh("gzip -t " + archive + " && tar -tzf " + archive).orThrow().output())
                .contains("a/b/c/small").doesNotContain("fifo");
        Path extracted = Path.of("/run/gnu-extract");
        Shell.sh("rm -rf " + extracted + " && mkdir -p " + extracted + " && tar -xzpf " + archive + " -C "
                + extracted + " --numeric-owner").orThrow();

        step("CreateVolume from the snapshot, then compare the trees");
        Csi.Volume restored = createFrom("pvc-snap-restored", 1 << 30, Csi.VolumeContentSource.newBuilder()
                .setSnapshot(Csi.VolumeContentSource.SnapshotSource.newBuilder().setSnapshotId(snap.getSnapshotId()))
                .build());
        assertThat(restored.getContentSource().getSnapshot().getSnapshotId()).isEqualTo(snap.getSnapshotId());
        String expected = describe(src);
        assertThat(describe(SHARE.resolve("pvc-snap-restored"))).isEqualTo(expected);
        assertThat(describe(extracted)).as("GNU tar's extraction of our archive").isEqualTo(expected);

        step("ListSnapshots by ID and by source, GetSnapshot, DeleteSnapshot");
        assertThat(driver.controller().listSnapshots(Csi.ListSnapshotsRequest.newBuilder()
                .setSnapshotId(snap.getSnapshotId()).build()).getEntriesList()).hasSize(1);
        assertThat(driver.controller().listSnapshots(Csi.ListSnapshotsRequest.newBuilder()
                .setSourceVolumeId(source.getVolumeId()).build()).getEntriesList())
                .extracting(e -> e.getSnapshot().getSnapshotId()).containsExactly(snap.getSnapshotId());
        assertThat(driver.controller().getSnapshot(Csi.GetSnapshotRequest.newBuilder()
                .setSnapshotId(snap.getSnapshotId()).build()).getSnapshot().getReadyToUse()).isTrue();
        assertCode(() -> driver.controller().createSnapshot(Csi.CreateSnapshotRequest.newBuilder()
                .setName("snapshot-every-kind").setSourceVolumeId(restored.getVolumeId()).build()),
                Status.Code.ALREADY_EXISTS);
        driver.controller().deleteSnapshot(Csi.DeleteSnapshotRequest.newBuilder()
                .setSnapshotId(snap.getSnapshotId()).build());
        assertThat(SHARE.resolve("snapshot-every-kind")).doesNotExist();
        driver.controller().deleteSnapshot(Csi.DeleteSnapshotRequest.newBuilder()
                .setSnapshotId(snap.getSnapshotId()).build());
        assertCode(() -> driver.controller().getSnapshot(Csi.GetSnapshotRequest.newBuilder()
                .setSnapshotId(snap.getSnapshotId()).build()), Status.Code.NOT_FOUND);
    }

    @Test
    void csiDriverNfsSnapshot_madeWithGnuTar_restores() throws Exception {
        step("a snapshot in csi-driver-nfs's layout and ID, made with `tar -C src -czf`");
        Path src = Path.of("/run/legacy-src");
        Shell.sh("rm -rf " + src + " && mkdir -p " + src + "/d && echo legacy > " + src + "/d/f && ln -s d/f "
                + src + "/l && mkdir -p " + SHARE + "/snapshot-legacy && tar -C " + src + " -czf " + SHARE
                + "/snapshot-legacy/pvc-old.tar.gz .").orThrow();
        String id = "127.0.0.1#" + SHARE.toString().substring(1) + "#snapshot-legacy#snapshot-legacy#pvc-old";
        createFrom("pvc-from-legacy", 1 << 20, Csi.VolumeContentSource.newBuilder()
                .setSnapshot(Csi.VolumeContentSource.SnapshotSource.newBuilder().setSnapshotId(id)).build());
        assertThat(SHARE.resolve("pvc-from-legacy/d/f")).hasContent("legacy");
        assertThat(Files.readSymbolicLink(SHARE.resolve("pvc-from-legacy/l"))).isEqualTo(Path.of("d/f"));
        step("plain tar (no gzip) restores too");
        Shell.sh("mkdir -p " + SHARE + "/snapshot-plain && tar -C " + src + " -cf " + SHARE
                + "/snapshot-plain/pvc-plain.tar .").orThrow();
        createFrom("pvc-from-plain", 1 << 20, Csi.VolumeContentSource.newBuilder()
                .setSnapshot(Csi.VolumeContentSource.SnapshotSource.newBuilder().setSnapshotId(
                        "127.0.0.1#" + SHARE.toString().substring(1) + "#snapshot-plain#snapshot-plain#pvc-plain"))
                .build());
        assertThat(SHARE.resolve("pvc-from-plain/d/f")).hasContent("legacy");
    }

    @Test
    void maliciousArchives_areRefused_andLeaveNothingBehind() throws Exception {
        Files.writeString(Path.of("/run/outside-canary"), "keep");
        String[][] cases = {{"absolute", "/run/pwned-absolute"}, {"dotdot", "../../../run/pwned-dotdot"},
                {"through-link", "link/pwned-link"}};
        for (String[] c : cases) {
            String snapName = "snapshot-evil-" + c[0];
            Path dir = SHARE.resolve(snapName);
            Files.createDirectories(dir);
            try (var out = new TarArchiveOutputStream(new java.util.zip.GZIPOutputStream(
                    Files.newOutputStream(dir.resolve("pvc-evil.tar.gz"))))) {
                out.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
                if (c[0].equals("through-link")) {
                    TarArchiveEntry link = new TarArchiveEntry("link", TarArchiveEntry.LF_SYMLINK);
                    link.setLinkName("/run");
                    out.putArchiveEntry(link);
                    out.closeArchiveEntry();
                }
                TarArchiveEntry ok = new TarArchiveEntry("fine-file");
                ok.setSize(2);
                out.putArchiveEntry(ok);
                out.write("ok".getBytes());
                out.closeArchiveEntry();
                TarArchiveEntry evil = new TarArchiveEntry(c[1], true);
                evil.setSize(5);
                out.putArchiveEntry(evil);
                out.write("pwned".getBytes());
                out.closeArchiveEntry();
            }
            String id = "nfs-csi-snapshot:1#127.0.0.1#" + SHARE + "#" + snapName + "#pvc-evil";
            step("restore of an archive with a " + c[0] + " entry is refused");
            assertCode(() -> createFrom("pvc-evil-" + c[0], 1 << 20, Csi.VolumeContentSource.newBuilder()
                    .setSnapshot(Csi.VolumeContentSource.SnapshotSource.newBuilder().setSnapshotId(id)).build()),
                    Status.Code.FAILED_PRECONDITION);
            assertThat(SHARE.resolve("pvc-evil-" + c[0])).as("no partial volume").doesNotExist();
        }
        try (Stream<Path> run = Files.list(Path.of("/run"))) {
            assertThat(run.map(p -> p.getFileName().toString())).noneMatch(n -> n.startsWith("pwned"));
        }
        assertThat(Path.of("/run/outside-canary")).hasContent("keep");
    }

    @Test
    void clone_copiesTheTree_andLinksPointingOutsideStayLinks() throws Exception {
        Files.writeString(Path.of("/run/clone-canary"), "outside");
        Csi.Volume source = create("pvc-clone-src", 1 << 30);
        Path src = SHARE.resolve("pvc-clone-src");
        fillWithEveryKind(src);
        Files.createSymbolicLink(src.resolve("outside"), Path.of("/run/clone-canary"));
        step("CreateVolume cloned from a volume whose tree links outside itself");
        Csi.Volume clone = createFrom("pvc-clone", 1 << 30, Csi.VolumeContentSource.newBuilder()
                .setVolume(Csi.VolumeContentSource.VolumeSource.newBuilder().setVolumeId(source.getVolumeId()))
                .build());
        assertThat(clone.getContentSource().getVolume().getVolumeId()).isEqualTo(source.getVolumeId());
        Path copy = SHARE.resolve("pvc-clone");
        assertThat(describe(copy)).isEqualTo(describe(src));
        assertThat(Files.isSymbolicLink(copy.resolve("outside"))).isTrue();
        assertThat(Files.readSymbolicLink(copy.resolve("root-link"))).isEqualTo(Path.of("/"));

        assertCode(() -> createFrom("pvc-clone-small", 1 << 20, Csi.VolumeContentSource.newBuilder()
                .setVolume(Csi.VolumeContentSource.VolumeSource.newBuilder().setVolumeId(source.getVolumeId()))
                .build()), Status.Code.OUT_OF_RANGE);
        assertCode(() -> createFrom("pvc-clone-missing", 1 << 30, Csi.VolumeContentSource.newBuilder()
                .setVolume(Csi.VolumeContentSource.VolumeSource.newBuilder()
                        .setVolumeId("nfs-csi:1#127.0.0.1#" + SHARE + "#no-such#no-such#delete")).build()),
                Status.Code.NOT_FOUND);
    }

    @Test
    void controllerKilledDuringASnapshot_convergesOnTheNextCall() throws Exception {
        Csi.Volume source = create("pvc-big", 1 << 30);
        step("a volume big enough that archiving takes a while");
        Shell.sh("cd " + SHARE.resolve("pvc-big") + " && for i in $(seq 1 6); do head -c 40000000 /dev/urandom"
                + " > f$i; done && sync").orThrow();
        var request = Csi.CreateSnapshotRequest.newBuilder().setName("snapshot-crash")
                .setSourceVolumeId(source.getVolumeId()).build();
        Csi.Snapshot first = driver.controller().createSnapshot(request).getSnapshot();
        assertThat(first.getReadyToUse()).isFalse();
        Path dir = SHARE.resolve("snapshot-crash");
        for (int i = 0; i < 100 && partials(dir).isEmpty(); i++) {
            sleep(100);
        }
        step("kill -9 the controller while it writes " + partials(dir));
        assertThat(partials(dir)).isNotEmpty();
        driver.process().destroyForcibly().waitFor();
        driver.close();
        driver = DriverProcess.start(RUN);
        step("the restarted controller removes the partial archive and finishes");
        Csi.Snapshot done = snapshot("snapshot-crash", source.getVolumeId());
        assertThat(partials(dir)).isEmpty();
        assertThat(Shell.sh("gzip -t " + dir.resolve("pvc-big.tar.gz") + " && tar -tzf "
                + dir.resolve("pvc-big.tar.gz") + " | sort").orThrow().output())
                .contains("f1", "f6");
        assertThat(done.getSizeBytes()).isPositive();
    }

    static List<Path> partials(Path dir) throws Exception {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().contains(".partial-")).toList();
        }
    }
}
