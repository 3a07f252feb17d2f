package io.nfscsi.bench;

import io.nfscsi.testbed.DriverProcess;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * CreateVolume + DeleteVolume cycles per second with the controller's share pool, against the same driver started
 * with {@code --mount-per-request} (a mount and an unmount of the share around every call, as csi-driver-nfs
 * does), measured one after the other in the same test-bed run. Prints both figures and their ratio.
 *
 * <p>Run with {@code bench/share-pool}; arguments: pooled cycles, per-request cycles.
 */
public final class SharePoolBenchmark {

    private SharePoolBenchmark() {}

    public static void main(String[] args) throws Exception {
        int pooledCycles = args.length > 0 ? Integer.parseInt(args[0]) : 300;
        int perRequestCycles = args.length > 1 ? Integer.parseInt(args[1]) : 30;
        Path share = Path.of(System.getenv().getOrDefault("NFS_EXPORT", "/export")).resolve("bench");
        Files.createDirectories(share);

        double pooled = run("pooled", Path.of("/run/bench-pooled"), share, pooledCycles);
        double perRequest = run("per-request", Path.of("/run/bench-per-request"), share, perRequestCycles,
                "--mount-per-request");
        System.out.printf("%nCreateVolume+DeleteVolume cycles per second (same test bed, same run):%n");
        System.out.printf("  share pool          %8.2f /s  (%d cycles)%n", pooled, pooledCycles);
        System.out.printf("  mount per request   %8.2f /s  (%d cycles)%n", perRequest, perRequestCycles);
        System.out.printf("  ratio               %8.1fx%n", pooled / perRequest);
    }

    private static double run(String label, Path dir, Path share, int cycles, String... flags) throws Exception {
        try (DriverProcess driver = DriverProcess.start(dir, flags)) {
            Map<String, String> sc = Map.of("server", "127.0.0.1", "share", share.toString(),
                    "subDir", label + "/${pv.metadata.name}");
            for (int i = 0; i < 3; i++) {
                ProvisionCycleBenchmark.cycle(driver.controller(), sc, label + "-warmup-" + i);
            }
            long start = System.nanoTime();
            for (int i = 0; i < cycles; i++) {
                ProvisionCycleBenchmark.cycle(driver.controller(), sc, label + "-" + i);
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            System.out.printf("%s: %d cycles in %.2f s%n", label, cycles, seconds);
            return cycles / seconds;
        }
    }
}
