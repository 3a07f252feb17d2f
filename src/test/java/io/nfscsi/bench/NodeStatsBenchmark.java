package io.nfscsi.bench;

import io.nfscsi.csi.v1.Csi;
import io.nfscsi.csi.v1.IdentityGrpc;
import io.nfscsi.csi.v1.NodeGrpc;
import io.nfscsi.testbed.DriverProcess;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Per-call latency of the calls that kubelet and the sidecars poll (issue 12), in one test-bed run against the real
 * kernel NFS server:
 * <ul>
 *   <li>NodeGetVolumeStats of a published volume, 4 callers at once, with the stats cache on (the default TTL) and off
 *       ({@code --volume-stats-cache-ttl 0}), the two drivers measured in alternating rounds;</li>
 *   <li>Probe while idle, and while 8 loops of CreateVolume+DeleteVolume run against the same driver.</li>
 * </ul>
 * With {@code NFSCSI_BASELINE} naming another build's launcher (an earlier commit's {@code bin/nfs-csi}), the same
 * figures are measured for it in the same run, as the old path's baseline.
 *
 * <p>The measuring code is in static methods ({@link #statsLatency}, {@link #probeLatency}, {@link #probeUnderLoad},
 * {@link #publish}) so that bench/footprint can reuse it. Run with {@code bench/node-stats [ROUNDS [CALLS]]}.
 */
public final class NodeStatsBenchmark {

    private NodeStatsBenchmark() {}

    /** Percentiles of a set of call latencies, in milliseconds. */
    public record Latency(int calls, double p50, double p99, double max, int abnormal) {
        public static Latency of(long[] nanos) {
            return of(nanos, 0);
        }

        /** With {@code abnormal} of the calls answered with an abnormal volume condition. */
        public static Latency of(long[] nanos, int abnormal) {
            long[] sorted = nanos.clone();
            Arrays.sort(sorted);
            return new Latency(sorted.length, at(sorted, 0.50), at(sorted, 0.99), sorted[sorted.length - 1] / 1e6,
                    abnormal);
        }

        private static double at(long[] sorted, double q) {
            int i = (int) Math.ceil(q * sorted.length) - 1;
            return sorted[Math.max(0, Math.min(sorted.length - 1, i))] / 1e6;
        }

        @Override
        public String toString() {
            return String.format("p50 %7.2f ms  p99 %7.2f ms  max %7.2f ms  (%d calls%s)", p50, p99, max, calls,
                    abnormal == 0 ? "" : ", " + abnormal + " answered abnormal");
        }
    }

    /** The share that the benchmark's volumes live on, in the test bed's export. */
    public static Path share() throws Exception {
        Path share = Path.of(System.getenv().getOrDefault("NFS_EXPORT", "/export")).resolve("bench-node-stats");
        Files.createDirectories(share);
        return share;
    }

    /**
     * Publishes a static volume of {@code share} on {@code server} at a fresh kubelet-like target path and returns
     * the path; the volume ID is {@code volumeId}.
     */
    public static Path publish(DriverProcess driver, String volumeId, String server, Path share) throws Exception {
        Path parent = Path.of("/var/lib/kubelet/pods", UUID.randomUUID().toString(), "volumes/kubernetes.io~csi",
                volumeId);
        Files.createDirectories(parent);
        Path target = parent.resolve("mount");
        driver.node().nodePublishVolume(Csi.NodePublishVolumeRequest.newBuilder()
                .setVolumeId(volumeId)
                .setTargetPath(target.toString())
                .setVolumeCapability(Csi.VolumeCapability.newBuilder()
                        .setMount(Csi.VolumeCapability.MountVolume.getDefaultInstance())
                        .setAccessMode(Csi.VolumeCapability.AccessMode.newBuilder()
                                .setMode(Csi.VolumeCapability.AccessMode.Mode.MULTI_NODE_MULTI_WRITER)))
                .putVolumeContext("server", server)
                .putVolumeContext("share", share.toString())
                .build());
        return target;
    }

    public static void unpublish(DriverProcess driver, String volumeId, Path target) {
        driver.node().nodeUnpublishVolume(Csi.NodeUnpublishVolumeRequest.newBuilder().setVolumeId(volumeId)
                .setTargetPath(target.toString()).build());
    }

    /**
     * NodeGetVolumeStats of {@code volumeId} at {@code target}, {@code callers} at once, {@code callsEach} calls
     * each; every answer must carry usage and a normal condition.
     */
    public static Latency statsLatency(NodeGrpc.NodeBlockingStub node, String volumeId, Path target, int callers,
                                       int callsEach) throws Exception {
        var request = Csi.NodeGetVolumeStatsRequest.newBuilder().setVolumeId(volumeId)
                .setVolumePath(target.toString()).build();
        long[] nanos = new long[callers * callsEach];
        AtomicInteger abnormal = new AtomicInteger();
        try (ExecutorService pool = Executors.newFixedThreadPool(callers)) {
            List<Future<?>> running = new ArrayList<>();
            for (int c = 0; c < callers; c++) {
                int base = c * callsEach;
                running.add(pool.submit(() -> {
                    for (int i = 0; i < callsEach; i++) {
                        long start = System.nanoTime();
                        var reply = node.withDeadlineAfter(30, TimeUnit.SECONDS).nodeGetVolumeStats(request);
                        nanos[base + i] = System.nanoTime() - start;
                        if (reply.getVolumeCondition().getAbnormal()) {
                            // the old path answers a call that overlaps another on the same path so
                            abnormal.incrementAndGet();
                        } else if (reply.getUsageCount() != 2) {
                            throw new IllegalStateException("unexpected stats reply: " + reply);
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> f : running) {
                f.get();
            }
        }
        return Latency.of(nanos, abnormal.get());
    }

    /** {@code probes} Probe calls one after another, {@code gapMillis} apart; each must answer ready. */
    public static Latency probeLatency(IdentityGrpc.IdentityBlockingStub identity, int probes, long gapMillis)
            throws InterruptedException {
        long[] nanos = new long[probes];
        for (int i = 0; i < probes; i++) {
            long start = System.nanoTime();
            var reply = identity.withDeadlineAfter(30, TimeUnit.SECONDS).probe(Csi.ProbeRequest.getDefaultInstance());
            nanos[i] = System.nanoTime() - start;
            if (!reply.getReady().getValue()) {
                throw new IllegalStateException("Probe answered not ready");
            }
            Thread.sleep(gapMillis);
        }
        return Latency.of(nanos);
    }

    /** Probe latency and the create+delete cycles that ran meanwhile. */
    public record UnderLoad(Latency probe, int cycles, double seconds) {
        @Override
        public String toString() {
            return probe + String.format(";  %d create+delete cycles in %.1f s (%.1f/s)", cycles, seconds,
                    cycles / seconds);
        }
    }

    /**
     * Probe latency ({@code probes} calls, {@code gapMillis} apart) while {@code loops} threads run CreateVolume +
     * DeleteVolume cycles on {@code share} of {@code server} against the same driver.
     */
    public static UnderLoad probeUnderLoad(DriverProcess driver, String server, Path share, String label, int loops,
                                           int probes, long gapMillis) throws Exception {
        // no shared parent directory: 8 concurrent DeleteVolumes removing the empty parents of sibling subDirs
        // failed with INTERNAL "Stale file handle" in the test bed (the controller's empty-parent cleanup)
        Map<String, String> sc = Map.of("server", server, "share", share.toString(),
                "subDir", label + "-${pv.metadata.name}");
        AtomicBoolean running = new AtomicBoolean(true);
        AtomicInteger cycles = new AtomicInteger();
        ProvisionCycleBenchmark.cycle(driver.controller(), sc, label + "-warmup");
        try (ExecutorService pool = Executors.newFixedThreadPool(loops)) {
            List<Future<?>> loopsRunning = new ArrayList<>();
            for (int l = 0; l < loops; l++) {
                int loop = l;
                loopsRunning.add(pool.submit(() -> {
                    for (int i = 0; running.get(); i++) {
                        // a fresh stub per cycle: DriverProcess's stubs carry a deadline from their creation
                        ProvisionCycleBenchmark.cycle(driver.controller(), sc, label + "-" + loop + "-" + i);
                        cycles.incrementAndGet();
                    }
                    return null;
                }));
            }
            Thread.sleep(1000); // the loops reach their pace
            long start = System.nanoTime();
            int before = cycles.get();
            Latency probe = probeLatency(driver.identity(), probes, gapMillis);
            double seconds = (System.nanoTime() - start) / 1e9;
            int during = cycles.get() - before;
            running.set(false);
            for (Future<?> f : loopsRunning) {
                f.get();
            }
            return new UnderLoad(probe, during, seconds);
        }
    }

    /** A driver under test: its label, its process, and the volume it published. */
    private record Subject(String label, DriverProcess driver, String volumeId, Path target) {}

    public static void main(String[] args) throws Exception {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 3;
        int callsEach = args.length > 1 ? Integer.parseInt(args[1]) : 100;
        String server = "127.0.0.1";
        Path share = share();
        String verbosity = System.getenv().getOrDefault("BENCH_V", "2");
        List<Subject> subjects = new ArrayList<>();
        boolean onlyBaseline = System.getenv("BENCH_ONLY_BASELINE") != null;
        try {
            if (!onlyBaseline) {
            subjects.add(start("cache on (default TTL)", DriverProcess.home().resolve("bin/nfs-csi"),
                    "/run/bench-stats-cache", server, share, "-v", verbosity));
            subjects.add(start("cache off (--volume-stats-cache-ttl 0)", DriverProcess.home().resolve("bin/nfs-csi"),
                    "/run/bench-stats-nocache", server, share, "-v", verbosity, "--volume-stats-cache-ttl", "0"));
            }
            String baseline = System.getenv("NFSCSI_BASELINE");
            if (baseline != null && !baseline.isBlank()) {
                subjects.add(start("baseline " + baseline, Path.of(baseline), "/run/bench-stats-baseline", server,
                        share, "-v", verbosity));
            }
            componentCosts(subjects.getFirst().target(), 300);
            for (Subject s : rounds > 0 ? subjects : List.<Subject>of()) { // warm-up
                statsLatency(s.driver().node(), s.volumeId(), s.target(), 4, 20);
            }
            List<List<Latency>> stats = new ArrayList<>();
            subjects.forEach(s -> stats.add(new ArrayList<>()));
            for (int r = 0; r < rounds; r++) {
                for (int i = 0; i < subjects.size(); i++) {
                    Subject s = subjects.get(i);
                    long pid = s.driver().process().pid();
                    Map<String, Long> driverBefore = ThreadCpu.snapshot(pid);
                    Map<String, Long> clientBefore = ThreadCpu.snapshot(ProcessHandle.current().pid());
                    long machineBefore = ThreadCpu.machineBusy();
                    Latency l = statsLatency(s.driver().node(), s.volumeId(), s.target(), 4, callsEach);
                    long machine = ThreadCpu.machineBusy() - machineBefore;
                    stats.get(i).add(l);
                    System.out.printf("round %d  %-45s NodeGetVolumeStats x4: %s%n", r + 1, s.label(), l);
                    System.out.printf("    CPU per call: machine %.2f ms; driver %s%n    client %s%n",
                            machine * 10.0 / l.calls(),
                            ThreadCpu.perCall(driverBefore, ThreadCpu.snapshot(pid), l.calls()),
                            ThreadCpu.perCall(clientBefore, ThreadCpu.snapshot(ProcessHandle.current().pid()),
                                    l.calls()));
                }
            }
            System.out.printf("%nNodeGetVolumeStats, 4 concurrent callers, %d calls per round, median of %d rounds"
                    + " (same test bed, same run):%n", 4 * callsEach, rounds);
            for (int i = 0; i < subjects.size() && rounds > 0; i++) {
                List<Latency> ls = stats.get(i);
                System.out.printf("  %-45s p50 %7.2f ms  p99 %7.2f ms%n", subjects.get(i).label(),
                        median(ls.stream().mapToDouble(Latency::p50).toArray()),
                        median(ls.stream().mapToDouble(Latency::p99).toArray()));
            }
            if (System.getenv("BENCH_SKIP_PROBE") != null) {
                return;
            }
            System.out.printf("%nProbe, 200 calls 10 ms apart (same run):%n");
            for (Subject s : subjects.subList(0, onlyBaseline ? 0 : 1)) {
                System.out.printf("  %-45s idle:            %s%n", s.label(), probeLatency(s.driver().identity(),
                        200, 10));
                System.out.printf("  %-45s 8 create+delete: %s%n", s.label(), probeUnderLoad(s.driver(), server,
                        share, "load-new", 8, 200, 10));
            }
            for (Subject s : subjects.subList(onlyBaseline ? 0 : Math.min(2, subjects.size()), subjects.size())) {
                System.out.printf("  %-45s idle:            %s%n", s.label(), probeLatency(s.driver().identity(),
                        200, 10));
                System.out.printf("  %-45s 8 create+delete: %s%n", s.label(), probeUnderLoad(s.driver(), server,
                        share, "load-old", 8, 200, 10));
            }
        } finally {
            for (Subject s : subjects) {
                try {
                    unpublish(s.driver(), s.volumeId(), s.target());
                } catch (RuntimeException e) {
                    System.err.println("unpublish " + s.target() + ": " + e);
                }
                s.driver().close();
            }
        }
    }

    private static Subject start(String label, Path launcher, String dir, String server, Path share,
                                 String... flags) throws Exception {
        DriverProcess driver = DriverProcess.start(launcher, Path.of(dir), flags);
        String volumeId = "bench-" + Path.of(dir).getFileName();
        return new Subject(label, driver, volumeId, publish(driver, volumeId, server, share));
    }

    /**
     * What the steps of a NodeGetVolumeStats cost in this process, in the test bed: the mount-table read, the stat
     * calls on the NFS mount. Microseconds per call, median of {@code n}.
     */
    public static void componentCosts(Path target, int n) throws Exception {
        System.out.printf("%nCost of each step of NodeGetVolumeStats in this JVM, median of %d (µs):%n", n);
        cost("MountTable.read() (/proc/self/mountinfo, "
                + io.nfscsi.mount.MountTable.read().entries().size() + " mounts)", n,
                () -> io.nfscsi.mount.MountTable.read());
        cost("statvfs(target) (NFS FSSTAT round trip)", n, () -> io.nfscsi.mount.Posix.statvfs(target));
        cost("statx(target, AT_STATX_FORCE_SYNC) (NFS GETATTR round trip, mount ID)", n,
                () -> io.nfscsi.mount.Posix.liveMountId(target));
        cost("Files.exists(target)", n, () -> Files.exists(target));
        try (ExecutorService one = Executors.newSingleThreadExecutor()) {
            cost("handoff to a waiting platform thread and back", n, () -> one.submit(() -> null).get());
        }
        cost("a new platform thread, started and joined", Math.min(n, 50), () -> {
            Thread t = Thread.ofPlatform().start(() -> { });
            t.join();
            return null;
        });
    }

    @FunctionalInterface
    private interface Step {
        Object run() throws Exception;
    }

    private static void cost(String what, int n, Step step) throws Exception {
        long[] nanos = new long[n];
        for (int i = 0; i < n; i++) {
            long start = System.nanoTime();
            step.run();
            nanos[i] = System.nanoTime() - start;
        }
        Arrays.sort(nanos);
        System.out.printf("  %-70s %9.1f%n", what, nanos[n / 2] / 1e3);
    }

    private static double median(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        return sorted[sorted.length / 2];
    }
}
