package io.nfscsi.bench;

import io.nfscsi.csi.v1.ControllerGrpc;
import io.nfscsi.csi.v1.Csi;
import io.nfscsi.testbed.DriverProcess;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Supplier;
import java.util.stream.Stream;

/**
 * CreateVolume + DeleteVolume cycles: p50 and p99 of one cycle and cycles per second, one at a time and 8 at once,
 * on a share that holds no other volume and on shares that hold 1,000 and 10,000, for each driver build given, and
 * for the last driver started with {@code --mount-per-request} (a mount and an unmount around every call, as
 * csi-driver-nfs does) as the in-run baseline, all in one test-bed run against the real kernel NFS server.
 *
 * <p>Each driver is started afresh on each share, and its first cycles are measured apart from the later ones: the
 * difference is what a driver pays while it warms up (class loading, the JIT, the first mount of the share). The
 * volumes a share holds are made the fast way, as {@link ListingBenchmark} makes them: one CreateVolume through the
 * driver writes a record and a subDir claim in the share's format, and the benchmark copies both, with the name
 * changed, straight into the exported directory (not over NFS), beside an empty directory for each copy.
 *
 * <p>The measuring methods are static and public, for other benchmarks (bench/footprint) to call.
 *
 * <p>Run with {@code bench/provision-cycle}; arguments: counts (comma-separated volumes already on the share),
 * sequential cycles after the first 100, 8-way cycles, per-request cycles (each way), then one
 * {@code label=launcher} per driver (the launcher is a build's {@code bin/nfs-csi}).
 */
public final class ProvisionCycleBenchmark {

    /** How many cycles after a driver's start count as its first ones. */
    public static final int FIRST = 100;
    /** The concurrency of the concurrent measurement: as many loops as the goal names. */
    public static final int WAYS = 8;

    private ProvisionCycleBenchmark() {}

    /** One measurement: cycles, their latency, their rate. */
    public record Figures(String label, int cycles, int threads, double p50Ms, double p99Ms, double perSecond) {
        public String row() {
            return String.format("%-34s %6d %3d-way  p50 %7.1f ms  p99 %7.1f ms  %7.2f cycles/s", label, cycles,
                    threads, p50Ms, p99Ms, perSecond);
        }
    }

    public static void main(String[] args) throws Exception {
        int[] counts = Arrays.stream(args[0].split(",")).mapToInt(Integer::parseInt).toArray();
        int sequential = Integer.parseInt(args[1]);
        int concurrent = Integer.parseInt(args[2]);
        int perRequest = Integer.parseInt(args[3]);
        Map<String, Path> drivers = new LinkedHashMap<>();
        for (String spec : List.of(args).subList(4, args.length)) {
            int eq = spec.indexOf('=');
            drivers.put(spec.substring(0, eq), Path.of(spec.substring(eq + 1)));
        }
        Path export = Path.of(System.getenv().getOrDefault("NFS_EXPORT", "/export"));
        List<Figures> all = new ArrayList<>();
        for (int n : counts) {
            Path share = export.resolve("bench-cycle-" + n);
            populate(drivers.values().iterator().next(), share, n);
            for (var d : drivers.entrySet()) {
                all.addAll(measure(d.getKey() + " " + n + " vols", d.getValue(), share, sequential, concurrent));
            }
        }
        if (perRequest > 0) {
            Path share = export.resolve("bench-cycle-" + counts[0]);
            Path last = List.copyOf(drivers.values()).getLast();
            try (DriverProcess driver = DriverProcess.start(last, Path.of("/run/bench-cycle-per-request"),
                    "--mount-per-request")) {
                String label = "per-request " + counts[0] + " vols";
                all.add(print(cycles(driver::controller, share, label + ", sequential", "per-request-s", perRequest, 1)));
                all.add(print(cycles(driver::controller, share, label + ", " + WAYS + "-way", "per-request-c",
                        perRequest, WAYS)));
            }
        }
        System.out.printf("%nCreateVolume+DeleteVolume cycles, test bed (1 CPU, kernel NFS server), same run:%n");
        all.forEach(f -> System.out.println(f.row()));
    }

    /**
     * A fresh driver on {@code share}: its first {@link #FIRST} cycles, {@code sequential} more one at a time, and
     * {@code concurrent} cycles {@link #WAYS} at once.
     */
    public static List<Figures> measure(String label, Path launcher, Path share, int sequential, int concurrent)
            throws Exception {
        String dir = label.replaceAll("[^A-Za-z0-9]+", "-");
        try (DriverProcess driver = DriverProcess.start(launcher, Path.of("/run/bench-cycle-" + dir))) {
            String prefix = "cycle-" + dir;
            List<Figures> out = new ArrayList<>();
            out.add(print(cycles(driver::controller, share, label + ", first " + FIRST, prefix + "-f", FIRST, 1)));
            if (sequential > 0) {
                out.add(print(cycles(driver::controller, share, label + ", later sequential", prefix + "-s",
                        sequential, 1)));
            }
            if (concurrent > 0) {
                out.add(print(cycles(driver::controller, share, label + ", later " + WAYS + "-way", prefix + "-c",
                        concurrent, WAYS)));
            }
            return out;
        }
    }

