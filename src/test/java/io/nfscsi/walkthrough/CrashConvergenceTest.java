package io.nfscsi.walkthrough;

import static io.nfscsi.testbed.Shell.step;
import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.nfscsi.csi.v1.Csi;
import io.nfscsi.testbed.DriverProcess;
import io.nfscsi.testbed.Shell;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Crash convergence: the driver (one process, controller and node) is killed with SIGKILL at random points of 100
 * mixed cycles (create, clone, restore, snapshot, delete, publish, unpublish), each driven as csi-provisioner,
 * csi-snapshotter and kubelet drive them: the same call with the same name or ID is retried, across the restart,
 * until it answers OK (a snapshot: until it is ready). After every cycle the share, the kubelet directory and the
 * driver's own directories are compared with what the callers were told: nothing is left over (orphan directories,
 * partial archives, records without directories, claims without objects, mounts, temporary files) and nothing
 * they were told exists is missing, and clones and restores hold what their sources held.
 *
 * <p>System properties: {@code nfscsi.crash.seed} (else a fresh seed, printed), {@code nfscsi.crash.cycles}
 * (100), {@code nfscsi.crash.kills} (how many of the cycles, a seeded random subset, end with a kill; default 15,
 * bench/reliability asks for all 100). A restart (kill to Probe answering) costs a JVM start in the one-CPU test
 * bed: measured 58-120 s on a build machine running six test beds at once (load 12-17), an estimated 10 s on an
 * idle one, where 100 cycles with 15 kills fit the test's 6-minute budget; the test prints what it measured.
 */
@Tag("nfs")
class CrashConvergenceTest {

    static final Path SHARE = Path.of("/export-crash");
    static final Path RUN = Path.of("/run/nfs-csi-crash");
    static final Path MOUNTS = RUN.resolve("mounts");
    static final int FSID = 105;
    static final long MIB = 1 << 20;
    static final int CYCLES = Integer.getInteger("nfscsi.crash.cycles", 100);
    static final int KILLS = Math.min(CYCLES, Integer.getInteger("nfscsi.crash.kills", 15));
    static final long SEED = Long.getLong("nfscsi.crash.seed", System.nanoTime());

    /** The logs of every killed driver, one after the other; the last one's is kept by {@link DriverProcess}. */
    static final Path ALL_LOGS = DriverProcess.home().resolve("target/testbed-logs/nfs-csi-crash-killed.log");
    static volatile DriverProcess driver;

    @BeforeAll
    static void export() throws Exception {
        Shell.sh("mkdir -p " + SHARE + " && mount -t tmpfs -o size=256m crash " + SHARE
                + " && exportfs -o rw,no_root_squash,no_subtree_check,insecure,fsid=" + FSID + " 127.0.0.0/8:"
                + SHARE).orThrow();
    }

    @AfterAll
    static void cleanUp() throws Exception {
        if (driver != null) {
            driver.close();
        }
        Shell.sh("for m in $(awk '$5 ~ \"^(/var/lib/kubelet/pods|" + MOUNTS + ")/\" {print $5}' /proc/self/mountinfo "
                + "| sort -r); do umount -l $m; done; exportfs -u 127.0.0.0/8:" + SHARE + "; umount " + SHARE
                + "; rmdir " + SHARE);
    }

    /** What the callers were told: the volumes, snapshots and publications that exist. */
    static final class World {
        /** PV name to the created volume and the content it must hold. */
        final Map<String, Vol> volumes = new LinkedHashMap<>();
        /** Snapshot name to its ID and the content of its source when it was taken. */
        final Map<String, Snap> snapshots = new LinkedHashMap<>();
        /** Target path to the volume published there. */
        final Map<Path, String> publications = new LinkedHashMap<>();
    }

    record Vol(Csi.Volume volume, String content) {}

    record Snap(String id, String content) {}

    /** One cycle's work, retried until it converges. */
    interface Op {
        String describe();

        /** One attempt; true when the call answered what its caller waits for. */
        boolean attempt();

        /** Records the outcome in the world once converged. */
        void done();
    }

    final World world = new World();
    final Random random = new Random(SEED);
    final Counts totals = new Counts();
    final List<String> unexpected = new ArrayList<>();
    final Map<String, Long> typicalMillis = new TreeMap<>();
    final List<Long> restartMillis = new ArrayList<>();
    int names;

