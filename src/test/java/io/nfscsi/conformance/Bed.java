package io.nfscsi.conformance;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.nfscsi.csi.v1.ControllerGrpc;
import io.nfscsi.csi.v1.Csi;
import io.nfscsi.csi.v1.IdentityGrpc;
import io.nfscsi.csi.v1.NodeGrpc;
import io.nfscsi.mount.MountEntry;
import io.nfscsi.mount.MountTable;
import io.nfscsi.testbed.DriverProcess;
import io.nfscsi.testbed.Shell;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.stream.Stream;

/**
 * What every scenario works with, as csi-sanity's test context and Resources: the one driver, the one pair of
 * mount and staging directories, the StorageClass-like parameters, and the objects a scenario made, which are
 * deleted after it whatever its outcome.
 */
final class Bed {

    /** csi-sanity's --csi.mountdir and --csi.stagingdir: every scenario uses these two and only these. */
    static final Path MOUNT_DIR = Path.of("/var/lib/kubelet/sanity/mount");
    static final Path STAGING_DIR = Path.of("/var/lib/kubelet/sanity/staging");
    /** The exported tmpfs that volumes are made on. */
    static final Path SHARE = Path.of("/export-conformance");
    /** An exported tmpfs that this node may not mount (exported to 127.0.0.3 only). */
    static final Path DENIED_SHARE = Path.of("/export-conformance-denied");
    static final String SERVER = "127.0.0.1";
    /** The same NFS server under another address, whose packets a scenario can drop to make it hang. */
    static final String HUNG_SERVER = "127.0.0.2";
    static final List<String> MOUNT_FLAGS = List.of("vers=4.1");
    /** Where the driver mounts shares (its --working-mount-dir). */
    static final Path RUN = Path.of("/run/nfs-csi-conformance");
    static final long SIZE = 1L << 20;
    static final int HANG_DEADLINE_SECONDS = 6;
    private static final String DROP = "INPUT -d " + HUNG_SERVER + " -j DROP";

    /** A scenario's expectation not met: reported as the scenario's failure, with expected and got. */
    static final class Mismatch extends RuntimeException {
        Mismatch(String message) {
            super(message);
        }
    }

