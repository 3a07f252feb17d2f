package io.nfscsi.bench;

import io.nfscsi.csi.v1.ControllerGrpc;
import io.nfscsi.csi.v1.Csi;
import io.nfscsi.testbed.DriverProcess;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * ListVolumes on a share that holds 1,000 and 10,000 volumes: the latency of a page of 100 (p50 and max over the
 * first pages) and of a full listing ({@code max_entries} 0), for each driver build given, all in one test-bed run
 * against the real kernel NFS server.
 *
 * <p>The volumes are made the fast way: one CreateVolume through the driver writes a record in the share's format,
 * and the benchmark copies it, with the name and the directory changed, straight into the exported directory (not
 * over NFS), beside an empty directory for each copy. The driver cannot tell them from volumes it created: the
 * listing reads the same files. Each driver is started on a fresh working directory with the share as a
 * {@code --share} flag, and lists once (cold: the mount, and what the driver keeps between calls) before the
 * measured listings. A first listing that misses volumes (its deadline for the share expired) is reported as such;
 * up to {@link #WARM_UPS} more full listings then fill what the driver keeps, and a driver that still misses
 * volumes is not measured further at that count.
 *
 * <p>Run with {@code bench/listing}; arguments: counts (comma-separated), pages walked per measurement, then one
 * {@code label=launcher} per driver (the launcher is a build's {@code bin/nfs-csi}).
 */
public final class ListingBenchmark {

    private static final int PAGE = 100;
    /** Full listings after a first one that missed volumes, before giving up on a driver. */
    private static final int WARM_UPS = 4;

    private ListingBenchmark() {}

    public static void main(String[] args) throws Exception {
        int[] counts = Arrays.stream(args[0].split(",")).mapToInt(Integer::parseInt).toArray();
        int pages = Integer.parseInt(args[1]);
        Map<String, Path> drivers = new LinkedHashMap<>();
        for (String spec : List.of(args).subList(2, args.length)) {
            int eq = spec.indexOf('=');
            drivers.put(spec.substring(0, eq), Path.of(spec.substring(eq + 1)));
        }
        Path export = Path.of(System.getenv().getOrDefault("NFS_EXPORT", "/export"));
        List<String> lines = new ArrayList<>();
        for (int n : counts) {
            Path share = export.resolve("bench-list-" + n);
            populate(drivers.values().iterator().next(), share, n);
            for (var d : drivers.entrySet()) {
                lines.add(measure(d.getKey(), d.getValue(), share, n, pages));
            }
        }
        System.out.printf("%nListVolumes, one share on the test bed's NFS server (1 CPU), same run:%n");
        System.out.printf("%-8s %7s  %12s  %12s  %12s  %12s%n", "driver", "volumes", "first full", "full (med)",
                "page p50", "page max");
        lines.forEach(System.out::println);
    }

    /** {@code n} volumes on {@code share}: one made by CreateVolume, the others copies of its record. */
    static void populate(Path launcher, Path share, int n) throws Exception {
        deleteTree(share);
        Files.createDirectories(share);
        try (DriverProcess driver = DriverProcess.start(launcher, Path.of("/run/bench-list-setup-" + n))) {
            driver.controller().createVolume(request("pvc-bench-template", share));
        }
        Path records = share.resolve(".nfs-csi/volumes");
        String template = Files.readString(records.resolve("pvc-bench-template.properties"));
        long start = System.nanoTime();
        for (int i = 1; i < n; i++) {
            String pv = String.format("pvc-bench-%06d", i);
            Files.writeString(records.resolve(pv + ".properties"), template
                    .replace("name=pvc-bench-template", "name=" + pv)
                    .replace("subDir=pvc-bench-template", "subDir=" + pv));
            Files.createDirectory(share.resolve(pv));
        }
        System.out.printf("%d volume records written in %.1f s%n", n - 1, (System.nanoTime() - start) / 1e9);
    }

    private static String measure(String label, Path launcher, Path share, int n, int pages) throws Exception {
        try (DriverProcess driver = DriverProcess.start(launcher, Path.of("/run/bench-list-" + label + "-" + n),
                "--share", "127.0.0.1:" + share)) {
            Listing l = list(driver.controller(), n, pages);
            String line = l.complete()
                    ? String.format("%-8s %7d  %9.0f ms  %9.0f ms  %9.0f ms  %9.0f ms  (%d pages)", label, n,
                            l.firstMs(), l.fullMs(), l.pageP50Ms(), l.pageMaxMs(), l.pages())
                            + (l.firstListed() == n ? "" : " first listed only " + l.firstListed())
                    // a listing that outlasts the driver's share deadline leaves the share out: not worth repeating
                    : String.format("%-8s %7d  %9.0f ms  listed %d of the %d volumes; not measured further",
                            label, n, l.firstMs(), l.listed(), n);
            System.out.println(line);
            return line;
        }
    }

    /**
     * One driver's listing figures on a share of {@code n} volumes: the first full listing (cold), the median of
     * three more, and pages of {@link #PAGE} (p50, max over up to {@code pages}); {@code firstListed} is how many
     * the first listing returned. When no listing returns all volumes only the first is measured
     * ({@link Listing#complete()} false).
     */
    record Listing(int firstListed, int listed, double firstMs, double fullMs, double pageP50Ms, double pageMaxMs,
                   int pages) {
        boolean complete() {
            return pages > 0;
        }
    }

    static Listing list(ControllerGrpc.ControllerBlockingStub controller, int n, int pages) {
        long t = System.nanoTime();
        int firstListed = 0;
        try {
            firstListed = controller.listVolumes(Csi.ListVolumesRequest.getDefaultInstance()).getEntriesCount();
        } catch (io.grpc.StatusRuntimeException e) {
            System.out.printf("%d volumes: the first listing failed: %s%n", n, e.getStatus());
        }
        int listed = firstListed;
        double first = (System.nanoTime() - t) / 1e6;
        // a first listing cut short by the share's deadline keeps what it read: a few more fill the driver's cache
        for (int i = 0; i < WARM_UPS && listed != n; i++) {
            try {
                listed = controller.listVolumes(Csi.ListVolumesRequest.getDefaultInstance()).getEntriesCount();
            } catch (io.grpc.StatusRuntimeException e) {
                // past the client's deadline on a loaded machine: what the driver read so far is kept all the same
                System.out.printf("%d volumes: a warm-up listing failed: %s%n", n, e.getStatus());
            }
        }
        if (listed != n) {
            return new Listing(firstListed, listed, first, 0, 0, 0, 0);
        }
        double[] full = new double[3];
        for (int i = 0; i < full.length; i++) {
            t = System.nanoTime();
            controller.listVolumes(Csi.ListVolumesRequest.getDefaultInstance());
            full[i] = (System.nanoTime() - t) / 1e6;
        }
        List<Double> page = new ArrayList<>();
        String token = "";
        for (int i = 0; i < pages; i++) {
            t = System.nanoTime();
            var r = controller.listVolumes(Csi.ListVolumesRequest.newBuilder().setMaxEntries(PAGE)
                    .setStartingToken(token).build());
            page.add((System.nanoTime() - t) / 1e6);
            token = r.getNextToken();
            if (token.isEmpty()) {
                break;
            }
        }
        Arrays.sort(full);
        page.sort(Comparator.naturalOrder());
        return new Listing(firstListed, listed, first, full[1], page.get(page.size() / 2), page.getLast(), page.size());
    }

    private static Csi.CreateVolumeRequest request(String pv, Path share) {
        return Csi.CreateVolumeRequest.newBuilder()
                .setName(pv)
                .addVolumeCapabilities(Csi.VolumeCapability.newBuilder()
                        .setMount(Csi.VolumeCapability.MountVolume.getDefaultInstance())
                        .setAccessMode(Csi.VolumeCapability.AccessMode.newBuilder()
                                .setMode(Csi.VolumeCapability.AccessMode.Mode.MULTI_NODE_MULTI_WRITER)))
                .putParameters("server", "127.0.0.1")
                .putParameters("share", share.toString())
                .putParameters("csi.storage.k8s.io/pv/name", pv)
                .build();
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