    private static Figures print(Figures f) {
        System.out.println(f.row());
        return f;
    }

    /**
     * {@code cycles} CreateVolume + DeleteVolume cycles on {@code share}, {@code threads} loops at once, each cycle
     * on a volume of its own named {@code prefix-<loop>-<i>}.
     */
    public static Figures cycles(Supplier<ControllerGrpc.ControllerBlockingStub> controller, Path share, String label,
                                 String prefix, int cycles, int threads) throws Exception {
        long[] nanos = new long[cycles];
        long start = System.nanoTime();
        try (ExecutorService loops = Executors.newFixedThreadPool(threads)) {
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int loop = t;
                done.add(loops.submit(() -> {
                    for (int i = loop; i < cycles; i += threads) {
                        long t0 = System.nanoTime();
                        cycle(controller.get(), share, prefix + "-" + loop + "-" + i);
                        nanos[i] = System.nanoTime() - t0;
                    }
                    return null;
                }));
            }
            for (Future<?> f : done) {
                f.get();
            }
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        long[] sorted = nanos.clone();
        Arrays.sort(sorted);
        return new Figures(label, cycles, threads, sorted[(sorted.length - 1) / 2] / 1e6,
                sorted[(int) Math.ceil(sorted.length * 0.99) - 1] / 1e6, cycles / seconds);
    }

    /** One CreateVolume of the volume {@code pv} on {@code share}, then its DeleteVolume. */
    public static void cycle(ControllerGrpc.ControllerBlockingStub controller, Path share, String pv) {
        cycle(controller, Map.of("server", "127.0.0.1", "share", share.toString()), pv);
    }

    /** One CreateVolume of the volume {@code pv} with the StorageClass parameters {@code sc}, then its DeleteVolume. */
    public static void cycle(ControllerGrpc.ControllerBlockingStub controller, Map<String, String> sc, String pv) {
        var created = controller.createVolume(request(pv, sc));
        controller.deleteVolume(Csi.DeleteVolumeRequest.newBuilder()
                .setVolumeId(created.getVolume().getVolumeId()).build());
    }

    /** A CreateVolume of an empty volume {@code pv} in a directory of its name on {@code share}. */
    public static Csi.CreateVolumeRequest request(String pv, Path share) {
        return request(pv, Map.of("server", "127.0.0.1", "share", share.toString()));
    }

    /** A CreateVolume of an empty, multi-node-writer volume {@code pv} with the StorageClass parameters {@code sc}. */
    static Csi.CreateVolumeRequest request(String pv, Map<String, String> sc) {
        return Csi.CreateVolumeRequest.newBuilder()
                .setName(pv)
                .addVolumeCapabilities(Csi.VolumeCapability.newBuilder()
                        .setMount(Csi.VolumeCapability.MountVolume.getDefaultInstance())
                        .setAccessMode(Csi.VolumeCapability.AccessMode.newBuilder()
                                .setMode(Csi.VolumeCapability.AccessMode.Mode.MULTI_NODE_MULTI_WRITER)))
                .putAllParameters(sc)
                .putParameters("csi.storage.k8s.io/pv/name", pv)
                .build();
    }

    /**
     * Makes {@code share} (a directory of the export, seen locally) hold exactly {@code n} volumes: one made by
     * CreateVolume through a driver started from {@code launcher}, the others copies of its record and claim.
     */
    public static void populate(Path launcher, Path share, int n) throws Exception {
        deleteTree(share);
        Files.createDirectories(share);
        if (n == 0) {
            return;
        }
        String template = "pvc-bench-template";
        try (DriverProcess driver = DriverProcess.start(launcher, Path.of("/run/bench-cycle-setup-" + n))) {
            driver.controller().createVolume(request(template, share));
        }
        Path records = share.resolve(".nfs-csi/volumes");
        Path claims = share.resolve(".nfs-csi/subdirs");
        String record = Files.readString(records.resolve(template + ".properties"));
        String claim = Files.readString(claims.resolve(sha256(template) + ".properties"));
        long start = System.nanoTime();
        for (int i = 1; i < n; i++) {
            String pv = String.format("pvc-bench-%06d", i);
            Files.writeString(records.resolve(pv + ".properties"), record.replace(template, pv));
            Files.writeString(claims.resolve(sha256(pv) + ".properties"), claim.replace(template, pv));
            Files.createDirectory(share.resolve(pv));
        }
        System.out.printf("%d volumes (records, claims, directories) written in %.1f s%n", n - 1,
                (System.nanoTime() - start) / 1e9);
    }

    private static String sha256(String s) throws NoSuchAlgorithmException {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> all = Files.walk(dir)) {
            for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