    @Test
    void killedAtRandomPoints_retriedCallsConverge_andNothingIsLeftOver() throws Exception {
        long started = System.nanoTime();
        Set<Integer> killAt = killCycles();
        System.out.println("crash convergence: seed " + SEED + " (-Dnfscsi.crash.seed=" + SEED + "), " + CYCLES
                + " cycles, a kill in " + killAt.size() + " of them");
        Files.deleteIfExists(ALL_LOGS);
        long firstStart = System.nanoTime();
        driver = DriverProcess.start(RUN);
        System.out.println("first driver start: " + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - firstStart)
                + " ms");
        ExecutorService caller = Executors.newSingleThreadExecutor(r -> Thread.ofPlatform().daemon()
                .name("sidecar").unstarted(r));
        try {
            for (int cycle = 0; cycle < CYCLES; cycle++) {
                Op op = next();
                String kind = op.describe().split(" ")[0];
                long cycleStart = System.nanoTime();
                Future<?> converged = caller.submit(() -> converge(op));
                String killed = "";
                if (killAt.contains(cycle)) {
                    long window = typicalMillis.getOrDefault(kind, 2000L);
                    long delay = (long) (random.nextDouble() * window * 1.2);
                    Thread.sleep(delay);
                    killed = " killed at " + delay + " ms" + (converged.isDone() ? " (after it converged)" : "");
                    restart();
                }
                converged.get(5, TimeUnit.MINUTES);
                long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - cycleStart);
                if (killed.isEmpty()) {
                    typicalMillis.put(kind, ms);
                }
                op.done();
                Counts now = count(false);
                totals.add(now);
                System.out.println("cycle " + cycle + ": " + op.describe() + killed + ", converged in " + ms + " ms"
                        + (now.isZero() ? "" : "; FOUND " + now));
            }
            step("clean up through the driver, as the sidecars and kubelet would; then stop the driver");
            cleanUpThroughDriver();
            driver.close();
            Counts end = count(true);
            totals.add(end);
            if (!end.isZero()) {
                System.out.println("after clean-up and stop: FOUND " + end);
            }
        } finally {
            caller.shutdownNow();
        }
        long seconds = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - started);
        String run = CYCLES + " crash cycles (" + killAt.size() + " kills)";
        System.out.println("crash convergence: " + run + " in " + seconds + " s; driver restart (kill to Probe) "
                + restartMillis.stream().mapToLong(Long::longValue).min().orElse(0) + "/"
                + Math.round(restartMillis.stream().mapToLong(Long::longValue).average().orElse(0)) + "/"
                + restartMillis.stream().mapToLong(Long::longValue).max().orElse(0) + " ms min/mean/max; seed "
                + SEED);
        System.out.println("RELIABILITY|5|driver kills (SIGKILL) during " + CYCLES + " mixed cycles|"
                + killAt.size());
        System.out.println("RELIABILITY|5|orphan directories after " + run + "|" + totals.orphanDirectories);
        System.out.println("RELIABILITY|5|partial archives after " + run + "|" + totals.partialArchives);
        System.out.println("RELIABILITY|5|records without directories after " + run + "|"
                + totals.recordsWithoutDirectories);
        System.out.println("RELIABILITY|5|claims without objects after " + run + "|" + totals.claimsWithoutObjects);
        System.out.println("RELIABILITY|5|leftover mounts after " + run + "|" + totals.leftoverMounts);
        System.out.println("RELIABILITY|5|leftover temp files after " + run + "|" + totals.tempFiles);
        System.out.println("RELIABILITY|5|objects lost (acknowledged but missing or wrong) after " + run + "|"
                + totals.lost);
        System.out.println("RELIABILITY|5|error answers other than UNAVAILABLE/ABORTED/DEADLINE_EXCEEDED|"
                + unexpected.size());
        unexpected.forEach(u -> System.out.println("  unexpected: " + u));
        assertThat(totals.details).as("left over or lost, seed " + SEED).isEmpty();
        assertThat(totals.isZero()).isTrue();
        assertThat(unexpected).as("error answers, seed " + SEED).isEmpty();
    }

    /** A seeded random subset of the cycles, {@link #KILLS} of them. */
    Set<Integer> killCycles() {
        List<Integer> all = new ArrayList<>();
        for (int i = 0; i < CYCLES; i++) {
            all.add(i);
        }
        java.util.Collections.shuffle(all, new Random(SEED ^ 0x5DEECE66DL));
        return new HashSet<>(all.subList(0, KILLS));
    }

    /** kill -9, then start the driver again on the same directories, as a restarted container would be. */
    void restart() throws Exception {
        long t0 = System.nanoTime();
        DriverProcess old = driver;
        old.process().destroyForcibly();
        old.process().waitFor();
        old.close();
        Files.createDirectories(ALL_LOGS.getParent());
        Files.writeString(ALL_LOGS, old.log(), java.nio.file.StandardOpenOption.CREATE,
                java.nio.file.StandardOpenOption.APPEND);
        driver = DriverProcess.start(RUN);
        restartMillis.add(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0));
    }

    // ---- the sidecars ----

    /** Retries {@code op} until it converges, across restarts, as a sidecar or kubelet does. */
    void converge(Op op) {
        for (int attempt = 1; ; attempt++) {
            try {
                if (op.attempt()) {
                    return;
                }
                sleep(200);
            } catch (StatusRuntimeException e) {
                Status.Code code = e.getStatus().getCode();
                if (code != Status.Code.UNAVAILABLE && code != Status.Code.ABORTED
                        && code != Status.Code.DEADLINE_EXCEEDED && code != Status.Code.CANCELLED) {
                    synchronized (unexpected) {
                        unexpected.add(op.describe() + ": " + code + " " + e.getStatus().getDescription());
                    }
                    if (unexpected.size() > 20) {
                        throw e;
                    }
                }
                sleep(code == Status.Code.UNAVAILABLE ? 300 : 100);
            }
            if (attempt > 2000) {
                throw new AssertionError(op.describe() + " did not converge in " + attempt + " attempts");
            }
        }
    }

    static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** The call stubs of the driver running now, with the sidecars' per-call timeout. */
    static io.nfscsi.csi.v1.ControllerGrpc.ControllerBlockingStub controller() {
        return driver.controller().withDeadlineAfter(10, TimeUnit.SECONDS);
    }

    static io.nfscsi.csi.v1.NodeGrpc.NodeBlockingStub node() {
        return driver.node().withDeadlineAfter(30, TimeUnit.SECONDS);
    }

    /** The next cycle's operation, chosen at random among those that the world allows. */
    Op next() throws Exception {
        List<String> unpublished = world.volumes.keySet().stream()
                .filter(v -> !world.publications.containsValue(world.volumes.get(v).volume().getVolumeId()))
                .toList();
        List<String> choices = new ArrayList<>();
        if (world.volumes.size() < 8) {
            choices.addAll(List.of("create", "create"));
            if (!world.volumes.isEmpty()) {
                choices.add("clone");
            }
            if (!world.snapshots.isEmpty()) {
                choices.add("restore");
            }
        }
        if (!world.volumes.isEmpty() && world.snapshots.size() < 6) {
            choices.addAll(List.of("snapshot", "snapshot"));
        }
        if (!unpublished.isEmpty()) {
            choices.addAll(List.of("delete", "delete"));
        }
        if (!world.snapshots.isEmpty()) {
            choices.add("delete-snapshot");
        }
        if (!world.volumes.isEmpty() && world.publications.size() < 6) {
            choices.addAll(List.of("publish", "publish"));
        }
        if (!world.publications.isEmpty()) {
            choices.addAll(List.of("unpublish", "unpublish"));
        }
        String choice = choices.get(random.nextInt(choices.size()));
        return switch (choice) {
            case "create" -> createOp(null, null);
            case "clone" -> {
                Vol source = pick(world.volumes.values());
                yield createOp(Csi.VolumeContentSource.newBuilder().setVolume(Csi.VolumeContentSource.VolumeSource
                        .newBuilder().setVolumeId(source.volume().getVolumeId())).build(), source.content());
            }
            case "restore" -> {
                Snap source = pick(world.snapshots.values());
                yield createOp(Csi.VolumeContentSource.newBuilder().setSnapshot(Csi.VolumeContentSource
                        .SnapshotSource.newBuilder().setSnapshotId(source.id())).build(), source.content());
            }
            case "snapshot" -> snapshotOp(pick(world.volumes.keySet()));
            case "delete" -> deleteOp(pick(unpublished));
            case "delete-snapshot" -> deleteSnapshotOp(pick(world.snapshots.keySet()));
            case "publish" -> publishOp(pick(world.volumes.keySet()));
            case "unpublish" -> unpublishOp(pick(world.publications.keySet()));
            default -> throw new IllegalStateException(choice);
        };
    }

    <T> T pick(java.util.Collection<T> from) {
        List<T> list = new ArrayList<>(from);
        return list.get(random.nextInt(list.size()));
    }

    static Map<String, String> storageClass() {
        return Map.of("server", "127.0.0.1", "share", SHARE.toString());
    }

    Op createOp(Csi.VolumeContentSource source, String expected) {
        String pv = "pvc-crash-" + (names++);
        var b = Provisioner.create(pv, "ns", pv, 64 * MIB, storageClass(), List.of("vers=4.1")).toBuilder();
        if (source != null) {
            b.setVolumeContentSource(source);
        }
        Csi.CreateVolumeRequest request = b.build();
        String kind = source == null ? "create" : source.hasVolume() ? "clone" : "restore";
        long fileSeed = random.nextLong();
        return new Op() {
            Csi.Volume created;

            public String describe() {
                return kind + " " + pv;
            }

            public boolean attempt() {
                created = controller().createVolume(request).getVolume();
                return true;
            }

            public void done() {
                String content = expected;
                if (source == null) {
                    content = fill(SHARE.resolve(pv), fileSeed);
                }
                world.volumes.put(pv, new Vol(created, content));
            }
        };
    }

    Op snapshotOp(String pv) {
        String name = "snap-crash-" + (names++);
        Vol source = world.volumes.get(pv);
        var request = Csi.CreateSnapshotRequest.newBuilder().setName(name)
                .setSourceVolumeId(source.volume().getVolumeId()).build();
        return new Op() {
            String id;

            public String describe() {
                return "snapshot " + name + " of " + pv;
            }

            public boolean attempt() {
                Csi.Snapshot s = controller().createSnapshot(request).getSnapshot();
                id = s.getSnapshotId();
                return s.getReadyToUse();
            }

            public void done() {
                world.snapshots.put(name, new Snap(id, source.content()));
            }
        };
    }

    Op deleteOp(String pv) {
        String id = world.volumes.get(pv).volume().getVolumeId();
        return new Op() {
            public String describe() {
                return "delete " + pv;
            }

            public boolean attempt() {
                controller().deleteVolume(Provisioner.delete(id));
                return true;
            }

            public void done() {
                world.volumes.remove(pv);
            }
        };
    }

    Op deleteSnapshotOp(String name) {
        String id = world.snapshots.get(name).id();
        return new Op() {
            public String describe() {
                return "delete-snapshot " + name;
            }

            public boolean attempt() {
                controller().deleteSnapshot(Csi.DeleteSnapshotRequest.newBuilder().setSnapshotId(id).build());
                return true;
            }

            public void done() {
                world.snapshots.remove(name);
            }
        };
    }

    Op publishOp(String pv) throws Exception {
        Csi.Volume v = world.volumes.get(pv).volume();
        Path target = Kubelet.newTarget(pv);
        var request = Kubelet.publish(v.getVolumeId(), target, v.getVolumeContextMap(), false, List.of("vers=4.1"));
        return new Op() {
            public String describe() {
                return "publish " + pv + " at pod " + pod(target);
            }

            public boolean attempt() {
                node().nodePublishVolume(request);
                return true;
            }

            public void done() {
                world.publications.put(target, v.getVolumeId());
            }
        };
    }

    Op unpublishOp(Path target) {
        String id = world.publications.get(target);
        return new Op() {
            public String describe() {
                return "unpublish " + target.getParent().getFileName() + " at pod " + pod(target);
            }

            public boolean attempt() {
                node().nodeUnpublishVolume(Kubelet.unpublish(id, target));
                return true;
            }

            public void done() {
                world.publications.remove(target);
            }
        };
    }

    /** The first 8 characters of the pod UID in a kubelet target path. */
    static String pod(Path target) {
        return Kubelet.PODS.relativize(target).getName(0).toString().substring(0, 8);
    }

    /**
     * Writes a small tree into a new volume, on the server's side of the share, so that clones, snapshots and
     * restores take long enough to be killed in the middle; returns its content signature.
     */
    static String fill(Path dir, long seed) {
        Random r = new Random(seed);
        try {
            for (int d = 0; d < 4; d++) {
                Path sub = Files.createDirectories(dir.resolve("d" + d));
                for (int f = 0; f < 40; f++) {
                    byte[] data = new byte[r.nextInt(8192)];
                    r.nextBytes(data);
                    Files.write(sub.resolve("f" + f), data);
                }
            }
            byte[] big = new byte[(int) MIB + r.nextInt(1 << 16)];
            r.nextBytes(big);
            Files.write(dir.resolve("big"), big);
        } catch (java.io.IOException e) {
            throw new IllegalStateException(e);
        }
        return signature(dir);
    }

    /** Every path below {@code dir} with its size and a checksum of its bytes. */
    static String signature(Path dir) {
        StringBuilder out = new StringBuilder();
        try (var walk = Files.walk(dir)) {
            for (Path p : walk.sorted().toList()) {
                out.append(dir.relativize(p));
                if (Files.isRegularFile(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                    var crc = new java.util.zip.CRC32();
                    crc.update(Files.readAllBytes(p));
                    out.append(' ').append(Files.size(p)).append(' ').append(Long.toHexString(crc.getValue()));
                }
                out.append('\n');
            }
        } catch (java.io.IOException | java.io.UncheckedIOException e) {
            return "unreadable: " + e;
        }
        return out.toString();
    }

    void cleanUpThroughDriver() {
        for (Path target : List.copyOf(world.publications.keySet())) {
            Op op = unpublishOp(target);
            converge(op);
            op.done();
        }
        for (String name : List.copyOf(world.snapshots.keySet())) {
            Op op = deleteSnapshotOp(name);
            converge(op);
            op.done();
        }
        for (String pv : List.copyOf(world.volumes.keySet())) {
            Op op = deleteOp(pv);
            converge(op);
            op.done();
        }
    }

    // ---- what is left over ----

    /** The findings of one look at the share and the node, with a line for each. */
    static final class Counts {
        long orphanDirectories;
        long partialArchives;
        long recordsWithoutDirectories;
        long claimsWithoutObjects;
        long leftoverMounts;
        long tempFiles;
        long lost;
        final List<String> details = new ArrayList<>();

        boolean isZero() {
            return orphanDirectories + partialArchives + recordsWithoutDirectories + claimsWithoutObjects
                    + leftoverMounts + tempFiles + lost == 0;
        }

        void add(Counts c) {
            orphanDirectories += c.orphanDirectories;
            partialArchives += c.partialArchives;
            recordsWithoutDirectories += c.recordsWithoutDirectories;
            claimsWithoutObjects += c.claimsWithoutObjects;
            leftoverMounts += c.leftoverMounts;
            tempFiles += c.tempFiles;
            lost += c.lost;
            details.addAll(c.details);
        }

        @Override
        public String toString() {
            return String.join("; ", details);
        }
    }

    /**
     * Compares the share, the kubelet directory and the driver's directories with the world. {@code stopped}: the
     * driver has stopped, so that no mount of its working directory may remain.
     */
    Counts count(boolean stopped) throws Exception {
        Counts c = new Counts();
        Path meta = SHARE.resolve(".nfs-csi");
        Map<String, java.util.Properties> volumeRecords = properties(meta.resolve("volumes"));
        Map<String, java.util.Properties> snapshotRecords = properties(meta.resolve("snapshots"));
        Map<String, java.util.Properties> claims = properties(meta.resolve("subdirs"));
        Set<String> recordedDirs = new HashSet<>();
        volumeRecords.values().forEach(p -> recordedDirs.add(p.getProperty("subDir")));
        recordedDirs.addAll(snapshotRecords.keySet());
        Set<String> liveDirs = new HashSet<>(world.volumes.keySet());
        liveDirs.addAll(world.snapshots.keySet());

        try (var top = Files.list(SHARE)) {
            for (Path d : top.toList()) {
                String name = d.getFileName().toString();
                if (name.equals(".nfs-csi")) {
                    continue;
                }
                if (!recordedDirs.contains(name) || !liveDirs.contains(name)) {
                    c.orphanDirectories++;
                    c.details.add("orphan directory " + name + (recordedDirs.contains(name) ? " (it has a record)"
                            : " (no record)"));
                }
            }
        }
        try (var all = Files.walk(SHARE)) {
            for (Path p : all.toList()) {
                String n = p.getFileName().toString();
                if (n.contains(".partial-")) {
                    c.partialArchives++;
                    c.details.add("partial archive " + SHARE.relativize(p));
                } else if (n.startsWith(".") && n.endsWith(".tmp")) {
                    c.tempFiles++;
                    c.details.add("temp file " + SHARE.relativize(p));
                }
            }
        }
        // two levels: the node state, the known-shares file; never into the share mounts under MOUNTS
        try (var all = Files.walk(RUN, 2)) {
            for (Path p : all.toList()) {
                String n = p.getFileName().toString();
                if (n.endsWith(".tmp")) {
                    c.tempFiles++;
                    c.details.add("temp file " + p);
                }
            }
        }
        volumeRecords.forEach((file, p) -> {
            String subDir = p.getProperty("subDir");
            if (!Files.isDirectory(SHARE.resolve(subDir))) {
                c.recordsWithoutDirectories++;
                c.details.add("volume record " + file + " without directory " + subDir);
            }
        });
        snapshotRecords.forEach((name, p) -> {
            Path archive = SHARE.resolve(name).resolve(p.getProperty("archive", "?") + ".tar.gz");
            if (!Files.isRegularFile(archive) && world.snapshots.containsKey(name)) {
                c.recordsWithoutDirectories++;
                c.details.add("snapshot record " + name + " without its archive");
            }
        });
        claims.forEach((file, p) -> {
            String owner = p.getProperty("name", "");
            String subDir = p.getProperty("subDir", "");
            boolean object = owner.startsWith("snapshot ")
                    ? snapshotRecords.containsKey(owner.substring("snapshot ".length()))
                    : volumeRecords.values().stream().anyMatch(r -> owner.equals(r.getProperty("name")));
            if (!object || !Files.isDirectory(SHARE.resolve(subDir))) {
                c.claimsWithoutObjects++;
                c.details.add("claim on " + subDir + " by " + owner + " without "
                        + (object ? "its directory" : "its object"));
            }
        });
        for (var v : world.volumes.entrySet()) {
            if (!volumeRecords.containsKey(v.getKey())) {
                c.lost++;
                c.details.add("volume " + v.getKey() + " has no record");
            }
            if (v.getValue().content() != null && !v.getValue().content().equals(signature(SHARE.resolve(v.getKey())))) {
                c.lost++;
                c.details.add("volume " + v.getKey() + " does not hold what its source held");
            }
        }
        for (String s : world.snapshots.keySet()) {
            if (!snapshotRecords.containsKey(s)) {
                c.lost++;
                c.details.add("snapshot " + s + " has no record");
            }
        }
        // mounts: the kubelet's must be exactly the live publications, once each; the controller's working
        // directory holds at most one mount per directory while the driver runs, and none once it has stopped
        Map<Path, Integer> mounts = new TreeMap<>();
        for (var e : io.nfscsi.mount.MountTable.read().entries()) {
            if (e.mountPoint().startsWith(Kubelet.PODS) || e.mountPoint().startsWith(MOUNTS)) {
                mounts.merge(e.mountPoint(), 1, Integer::sum);
            }
        }
        mounts.forEach((at, n) -> {
            boolean live = world.publications.containsKey(at) || (at.startsWith(MOUNTS) && !stopped);
            long extra = live ? n - 1 : n;
            if (extra > 0) {
                c.leftoverMounts += extra;
                c.details.add(extra + " leftover mount(s) at " + at);
            }
        });
        for (Path target : world.publications.keySet()) {
            if (!mounts.containsKey(target)) {
                c.lost++;
                c.details.add("published target " + target + " is not mounted");
            }
        }
        return c;
    }

    /** The properties files of a metadata directory by name (without the suffix). */
    static Map<String, java.util.Properties> properties(Path dir) throws Exception {
        Map<String, java.util.Properties> out = new TreeMap<>();
        if (!Files.isDirectory(dir)) {
            return out;
        }
        try (var files = Files.list(dir)) {
            for (Path f : files.filter(f -> f.getFileName().toString().endsWith(".properties")
                    && !f.getFileName().toString().startsWith(".")).toList()) {
                var p = new java.util.Properties();
                try (var in = Files.newBufferedReader(f)) {
                    p.load(in);
                }
                out.put(f.getFileName().toString().replaceFirst("\\.properties$", ""), p);
            }
        }
        return out;
    }
}
