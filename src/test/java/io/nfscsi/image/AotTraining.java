package io.nfscsi.image;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.nfscsi.csi.v1.Csi;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Map;
import java.util.function.Supplier;
import java.util.stream.Stream;

/**
 * Records the driver's AOT cache (JEP 483/514): starts the launcher in training mode
 * ({@code -XX:AOTCacheOutput}), makes the calls that kubelet and the sidecars make at start-up, plus a few that
 * fail validation, then stops it with SIGTERM, on which the JVM writes the cache.
 *
 * <p>Run by {@code ./mvnw -Pruntime package} and by the image build, each with the launcher, runtime and jar that
 * will later use the cache: the JVM refuses a cache made by another runtime or for other jars.
 *
 * <p>Usage: {@code AotTraining LAUNCHER JAVA_HOME CACHE [ROUNDS]}; exits 1 when the cache was not written.
 */
public final class AotTraining {

    private AotTraining() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 3 || args.length > 4) {
            System.err.println("usage: AotTraining LAUNCHER JAVA_HOME CACHE [ROUNDS]");
            System.exit(2);
        }
        Path launcher = Path.of(args[0]).toAbsolutePath();
        Path javaHome = Path.of(args[1]).toAbsolutePath();
        Path cache = Path.of(args[2]).toAbsolutePath();
        int rounds = args.length == 4 ? Integer.parseInt(args[3]) : 20;
        Files.deleteIfExists(cache);
        Path dir = Files.createTempDirectory("nfs-csi-aot");
        int status;
        try {
            status = train(launcher, javaHome, cache, rounds, dir);
        } finally {
            try (Stream<Path> tree = Files.walk(dir)) {
                tree.sorted(Comparator.reverseOrder()).forEach(AotTraining::deleteQuietly);
            }
        }
        System.exit(status);
    }

    private static int train(Path launcher, Path javaHome, Path cache, int rounds, Path dir) throws Exception {
        // NFSCSI_AOT empty: the launcher must not also read a cache while this run writes one. -Xmx: the heap
        // size follows the machine's memory, and on a build machine with over 64 GiB the JVM would go without
        // compressed oops, which makes a cache that every normal-sized container then rejects.
        Map<String, String> env = Map.of("JAVA_HOME", javaHome.toString(), "NFSCSI_AOT", "",
                "NFSCSI_JAVA_OPTS", "-Xmx256m -XX:AOTCacheOutput=" + cache);
        int exit;
        String log;
        try (LaunchedDriver driver = LaunchedDriver.start(launcher, env, dir)) {
            for (int i = 0; i < rounds; i++) {
                exercise(driver);
            }
            exit = driver.terminate();
            log = driver.log();
        }
        if (!Files.isRegularFile(cache) || Files.size(cache) == 0) {
            System.err.println(log.strip());
            System.err.println("AotTraining: the driver exited " + exit + " without writing " + cache);
            return 1;
        }
        // the JVM also logs every class it leaves out of the cache (picocli's Java 5 class files and classes tied
        // to them, proxies, JFR events): expected, and too many lines for a build log
        log.lines().filter(l -> l.startsWith("AOTCache creation")).forEach(System.out::println);
        System.out.printf("AotTraining: %s, %d MiB, after %d rounds of calls; driver exited %d%n", cache,
                Files.size(cache) >> 20, rounds, exit);
        return 0;
    }

    /** The start-up calls, and calls that fail validation so that the error path is in the cache too. */
    private static void exercise(LaunchedDriver driver) {
        driver.identity().probe(Csi.ProbeRequest.getDefaultInstance());
        driver.identity().getPluginInfo(Csi.GetPluginInfoRequest.getDefaultInstance());
        driver.identity().getPluginCapabilities(Csi.GetPluginCapabilitiesRequest.getDefaultInstance());
        driver.node().nodeGetInfo(Csi.NodeGetInfoRequest.getDefaultInstance());
        driver.node().nodeGetCapabilities(Csi.NodeGetCapabilitiesRequest.getDefaultInstance());
        driver.controller().controllerGetCapabilities(Csi.ControllerGetCapabilitiesRequest.getDefaultInstance());
        expectInvalid(() -> driver.controller().createVolume(Csi.CreateVolumeRequest.getDefaultInstance()));
        expectInvalid(() -> driver.node().nodePublishVolume(Csi.NodePublishVolumeRequest.getDefaultInstance()));
        expectInvalid(() -> driver.node().nodeUnpublishVolume(Csi.NodeUnpublishVolumeRequest.getDefaultInstance()));
    }

    private static void expectInvalid(Supplier<?> call) {
        try {
            call.get();
        } catch (StatusRuntimeException e) {
            if (e.getStatus().getCode() == Status.Code.INVALID_ARGUMENT) {
                return;
            }
            throw e;
        }
        throw new IllegalStateException("an empty request was accepted");
    }

    private static void deleteQuietly(Path p) {
        try {
            Files.deleteIfExists(p);
        } catch (IOException e) {
            System.err.println("AotTraining: could not remove " + p + ": " + e);
        }
    }
}
