package io.nfscsi.bench;

import io.grpc.StatusRuntimeException;
import io.nfscsi.csi.v1.Csi;
import io.nfscsi.image.AotTraining;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Issue 12's table for this driver, measured in one test-bed run (testbed/nfs-vm: the real kernel NFS server, one
 * CPU), with the same driver started with {@code --mount-per-request} as the in-run baseline where it applies
 * (the controller's rows: it mounts and unmounts the share around every call, as csi-driver-nfs does). Prints
 * figures and ratios; asserts nothing about time.
 *
 * <p>Rows (select with {@code --rows a,b}; default all but {@code aot} and {@code warmup}):
 * <ul>
 * <li>{@code memory}: idle RSS of a node-plugin driver (3 s after its socket answers) and after 1,000 calls
 *     (250 rounds of Probe, NodeGetCapabilities, NodeGetInfo, NodeGetVolumeStats of a real NFS volume).</li>
 * <li>{@code start}: exec of bin/nfs-csi to the first answered Probe, node flags (one unmeasured start first).</li>
 * <li>{@code probe}: Probe p50/p99 while 8 loops of CreateVolume+DeleteVolume run.</li>
 * <li>{@code stats}: NodeGetVolumeStats p50/p99, 4 concurrent callers, a published NFS volume.</li>
 * <li>{@code cycles}: CreateVolume+DeleteVolume cycle p50, sequential, and cycles/s 8-way.</li>
 * <li>{@code scale}: on shares of 0, 1,000 and 10,000 volumes ({@code --counts}): ListVolumes page of 100 and
 *     full listing (through {@link ListingBenchmark}), create+delete p50 and 8-way cycles/s.</li>
 * <li>{@code aot}: start and idle RSS of the node plugin without AOT cache, with the start-up-trained cache (the
 *     image's so far) and with a node-trained one, all trained here first ({@link AotTraining}).</li>
 * <li>{@code warmup}: the controller's first 100 cycles after start, without cache, with the start-up cache and
 *     with a controller-trained one; and, without cache, 100 cycles again after a warm-up.</li>
 * </ul>
 * {@code --quick} uses smaller counts. The measuring code of each row is one static method, so that another
 * benchmark's can replace it.
 */
public final class FootprintBenchmark {

    private static final Set<String> ALL = Set.of("memory", "start", "probe", "stats", "cycles", "scale", "aot",
            "warmup");
    private static final List<String> DEFAULT = List.of("memory", "start", "probe", "stats", "cycles", "scale");

    private final Path launcher;
    private final Path javaHome;
    private final Path export;
    private final Path work = Path.of("/run/footprint");
    private final boolean quick;
    private final List<String> table = new ArrayList<>();
    private int driverSeq;

    private FootprintBenchmark(Path launcher, Path javaHome, Path export, boolean quick) {
        this.launcher = launcher;
        this.javaHome = javaHome;
        this.export = export;
        this.quick = quick;
    }

    public static void main(String[] args) throws Exception {
        Set<String> rows = new LinkedHashSet<>(DEFAULT);
        boolean quick = false;
        int[] counts = {1000, 10000};
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--quick" -> quick = true;
                case "--rows" -> {
                    rows.clear();
                    for (String r : args[++i].split(",")) {
                        if (r.equals("all")) {
                            rows.addAll(ALL);
                        } else if (ALL.contains(r)) {
                            rows.add(r);
                        } else {
                            throw new IllegalArgumentException("--rows: unknown row " + r + "; known: " + ALL);
                        }
                    }
                }
                case "--counts" -> counts = Arrays.stream(args[++i].split(",")).mapToInt(Integer::parseInt)
                        .toArray();
                default -> throw new IllegalArgumentException("unknown argument " + args[i]
                        + "; usage: [--quick] [--rows " + String.join(",", ALL) + "|all] [--counts 1000,10000]");
            }
        }
        Path home = Path.of(System.getProperty("nfscsi.home", ".")).toAbsolutePath().normalize();
        Path javaHome = Path.of(System.getenv().getOrDefault("DRIVER_JAVA_HOME", System.getProperty("java.home")));
        Path export = Path.of(System.getenv().getOrDefault("NFS_EXPORT", "/export"));
        FootprintBenchmark b = new FootprintBenchmark(home.resolve("bin/nfs-csi"), javaHome, export, quick);
        b.header(rows, counts);
        long began = System.nanoTime();
        for (String row : rows) {
            long t = System.nanoTime();
            switch (row) {
                case "memory" -> b.memoryRows();
                case "start" -> b.startRow();
                case "probe" -> b.probeRow();
                case "stats" -> b.statsRow();
                case "cycles" -> b.cycleRows();
                case "scale" -> b.scaleRows(counts);
                case "aot" -> b.aotRows();
                case "warmup" -> b.warmupRows();
                default -> throw new IllegalStateException(row);
            }
            System.out.printf("(%s: %.0f s)%n", row, (System.nanoTime() - t) / 1e9);
        }
        System.out.printf("%nIssue 12's table, this driver (test bed, %s, %s; %.0f s in all):%n%n",
                Instant.now().toString().substring(0, 16).replace('T', ' ') + " UTC", quick ? "quick" : "full",
                (System.nanoTime() - began) / 1e9);
        System.out.println("| measure | nfs-csi | --mount-per-request (same run) | ratio |");
        System.out.println("|---|---|---|---|");
        b.table.forEach(System.out::println);
    }

    private void header(Set<String> rows, int[] counts) throws IOException {
        System.out.printf("bench/footprint: rows %s, %s mode, counts %s%n", rows, quick ? "quick" : "full",
                Arrays.toString(counts));
        System.out.printf("driver: %s, JAVA_HOME=%s (Java %s), kernel %s, %d CPU%n", launcher, javaHome,
                javaVersion(), System.getProperty("os.version"), Runtime.getRuntime().availableProcessors());
        System.out.printf("node plugin: NFSCSI_JAVA_OPTS=\"%s\" flags %s%n", FootprintDriver.NODE_JAVA_OPTS,
                String.join(" ", FootprintDriver.NODE_FLAGS));
        System.out.printf("controller:  NFSCSI_JAVA_OPTS=\"%s\" flags %s; baseline adds --mount-per-request%n",
                FootprintDriver.CONTROLLER_JAVA_OPTS, String.join(" ", FootprintDriver.CONTROLLER_FLAGS));
        System.out.println("launcher JVM flags: bin/nfs-csi's (SerialGC, C1 only, -Xms8m, unpooled Netty, ...);"
                + " no AOT cache unless a row says so (NFSCSI_AOT=)");
    }

    private String javaVersion() throws IOException {
        for (String line : Files.readAllLines(javaHome.resolve("release"))) {
            if (line.startsWith("JAVA_RUNTIME_VERSION=")) {
                return line.substring(line.indexOf('=') + 1).replace("\"", "");
            }
        }
        return "?";
    }

    // ---------------------------------------------------------------------------------------------- drivers

    private FootprintDriver node(Map<String, String> env) throws Exception {
        return start(FootprintDriver.NODE_JAVA_OPTS, FootprintDriver.NODE_FLAGS, env);
    }

    private FootprintDriver controller(Map<String, String> env, String... flags) throws Exception {
        List<String> all = new ArrayList<>(FootprintDriver.CONTROLLER_FLAGS);
        all.addAll(List.of(flags));
        return start(FootprintDriver.CONTROLLER_JAVA_OPTS, all, env);
    }

    private FootprintDriver start(String javaOpts, List<String> flags, Map<String, String> env) throws Exception {
        Map<String, String> e = new java.util.HashMap<>(Map.of("JAVA_HOME", javaHome.toString(),
                "NFSCSI_JAVA_OPTS", javaOpts));
        e.putAll(env);
        return FootprintDriver.start(launcher, work.resolve("driver-" + (++driverSeq)), e, flags,
                launcher.getParent().resolveSibling("target/footprint-logs"));
    }

    /** A fresh, empty directory of the export, and its SERVER:/PATH. */
    private Path freshShare(String name) throws IOException {
        Path share = export.resolve(name);
        deleteTree(share);
        Files.createDirectories(share);
        return share;
    }

    // ---------------------------------------------------------------------------------------------- rows

    private void memoryRows() throws Exception {
        Path share = freshShare("footprint-static");
        try (FootprintDriver d = node(Map.of())) {
            Thread.sleep(3000);
            long idle = d.rssKb();
            row("idle RSS of the driver", mb(idle), "", "");
            Path target = publish(d, share, "footprint-memory");
            int rounds = 250;
            long t = System.nanoTime();
            int abnormal = nodeLoad(d, target, rounds);
            System.out.printf("memory: %d calls in %.1f s, %d stats answered abnormal%n", rounds * 4,
                    (System.nanoTime() - t) / 1e9, abnormal);
            Thread.sleep(2000);
            long after = d.rssKb();
            unpublish(d, target);
            row("RSS after 1,000 calls of load", mb(after), "", "");
        }
    }

    private void startRow() throws Exception {
        int runs = quick ? 3 : 7;
        // the first start in a fresh test bed reads the JDK and jars through hostfs: not measured
        try (FootprintDriver ignored = node(Map.of())) {
            System.out.printf("start: unmeasured first start %d ms%n", ignored.startMillis());
        }
        List<Double> ms = new ArrayList<>();
        for (int i = 0; i < runs; i++) {
            try (FootprintDriver d = node(Map.of())) {
                ms.add((double) d.startMillis());
            }
        }
        System.out.printf("start: %s ms%n", ms);
        row("start to socket ready (test bed, no AOT cache)", String.format("%.2f s (median of %d; min %.2f s)",
                pct(ms, 0.5) / 1000, runs, Collections.min(ms) / 1000), "", "");
    }

    private void probeRow() throws Exception {
        int probes = quick ? 200 : 500;
        Path share = freshShare("footprint-probe");
        Latency pooled;
        Latency perRequest;
        try (FootprintDriver d = controller(Map.of())) {
            pooled = probeUnderLoad(d, share, 8, probes);
        }
        variantProbes(share, probes, pooled);
        try (FootprintDriver d = controller(Map.of(), "--mount-per-request")) {
            perRequest = probeUnderLoad(d, share, 8, probes);
        }
        row("Probe p50 / p99 while 8 create+delete loops run",
                String.format("%.1f ms / %.1f ms (%d probes)", pooled.p50(), pooled.p99(), pooled.count()),
                String.format("%.1f ms / %.1f ms (%d probes)", perRequest.p50(), perRequest.p99(),
                        perRequest.count()),
                String.format("p99 %.2fx", pooled.p99() / perRequest.p99()));
    }

    /**
     * The probe row again for each variant of the controller's JVM options in PROBE_VARIANTS
     * ({@code label=options;label=options}, the options added after the manifest's), then the unchanged driver once
     * more, so that each variant has a baseline on either side in the same run.
     */
    private void variantProbes(Path share, int probes, Latency first) throws Exception {
        String spec = System.getenv().getOrDefault("PROBE_VARIANTS", "");
        if (spec.isBlank()) {
            return;
        }
        List<String> lines = new ArrayList<>();
        lines.add(String.format("  %-40s p50 %6.1f ms  p99 %6.1f ms", "launcher's options", first.p50(),
                first.p99()));
        for (String variant : spec.split(";")) {
            String label = variant.substring(0, variant.indexOf('='));
            String opts = variant.substring(variant.indexOf('=') + 1);
            Latency l;
            try (FootprintDriver d = start(FootprintDriver.CONTROLLER_JAVA_OPTS + " " + opts,
                    FootprintDriver.CONTROLLER_FLAGS, Map.of())) {
                l = probeUnderLoad(d, share, 8, probes);
                System.out.printf("variant %s (%s): RSS after load %s%n", label, opts, mb(d.rssKb()));
            }
            lines.add(String.format("  %-40s p50 %6.1f ms  p99 %6.1f ms  (%s)", label, l.p50(), l.p99(), opts));
        }
        try (FootprintDriver d = controller(Map.of())) {
            Latency again = probeUnderLoad(d, share, 8, probes);
            lines.add(String.format("  %-40s p50 %6.1f ms  p99 %6.1f ms", "launcher's options, again",
                    again.p50(), again.p99()));
        }
        System.out.println("Probe under 8 create+delete loops, JVM option variants (same run):");
        lines.forEach(System.out::println);
    }

    private void statsRow() throws Exception {
        int perCaller = quick ? 100 : 250;
        Path share = freshShare("footprint-static");
        try (FootprintDriver d = node(Map.of())) {
            Path target = publish(d, share, "footprint-stats");
            Latency l = statsLatency(d, target, 4, perCaller);
            unpublish(d, target);
            row("NodeGetVolumeStats p50 (4 concurrent)", String.format("%.1f ms (p99 %.1f ms, %d calls, %d"
                    + " answered abnormal)", l.p50(), l.p99(), l.count(), l.abnormal()), "", "");
        }
    }

    private void cycleRows() throws Exception {
        int seq = quick ? 60 : 200;
        int perThread = quick ? 10 : 25;
        int baselineSeq = quick ? 5 : 15;
        int baselinePerThread = quick ? 1 : 3;
        Path share = freshShare("footprint-cycles");
        Cycles pooled;
        Cycles pooled8;
        Cycles perRequest;
        Cycles perRequest8;
        try (FootprintDriver d = controller(Map.of())) {
            sequentialCycles(d, share, "warm", 3);
            pooled = sequentialCycles(d, share, "seq", seq);
            pooled8 = concurrentCycles(d, share, "conc", 8, perThread);
        }
        try (FootprintDriver d = controller(Map.of(), "--mount-per-request")) {
            sequentialCycles(d, share, "warm", 1);
            perRequest = sequentialCycles(d, share, "seq", baselineSeq);
            perRequest8 = concurrentCycles(d, share, "conc", 8, baselinePerThread);
        }
        row("CreateVolume+DeleteVolume cycle p50, sequential",
                String.format("%.1f ms (%.1f cycles/s, %d cycles)", pooled.p50(), pooled.perSecond(),
                        pooled.count()),
                String.format("%.0f ms (%.2f cycles/s, %d cycles)", perRequest.p50(), perRequest.perSecond(),
                        perRequest.count()),
                String.format("%.1fx faster", perRequest.p50() / pooled.p50()));
        row("same, 8 concurrent", String.format("%.1f cycles/s (%d cycles)", pooled8.perSecond(), pooled8.count()),
                String.format("%.2f cycles/s (%d cycles)", perRequest8.perSecond(), perRequest8.count()),
                String.format("%.1fx", pooled8.perSecond() / perRequest8.perSecond()));
    }

    private void scaleRows(int[] counts) throws Exception {
        int pages = 5;
        int seq = quick ? 40 : 100;
        int perThread = quick ? 5 : 15;
        Cycles empty = null;
        Cycles empty8 = null;
        for (int n : prepend0(counts)) {
            Path share = export.resolve("footprint-scale-" + n);
            if (n == 0) {
                freshShare(share.getFileName().toString());
            } else {
                ListingBenchmark.populate(launcher, share, n);
            }
            try (FootprintDriver d = controller(Map.of(), "--share", "127.0.0.1:" + share)) {
                if (n > 0) {
                    ListingBenchmark.Listing l = ListingBenchmark.list(d.controller(), n, pages);
                    if (!l.complete()) {
                        row(String.format("ListVolumes at %,d volumes", n), String.format(
                                "first listing %.0f ms listed %d of %d", l.firstMs(), l.listed(), n), "", "");
                        continue;
                    }
                    row(String.format("ListVolumes page of 100, %,d volumes", n), String.format(
                            "p50 %.0f ms, max %.0f ms (%d pages)", l.pageP50Ms(), l.pageMaxMs(), l.pages()), "", "");
                    row(String.format("ListVolumes all %,d volumes", n), String.format(
                            "%.0f ms (median of 3; first, cold: %.0f ms)", l.fullMs(), l.firstMs()), "", "");
                }
                sequentialCycles(d, share, "warm", 3);
                Cycles c = sequentialCycles(d, share, "seq", seq);
                Cycles c8 = concurrentCycles(d, share, "conc", 8, perThread);
                if (n == 0) {
                    empty = c;
                    empty8 = c8;
                    row("create+delete on an empty share (--share), p50 / 8-way",
                            String.format("%.1f ms / %.1f cycles/s", c.p50(), c8.perSecond()), "", "");
                } else {
                    row(String.format("create+delete at %,d volumes, p50 / 8-way", n),
                            String.format("%.1f ms / %.1f cycles/s", c.p50(), c8.perSecond()), "",
                            String.format("%.2fx / %.2fx of the empty share", c.p50() / empty.p50(),
                                    c8.perSecond() / empty8.perSecond()));
                }
            }
        }
    }

    private void aotRows() throws Exception {
        int runs = quick ? 2 : 4;
        int rounds = quick ? 100 : 250;
        Path dir = work.resolve("aot");
        Files.createDirectories(dir);
        Path share = freshShare("footprint-aot");
        String shareSpec = "127.0.0.1:" + share;
        Map<String, Path> caches = new java.util.LinkedHashMap<>();
        caches.put("none", null);
        caches.put("start-up mix (image today)", train(dir, AotTraining.Mix.STARTUP, null));
        caches.put("node mix", train(dir, AotTraining.Mix.NODE, shareSpec));
        Path staticShare = freshShare("footprint-static");
        Map<String, List<Double>> starts = new java.util.LinkedHashMap<>();
        Map<String, List<Double>> idle = new java.util.LinkedHashMap<>();
        Map<String, Long> after = new java.util.LinkedHashMap<>();
        for (int r = 0; r < runs; r++) {
            for (var c : caches.entrySet()) {
                Map<String, String> env = c.getValue() == null ? Map.of()
                        : Map.of("NFSCSI_AOT", c.getValue().toString());
                try (FootprintDriver d = node(env)) {
                    starts.computeIfAbsent(c.getKey(), k -> new ArrayList<>()).add((double) d.startMillis());
                    Thread.sleep(3000);
                    idle.computeIfAbsent(c.getKey(), k -> new ArrayList<>()).add((double) d.rssKb());
                    if (r == 0) {
                        Path target = publish(d, staticShare, "footprint-aot");
                        nodeLoad(d, target, rounds);
                        Thread.sleep(2000);
                        after.put(c.getKey(), d.rssKb());
                        unpublish(d, target);
                    }
                }
            }
        }
        double base = pct(starts.get("none"), 0.5);
        double baseIdle = pct(idle.get("none"), 0.5);
        for (String k : caches.keySet()) {
            System.out.printf("aot: %s: starts %s ms, idle %s kB%n", k, starts.get(k), idle.get(k));
            row("node plugin, AOT cache: " + k, String.format("start %.2f s (median of %d), idle %s, after %,d"
                            + " calls %s", pct(starts.get(k), 0.5) / 1000, runs, mb((long) pct(idle.get(k), 0.5)),
                    rounds * 4, mb(after.get(k))), "", k.equals("none") ? "" : String.format("start %+.2f s, idle %+.1f MB",
                    (pct(starts.get(k), 0.5) - base) / 1000, (pct(idle.get(k), 0.5) - baseIdle) / 1024));
        }
    }

    private void warmupRows() throws Exception {
        int reps = quick ? 1 : 2;
        int first = 100;
        int warm = quick ? 200 : 1000;
        Path dir = work.resolve("aot");
        Files.createDirectories(dir);
        Map<String, Path> caches = new java.util.LinkedHashMap<>();
        caches.put("none", null);
        if (!quick) {
            caches.put("start-up mix (image today)", train(dir, AotTraining.Mix.STARTUP, null));
        }
        caches.put("controller mix", train(dir, AotTraining.Mix.CONTROLLER,
                "127.0.0.1:" + freshShare("footprint-aot-controller")));
        Map<String, List<Cycles>> firsts = new java.util.LinkedHashMap<>();
        Map<String, List<Double>> starts = new java.util.LinkedHashMap<>();
        Cycles warmed = null;
        for (int r = 0; r < reps; r++) {
            for (var c : caches.entrySet()) {
                Map<String, String> env = c.getValue() == null ? Map.of()
                        : Map.of("NFSCSI_AOT", c.getValue().toString());
                Path share = freshShare("footprint-warmup");
                try (FootprintDriver d = controller(env)) {
                    starts.computeIfAbsent(c.getKey(), k -> new ArrayList<>()).add((double) d.startMillis());
                    firsts.computeIfAbsent(c.getKey(), k -> new ArrayList<>())
                            .add(sequentialCycles(d, share, "first", first));
                    if (r == reps - 1 && c.getValue() == null) {
                        sequentialCycles(d, share, "warm", warm);
                        warmed = sequentialCycles(d, share, "again", first);
                    }
                }
            }
        }
        Cycles none = firsts.get("none").getFirst();
        for (String k : caches.keySet()) {
            List<Cycles> cs = firsts.get(k);
            System.out.printf("warmup: %s: %s%n", k, cs);
            Cycles c = cs.getLast();
            row("controller's first 100 create+delete after start, AOT cache: " + k,
                    String.format("p50 %.1f ms, %.1f cycles/s (start %.2f s)", c.p50(), c.perSecond(),
                            pct(starts.get(k), 0.5) / 1000), "",
                    k.equals("none") ? "" : String.format("%.2fx the cycles/s without", c.perSecond()
                            / firsts.get("none").getLast().perSecond()));
        }
        row(String.format("the same 100 cycles after %,d more (no AOT cache, same process)", warm),
                String.format("p50 %.1f ms, %.1f cycles/s", warmed.p50(), warmed.perSecond()), "",
                String.format("%.2fx the first 100's cycles/s", warmed.perSecond() / none.perSecond()));
    }

    private Path train(Path dir, AotTraining.Mix mix, String share) throws Exception {
        Path cache = dir.resolve(mix.name().toLowerCase(Locale.ROOT) + ".aot");
        if (Files.isRegularFile(cache)) {
            return cache;
        }
        long t = System.nanoTime();
        int status = AotTraining.record(launcher, javaHome, cache, quick ? 10 : 20, mix, share, dir);
        if (status != 0) {
            throw new IllegalStateException("AOT training (" + mix + ") failed");
        }
        System.out.printf("aot: trained %s in %.0f s%n", mix, (System.nanoTime() - t) / 1e9);
        return cache;
    }

    // ---------------------------------------------------------------------------------------------- measuring

    /** Latencies in ms, sorted. */
    record Latency(List<Double> ms, int abnormal) {
        double p50() {
            return pct(ms, 0.5);
        }

        double p99() {
            return pct(ms, 0.99);
        }

        int count() {
            return ms.size();
        }
    }

    /** Cycles made, their p50 in ms, and cycles per second over the whole run. */
    record Cycles(int count, double p50, double perSecond, int failed) {
        @Override
        public String toString() {
            return String.format("%d cycles p50 %.1f ms %.2f/s%s", count, p50, perSecond,
                    failed > 0 ? " (" + failed + " failed)" : "");
        }
    }

    /**
     * 4 calls per round: Probe, NodeGetCapabilities, NodeGetInfo, NodeGetVolumeStats; returns how many stats
     * answers said the volume was abnormal.
     */
    static int nodeLoad(FootprintDriver d, Path target, int rounds) {
        var stats = statsRequest(target);
        int abnormal = 0;
        for (int i = 0; i < rounds; i++) {
            d.identity().probe(Csi.ProbeRequest.getDefaultInstance());
            d.node().nodeGetCapabilities(Csi.NodeGetCapabilitiesRequest.getDefaultInstance());
            d.node().nodeGetInfo(Csi.NodeGetInfoRequest.getDefaultInstance());
            if (d.node().nodeGetVolumeStats(stats).getVolumeCondition().getAbnormal()) {
                abnormal++;
            }
        }
        return abnormal;
    }

    /** Probe, one after the other with 10 ms between, {@code probes} times, while {@code loops} cycle. */
    static Latency probeUnderLoad(FootprintDriver d, Path share, int loops, int probes) throws Exception {
        AtomicBoolean stop = new AtomicBoolean();
        AtomicInteger cycles = new AtomicInteger();
        AtomicInteger failed = new AtomicInteger();
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < loops; t++) {
            String prefix = "probe-" + t + "-";
            threads.add(Thread.ofPlatform().start(() -> {
                for (int i = 0; !stop.get(); i++) {
                    try {
                        cycle(d, share, prefix + i);
                        cycles.incrementAndGet();
                    } catch (StatusRuntimeException e) {
                        failed.incrementAndGet();
                    }
                }
            }));
        }
        Thread.sleep(1000);
        List<Double> ms = new ArrayList<>();
        long began = System.nanoTime();
        // at most a minute of probes: on a loaded test bed a Probe can take seconds
        long until = began + TimeUnit.SECONDS.toNanos(60);
        for (int i = 0; i < probes && System.nanoTime() < until; i++) {
            long t = System.nanoTime();
            d.identity().probe(Csi.ProbeRequest.getDefaultInstance());
            ms.add((System.nanoTime() - t) / 1e6);
            Thread.sleep(10);
        }
        double seconds = (System.nanoTime() - began) / 1e9;
        stop.set(true);
        for (Thread t : threads) {
            t.join();
        }
        Collections.sort(ms);
        System.out.printf("probe: %d probes in %.1f s, p50 %.1f ms p99 %.1f ms max %.1f ms; %d cycles meanwhile"
                + " (%d failed)%n", ms.size(), seconds, pct(ms, 0.5), pct(ms, 0.99), ms.getLast(), cycles.get(),
                failed.get());
        return new Latency(ms, 0);
    }

    /** NodeGetVolumeStats of {@code target} by {@code callers} threads, {@code perCaller} calls each. */
    static Latency statsLatency(FootprintDriver d, Path target, int callers, int perCaller) throws Exception {
        var request = statsRequest(target);
        List<Double> ms = Collections.synchronizedList(new ArrayList<>());
        AtomicInteger abnormal = new AtomicInteger();
        CountDownLatch go = new CountDownLatch(1);
        List<Thread> threads = new ArrayList<>();
        for (int c = 0; c < callers; c++) {
            threads.add(Thread.ofPlatform().start(() -> {
                try {
                    go.await();
                } catch (InterruptedException e) {
                    return;
                }
                for (int i = 0; i < perCaller; i++) {
                    long t = System.nanoTime();
                    if (d.node().nodeGetVolumeStats(request).getVolumeCondition().getAbnormal()) {
                        abnormal.incrementAndGet();
                    }
                    ms.add((System.nanoTime() - t) / 1e6);
                }
            }));
        }
        long began = System.nanoTime();
        go.countDown();
        for (Thread t : threads) {
            t.join();
        }
        double seconds = (System.nanoTime() - began) / 1e9;
        List<Double> sorted = new ArrayList<>(ms);
        Collections.sort(sorted);
        System.out.printf("stats: %d calls in %.1f s (%.0f/s), p50 %.1f ms p99 %.1f ms, %d abnormal%n",
                sorted.size(), seconds, sorted.size() / seconds, pct(sorted, 0.5), pct(sorted, 0.99),
                abnormal.get());
        return new Latency(sorted, abnormal.get());
    }

    /** {@code count} CreateVolume+DeleteVolume cycles one after the other. */
    static Cycles sequentialCycles(FootprintDriver d, Path share, String label, int count) {
        List<Double> ms = new ArrayList<>();
        int failed = 0;
        long began = System.nanoTime();
        for (int i = 0; i < count; i++) {
            long t = System.nanoTime();
            try {
                cycle(d, share, "pvc-" + label + "-" + i);
                ms.add((System.nanoTime() - t) / 1e6);
            } catch (StatusRuntimeException e) {
                failed++;
            }
        }
        double seconds = (System.nanoTime() - began) / 1e9;
        Collections.sort(ms);
        Cycles c = new Cycles(ms.size(), ms.isEmpty() ? Double.NaN : pct(ms, 0.5), ms.size() / seconds, failed);
        System.out.printf("cycles %s (sequential, %s): %s%n", label, share.getFileName(), c);
        return c;
    }

    /** {@code threads} loops of {@code perThread} cycles each, at once. */
    static Cycles concurrentCycles(FootprintDriver d, Path share, String label, int threads, int perThread)
            throws Exception {
        List<Double> ms = Collections.synchronizedList(new ArrayList<>());
        AtomicInteger failed = new AtomicInteger();
        CountDownLatch go = new CountDownLatch(1);
        List<Thread> all = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            String prefix = "pvc-" + label + "-" + t + "-";
            all.add(Thread.ofPlatform().start(() -> {
                try {
                    go.await();
                } catch (InterruptedException e) {
                    return;
                }
                for (int i = 0; i < perThread; i++) {
                    long t0 = System.nanoTime();
                    try {
                        cycle(d, share, prefix + i);
                        ms.add((System.nanoTime() - t0) / 1e6);
                    } catch (StatusRuntimeException e) {
                        failed.incrementAndGet();
                    }
                }
            }));
        }
        long began = System.nanoTime();
        go.countDown();
        for (Thread t : all) {
            t.join();
        }
        double seconds = (System.nanoTime() - began) / 1e9;
        List<Double> sorted = new ArrayList<>(ms);
        Collections.sort(sorted);
        Cycles c = new Cycles(sorted.size(), sorted.isEmpty() ? Double.NaN : pct(sorted, 0.5),
                sorted.size() / seconds, failed.get());
        System.out.printf("cycles %s (%d-way, %s): %s%n", label, threads, share.getFileName(), c);
        return c;
    }

    static void cycle(FootprintDriver d, Path share, String pv) {
        ProvisionCycleBenchmark.cycle(d.controller(), share, pv);
    }

    /** Publishes {@code share} as a static volume (context server and share) on a kubelet-like target. */
    static Path publish(FootprintDriver d, Path share, String pv) throws IOException {
        Path parent = Path.of("/var/lib/kubelet/pods", "footprint-" + System.nanoTime(),
                "volumes/kubernetes.io~csi", pv);
        Files.createDirectories(parent);
        Path target = parent.resolve("mount");
        d.node().nodePublishVolume(Csi.NodePublishVolumeRequest.newBuilder()
                .setVolumeId(volumeId(target))
                .setTargetPath(target.toString())
                .setVolumeCapability(AotTraining.mountCapability())
                .putVolumeContext("server", "127.0.0.1")
                .putVolumeContext("share", share.toString())
                .build());
        return target;
    }

    static void unpublish(FootprintDriver d, Path target) {
        d.node().nodeUnpublishVolume(Csi.NodeUnpublishVolumeRequest.newBuilder().setVolumeId(volumeId(target))
                .setTargetPath(target.toString()).build());
    }

    private static String volumeId(Path target) {
        return "127.0.0.1#footprint#" + target.getParent().getParent().getParent().getFileName();
    }

    private static Csi.NodeGetVolumeStatsRequest statsRequest(Path target) {
        return Csi.NodeGetVolumeStatsRequest.newBuilder().setVolumeId(volumeId(target))
                .setVolumePath(target.toString()).build();
    }

    // ---------------------------------------------------------------------------------------------- helpers

    private void row(String measure, String value, String baseline, String ratio) {
        String line = "| " + measure + " | " + value + " | " + baseline + " | " + ratio + " |";
        System.out.println(line);
        table.add(line);
    }

    /** The {@code p} quantile (nearest rank) of {@code values}, which it sorts. */
    static double pct(List<Double> values, double p) {
        List<Double> sorted = new ArrayList<>(values);
        Collections.sort(sorted);
        int rank = (int) Math.ceil(p * sorted.size());
        return sorted.get(Math.max(0, Math.min(sorted.size() - 1, rank - 1)));
    }

    private static String mb(Long kb) {
        return kb == null ? "-" : String.format("%.1f MB", kb / 1024.0);
    }

    private static int[] prepend0(int[] counts) {
        int[] all = new int[counts.length + 1];
        System.arraycopy(counts, 0, all, 1, counts.length);
        return all;
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (var all = Files.walk(dir)) {
            for (Path p : all.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