    private final DriverProcess driver;
    private final ExecutorService pool = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "conformance-call");
        t.setDaemon(true);
        return t;
    });

    // per scenario
    private List<Expect> expects = List.of();
    private int next;
    private String scenario = "";
    private final List<String> volumes = new ArrayList<>();
    private final List<String> snapshots = new ArrayList<>();
    private final List<String[]> targets = new ArrayList<>();
    private final Deque<ThrowingRunnable> cleanups = new ArrayDeque<>();
    private final List<CompletableFuture<?>> outstanding = new ArrayList<>();

    @FunctionalInterface
    interface ThrowingRunnable {
        void run() throws Exception;
    }

    Bed(DriverProcess driver) {
        this.driver = driver;
    }

    IdentityGrpc.IdentityBlockingStub identity() {
        return driver.identity().withDeadlineAfter(30, TimeUnit.SECONDS);
    }

    ControllerGrpc.ControllerBlockingStub ctl() {
        return driver.controller();
    }

    /**
     * Stubs for a call that will hang on a server that does not answer: the caller's deadline, which the driver
     * hands down to its mount, ends it sooner than --mount-timeout (kept long for a loaded test bed).
     */
    ControllerGrpc.ControllerBlockingStub impatientCtl() {
        return driver.controller().withDeadlineAfter(HANG_DEADLINE_SECONDS, TimeUnit.SECONDS);
    }

    NodeGrpc.NodeBlockingStub impatientNode() {
        return driver.node().withDeadlineAfter(HANG_DEADLINE_SECONDS, TimeUnit.SECONDS);
    }

    NodeGrpc.NodeBlockingStub node() {
        return driver.node();
    }

    // ---- the scenario's calls

    void begin(Scenario s) {
        scenario = s.name();
        expects = s.expects();
        next = 0;
    }

    /** Calls the next call under test; its code must be the one declared. Returns the response, or null. */
    <T> T call(Supplier<T> rpc) {
        Expect e = nextExpect();
        return check(e, outcome(rpc));
    }

    /** Starts the next call under test in the background; {@link #await} checks it. */
    <T> CompletableFuture<Outcome<T>> async(Supplier<T> rpc) {
        CompletableFuture<Outcome<T>> f = CompletableFuture.supplyAsync(() -> outcome(rpc), pool);
        outstanding.add(f);
        return f;
    }

    <T> T await(CompletableFuture<Outcome<T>> f) throws Exception {
        Expect e = nextExpect();
        return check(e, f.get(3, TimeUnit.MINUTES));
    }

    /** Whether every declared call was made. */
    String unmadeCalls() {
        return next == expects.size() ? null
                : "declared " + expects.size() + " calls under test, made " + next + " (next: " + expects.get(next)
                + ")";
    }

    private Expect nextExpect() {
        if (next >= expects.size()) {
            throw new Mismatch("more calls under test than the " + expects.size() + " declared");
        }
        return expects.get(next++);
    }

    record Outcome<T>(T response, Status status) {}

    private static <T> Outcome<T> outcome(Supplier<T> rpc) {
        try {
            return new Outcome<>(rpc.get(), Status.OK);
        } catch (StatusRuntimeException e) {
            return new Outcome<>(null, e.getStatus());
        }
    }

    private <T> T check(Expect e, Outcome<T> o) {
        // what an unexpected success made is removed after the scenario all the same
        if (o.response() instanceof Csi.CreateVolumeResponse r) {
            track(r.getVolume());
        } else if (o.response() instanceof Csi.CreateSnapshotResponse r) {
            trackSnapshot(r.getSnapshot().getSnapshotId());
        }
        if (o.status().getCode() != e.code()) {
            throw new Mismatch(e.rpc() + ": expected " + e.code() + ", got " + o.status().getCode()
                    + (o.status().getDescription() == null ? "" : " (" + o.status().getDescription() + ")"));
        }
        return o.response();
    }

    /** A setup call, not under test: it must succeed. */
    static <T> T must(String what, Supplier<T> rpc) {
        try {
            return rpc.get();
        } catch (StatusRuntimeException e) {
            throw new Mismatch("setup " + what + " failed: " + e.getStatus().getCode() + " "
                    + e.getStatus().getDescription());
        }
    }

    static void expect(boolean condition, String expected, Object got) {
        if (!condition) {
            throw new Mismatch("expected " + expected + ", got " + got);
        }
    }

    // ---- requests as csi-provisioner and kubelet send them

    /** A name unique in this run, as csi-sanity's UniqueString. */
    String unique(String prefix) {
        return "sanity-" + prefix + "-" + Integer.toHexString(scenario.hashCode() & 0xfffff);
    }

    static Map<String, String> params() {
        return Map.of("server", SERVER, "share", SHARE.toString());
    }

    static Csi.VolumeCapability cap(Csi.VolumeCapability.AccessMode.Mode mode) {
        return cap(mode, MOUNT_FLAGS);
    }

    static Csi.VolumeCapability cap(Csi.VolumeCapability.AccessMode.Mode mode, List<String> flags) {
        return Csi.VolumeCapability.newBuilder()
                .setMount(Csi.VolumeCapability.MountVolume.newBuilder().addAllMountFlags(flags))
                .setAccessMode(Csi.VolumeCapability.AccessMode.newBuilder().setMode(mode))
                .build();
    }

    static Csi.VolumeCapability snw() {
        return cap(Csi.VolumeCapability.AccessMode.Mode.SINGLE_NODE_WRITER);
    }

    static Csi.CreateVolumeRequest.Builder createReq(String name) {
        return Csi.CreateVolumeRequest.newBuilder().setName(name)
                .setCapacityRange(Csi.CapacityRange.newBuilder().setRequiredBytes(SIZE))
                .addVolumeCapabilities(snw()).putAllParameters(params());
    }

    /** An ID in this driver's format (see VolumeId), for volumes that a scenario names without creating them. */
    static String volumeId(String server, String share, String subDir, String name) {
        return "nfs-csi:1#" + server + "#" + share + "#" + subDir + "#" + name + "#delete";
    }

    static Csi.NodePublishVolumeRequest.Builder publishReq(String volumeId, Map<String, String> context, Path target,
                                                         Csi.VolumeCapability.AccessMode.Mode mode) {
        return Csi.NodePublishVolumeRequest.newBuilder().setVolumeId(volumeId).setTargetPath(target.toString())
                .setVolumeCapability(cap(mode)).putAllVolumeContext(context);
    }

    static Csi.NodePublishVolumeRequest.Builder publishReq(Csi.Volume v, Path target,
                                                         Csi.VolumeCapability.AccessMode.Mode mode) {
        return publishReq(v.getVolumeId(), v.getVolumeContextMap(), target, mode);
    }

    static Csi.NodeUnpublishVolumeRequest unpublishReq(String volumeId, Path target) {
        return Csi.NodeUnpublishVolumeRequest.newBuilder().setVolumeId(volumeId).setTargetPath(target.toString())
                .build();
    }

    static Path target() {
        return MOUNT_DIR.resolve("target");
    }

    static Path target2() {
        return MOUNT_DIR.resolve("target2");
    }

    // ---- objects made in setup, removed after the scenario

    /** Creates a volume in setup and deletes it after the scenario. */
    Csi.Volume volume(String name) {
        return volume(createReq(name).build());
    }

    Csi.Volume volume(Csi.CreateVolumeRequest req) {
        Csi.Volume v = must("CreateVolume " + req.getName(), () -> ctl().createVolume(req)).getVolume();
        track(v);
        return v;
    }

    /** Deletes the volume after the scenario (a volume that a call under test made). */
    Csi.Volume track(Csi.Volume v) {
        if (v != null && !volumes.contains(v.getVolumeId())) {
            volumes.add(v.getVolumeId());
        }
        return v;
    }

    /** Creates a snapshot in setup, repeats CreateSnapshot until it is ready, and deletes it after the scenario. */
    Csi.Snapshot snapshot(String name, String sourceVolumeId) throws InterruptedException {
        var req = Csi.CreateSnapshotRequest.newBuilder().setName(name).setSourceVolumeId(sourceVolumeId).build();
        Csi.Snapshot s = must("CreateSnapshot " + name, () -> ctl().createSnapshot(req)).getSnapshot();
        trackSnapshot(s.getSnapshotId());
        for (int i = 0; !s.getReadyToUse() && i < 300; i++) {
            Thread.sleep(200); // polling the driver's background job, as csi-snapshotter does
            s = must("CreateSnapshot " + name, () -> ctl().createSnapshot(req)).getSnapshot();
        }
        expect(s.getReadyToUse(), "snapshot " + name + " ready within 60s", "not ready");
        return s;
    }

    void trackSnapshot(String id) {
        if (!snapshots.contains(id)) {
            snapshots.add(id);
        }
    }

    /** Publishes in setup; unpublished after the scenario. */
    void publish(Csi.NodePublishVolumeRequest req) {
        must("NodePublishVolume at " + req.getTargetPath(), () -> node().nodePublishVolume(req));
        published(req.getVolumeId(), Path.of(req.getTargetPath()));
    }

    /** Unpublishes after the scenario (a publish that a call under test made). */
    void published(String volumeId, Path target) {
        targets.add(new String[] {volumeId, target.toString()});
    }

    void onCleanup(ThrowingRunnable r) {
        cleanups.push(r);
    }

    static void sh(String script) {
        Shell.sh(script).orThrow();
    }

    /** Drops every packet to {@link #HUNG_SERVER} until the scenario ends: a server that stopped answering. */
    void hangServer2() {
        sh("iptables-legacy -I " + DROP);
        onCleanup(Bed::releaseServer2);
    }

    static void releaseServer2() {
        Shell.sh("while iptables-legacy -D " + DROP + " 2>/dev/null; do :; done");
    }

    /** Waits until a mount process whose command line holds {@code needle} runs: the call is inside its mount. */
    static void awaitMountProcess(String needle) throws InterruptedException {
        for (int i = 0; i < 400; i++) {
            if (!mountProcesses(needle).isEmpty()) {
                return;
            }
            Thread.sleep(25);
        }
        throw new Mismatch("no mount process for " + needle + " within 10s");
    }

    /** Whether {@code condition} holds within 10 s. */
    static boolean eventually(java.util.function.BooleanSupplier condition) throws InterruptedException {
        for (int i = 0; i < 200; i++) {
            if (condition.getAsBoolean()) {
                return true;
            }
            Thread.sleep(50);
        }
        return condition.getAsBoolean();
    }

    static List<String> mountProcesses(String needle) {
        return ProcessHandle.allProcesses()
                .filter(p -> p.info().command().map(c -> c.endsWith("/mount") || c.contains("mount.nfs"))
                        .orElse(false))
                .map(p -> p.pid() + " " + p.info().commandLine().orElse("?"))
                .filter(c -> c.contains(needle))
                .toList();
    }

    // ---- after each scenario

    /** Removes what the scenario made through the driver; returns what could not be removed that way. */
    List<String> cleanUp() {
        List<String> problems = new ArrayList<>();
        for (CompletableFuture<?> f : outstanding) {
            try {
                f.get(3, TimeUnit.MINUTES);
            } catch (Exception e) {
                problems.add("a background call did not finish: " + e);
            }
        }
        outstanding.clear();
        while (!cleanups.isEmpty()) {
            try {
                cleanups.pop().run();
            } catch (Exception | AssertionError e) {
                problems.add("cleanup: " + e.getMessage());
            }
        }
        for (String[] t : targets.reversed()) {
            retrying(problems, "NodeUnpublishVolume " + t[1],
                    () -> node().nodeUnpublishVolume(unpublishReq(t[0], Path.of(t[1]))));
        }
        for (String id : volumes.reversed()) {
            retrying(problems, "DeleteVolume " + id,
                    () -> ctl().deleteVolume(Csi.DeleteVolumeRequest.newBuilder().setVolumeId(id).build()));
        }
        for (String id : snapshots.reversed()) {
            retrying(problems, "DeleteSnapshot " + id,
                    () -> ctl().deleteSnapshot(Csi.DeleteSnapshotRequest.newBuilder().setSnapshotId(id).build()));
        }
        targets.clear();
        volumes.clear();
        snapshots.clear();
        return problems;
    }

    /** Cleanup calls retry what a busy driver answers (a background fill, a recovering share) for up to a minute. */
    private static void retrying(List<String> problems, String what, Supplier<?> rpc) {
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (true) {
            try {
                rpc.get();
                return;
            } catch (StatusRuntimeException e) {
                Status.Code c = e.getStatus().getCode();
                boolean retry = c == Status.Code.ABORTED || c == Status.Code.UNAVAILABLE
                        || c == Status.Code.DEADLINE_EXCEEDED;
                if (!retry || System.nanoTime() > until) {
                    problems.add("cleanup " + what + ": " + c + " " + e.getStatus().getDescription());
                    return;
                }
                try {
                    Thread.sleep(500);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }

    /**
     * What a scenario left: mounts under the mount and staging directories, anything inside them, volume or
     * snapshot directories and records on the share, mount processes still running.
     */
    static List<String> leftovers() {
        List<String> left = new ArrayList<>();
        for (MountEntry m : MountTable.read().entries()) {
            if (m.mountPoint().startsWith(MOUNT_DIR) || m.mountPoint().startsWith(STAGING_DIR)) {
                left.add("mount " + m.source() + " at " + m.mountPoint());
            }
        }
        left.addAll(entries(MOUNT_DIR, "in the mount dir"));
        left.addAll(entries(STAGING_DIR, "in the staging dir"));
        for (String e : entries(SHARE, "on the share")) {
            if (!e.endsWith("/.nfs-csi")) {
                left.add(e);
            }
        }
        left.addAll(entries(SHARE.resolve(".nfs-csi/volumes"), "volume record"));
        left.addAll(entries(SHARE.resolve(".nfs-csi/snapshots"), "snapshot record"));
        // a call that gave up at its deadline may still be killing its mount processes: give them a moment
        for (int i = 0; i < 100 && !mountProcesses("").isEmpty(); i++) {
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        mountProcesses("").forEach(p -> left.add("mount process " + p));
        return left;
    }

    private static List<String> entries(Path dir, String where) {
        if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> where + ": " + p).sorted().toList();
        } catch (IOException e) {
            return List.of(where + ": cannot list " + dir + ": " + e);
        }
    }

    /** Takes away what a failed scenario left, so that the next one starts from the same state. */
    static void forceClean() {
        for (String p : mountProcesses("")) {
            ProcessHandle.of(Long.parseLong(p.substring(0, p.indexOf(' ')))).ifPresent(ProcessHandle::destroyForcibly);
        }
        Shell.sh("for m in $(awk '{print $5}' /proc/self/mountinfo | grep -E '^(" + MOUNT_DIR + "|" + STAGING_DIR
                + ")/' | sort -r); do umount -l \"$m\"; done; "
                + "rm -rf " + MOUNT_DIR + "/* " + STAGING_DIR + "/* ; "
                + "find " + SHARE + " -mindepth 1 -maxdepth 1 ! -name .nfs-csi -exec rm -rf {} + ; "
                + "rm -f " + SHARE + "/.nfs-csi/volumes/* " + SHARE + "/.nfs-csi/snapshots/*");
    }

    void shutdown() {
        pool.shutdownNow();
    }
}
