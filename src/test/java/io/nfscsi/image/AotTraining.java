package io.nfscsi.image;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.nfscsi.csi.v1.Csi;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
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
 * <p>Usage: {@code AotTraining LAUNCHER JAVA_HOME CACHE [ROUNDS] [--mix startup|node|controller]
 * [--share SERVER:/EXPORT]}; exits 1 when the cache was not written. The mix is the calls made ({@link Mix});
 * {@code --share} names an NFS export that the node and controller mixes use for real calls (publish, stats,
 * create, snapshot, list), where the training machine has one: the test bed does, an image build does not.
 */
public final class AotTraining {

    private AotTraining() {
    }

    /**
     * What the training run calls. {@code STARTUP}: the start-up calls of kubelet and the sidecars and a few
     * rejected requests, to every service (the image's cache so far). {@code NODE}: what a node plugin serves all
     * day (Probe, NodeGetInfo, NodeGetCapabilities, NodePublishVolume/NodeUnpublishVolume, NodeGetVolumeStats),
     * with its metrics endpoint open but never scraped, and no controller call. {@code CONTROLLER}: the
     * controller's calls (CreateVolume, DeleteVolume, CreateSnapshot, DeleteSnapshot, ListVolumes, ListSnapshots).
     */
    public enum Mix { STARTUP, NODE, CONTROLLER }

    public static void main(String[] args) throws Exception {
        List<String> rest = new ArrayList<>(List.of(args));
        Mix mix = Mix.STARTUP;
        String share = null;
        for (int i = 0; i < rest.size() - 1; i++) {
            if (rest.get(i).equals("--mix")) {
                mix = Mix.valueOf(rest.remove(i + 1).toUpperCase(Locale.ROOT));
                rest.remove(i--);
            } else if (rest.get(i).equals("--share")) {
                share = rest.remove(i + 1);
                rest.remove(i--);
            }
        }
        if (rest.size() < 3 || rest.size() > 4) {
            System.err.println("usage: AotTraining LAUNCHER JAVA_HOME CACHE [ROUNDS] [--mix startup|node|controller]"
                    + " [--share SERVER:/EXPORT]");
            System.exit(2);
        }
        int rounds = rest.size() == 4 ? Integer.parseInt(rest.get(3)) : 20;
        System.exit(record(Path.of(rest.get(0)), Path.of(rest.get(1)), Path.of(rest.get(2)), rounds, mix, share,
                Path.of(System.getProperty("java.io.tmpdir"))));
    }

    /**
     * Records {@code cache} by a training run of {@code launcher} on {@code javaHome} making {@code rounds} rounds
     * of {@code mix}, with {@code share} (SERVER:/EXPORT, or null) for the real NFS calls; returns 0 when the cache
     * was written, else 1 (after printing the driver's log). The driver's socket and mount targets are in a
     * fresh directory under {@code workParent} (in the test bed: a VM-private tmpfs such as /run).
     */
    public static int record(Path launcher, Path javaHome, Path cache, int rounds, Mix mix, String share,
                             Path workParent) throws Exception {
        cache = cache.toAbsolutePath();
        Files.deleteIfExists(cache);
        Files.createDirectories(workParent);
        Path dir = Files.createTempDirectory(workParent, "nfs-csi-aot");
        try {
            return train(launcher.toAbsolutePath(), javaHome.toAbsolutePath(), cache, rounds, mix, share, dir);
        } finally {
            try (Stream<Path> tree = Files.walk(dir)) {
                tree.sorted(Comparator.reverseOrder()).forEach(AotTraining::deleteQuietly);
            }
        }
    }

    private static int train(Path launcher, Path javaHome, Path cache, int rounds, Mix mix, String share, Path dir)
            throws Exception {
        // NFSCSI_AOT empty: the launcher must not also read a cache while this run writes one. -Xmx: the heap
        // size follows the machine's memory, and on a build machine with over 64 GiB the JVM would go without
        // compressed oops, which makes a cache that every normal-sized container then rejects.
        Map<String, String> env = Map.of("JAVA_HOME", javaHome.toString(), "NFSCSI_AOT", "",
                "NFSCSI_JAVA_OPTS", "-Xmx256m -XX:AOTCacheOutput=" + cache);
        int exit;
        String log;
        // the manifests open the metrics endpoint (not scraped here: JVM metrics load at the first scrape)
        List<String> flags = mix == Mix.STARTUP ? List.of() : List.of("--metrics-address=127.0.0.1:0");
        try (LaunchedDriver driver = LaunchedDriver.start(launcher, env, dir, flags)) {
            for (int i = 0; i < rounds; i++) {
                switch (mix) {
                    case STARTUP -> exercise(driver);
                    case NODE -> exerciseNode(driver, dir, share, i);
                    case CONTROLLER -> exerciseController(driver, share, i);
                }
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
        System.out.printf("AotTraining: %s, %d MiB, after %d rounds of the %s mix%s; driver exited %d%n", cache,
                Files.size(cache) >> 20, rounds, mix.name().toLowerCase(Locale.ROOT),
                share == null ? "" : " on " + share, exit);
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

    /**
     * The node plugin's calls. With a share: NodePublishVolume of it (a static volume) on a fresh target, stats
     * of the target, NodeUnpublishVolume. Without: stats of a directory that is not a mount (NOT_FOUND after the
     * same mount-table read), NodeUnpublishVolume of a target never published (answered OK), and a rejected
     * NodePublishVolume.
     */
    private static void exerciseNode(LaunchedDriver driver, Path dir, String share, int round) throws IOException {
        driver.identity().probe(Csi.ProbeRequest.getDefaultInstance());
        driver.node().nodeGetInfo(Csi.NodeGetInfoRequest.getDefaultInstance());
        driver.node().nodeGetCapabilities(Csi.NodeGetCapabilitiesRequest.getDefaultInstance());
        Path target = dir.resolve("pods/pod-" + round + "/mount");
        Files.createDirectories(target.getParent());
        String volumeId = "aot-training#" + round;
        if (share != null) {
            int colon = share.indexOf(':');
            driver.node().nodePublishVolume(Csi.NodePublishVolumeRequest.newBuilder().setVolumeId(volumeId)
                    .setTargetPath(target.toString()).setVolumeCapability(mountCapability())
                    .putVolumeContext("server", share.substring(0, colon))
                    .putVolumeContext("share", share.substring(colon + 1)).build());
            for (int i = 0; i < 5; i++) {
                driver.node().nodeGetVolumeStats(Csi.NodeGetVolumeStatsRequest.newBuilder().setVolumeId(volumeId)
                        .setVolumePath(target.toString()).build());
                driver.identity().probe(Csi.ProbeRequest.getDefaultInstance());
            }
        } else {
            Files.createDirectories(target);
            expectCode(Status.Code.NOT_FOUND, () -> driver.node().nodeGetVolumeStats(
                    Csi.NodeGetVolumeStatsRequest.newBuilder().setVolumeId(volumeId)
                            .setVolumePath(target.toString()).build()));
        }
        driver.node().nodeUnpublishVolume(Csi.NodeUnpublishVolumeRequest.newBuilder().setVolumeId(volumeId)
                .setTargetPath(target.toString()).build());
        expectInvalid(() -> driver.node().nodePublishVolume(Csi.NodePublishVolumeRequest.getDefaultInstance()));
    }

    /**
     * The controller's calls. With a share: two CreateVolume, a page and a full ListVolumes, CreateSnapshot of
     * one, ListSnapshots, DeleteSnapshot, two DeleteVolume. Without: only what needs no share (capabilities and
     * rejected requests).
     */
    private static void exerciseController(LaunchedDriver driver, String share, int round) {
        driver.identity().probe(Csi.ProbeRequest.getDefaultInstance());
        driver.controller().controllerGetCapabilities(Csi.ControllerGetCapabilitiesRequest.getDefaultInstance());
        expectInvalid(() -> driver.controller().createVolume(Csi.CreateVolumeRequest.getDefaultInstance()));
        if (share == null) {
            return;
        }
        int colon = share.indexOf(':');
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            String pv = "pvc-aot-" + round + "-" + i;
            ids.add(driver.controller().createVolume(Csi.CreateVolumeRequest.newBuilder().setName(pv)
                    .addVolumeCapabilities(mountCapability())
                    .putParameters("server", share.substring(0, colon))
                    .putParameters("share", share.substring(colon + 1))
                    .putParameters("csi.storage.k8s.io/pv/name", pv).build()).getVolume().getVolumeId());
        }
        driver.controller().listVolumes(Csi.ListVolumesRequest.newBuilder().setMaxEntries(1).build());
        driver.controller().listVolumes(Csi.ListVolumesRequest.getDefaultInstance());
        String snapshot = driver.controller().createSnapshot(Csi.CreateSnapshotRequest.newBuilder()
                .setName("snapshot-aot-" + round).setSourceVolumeId(ids.getFirst()).build())
                .getSnapshot().getSnapshotId();
        driver.controller().listSnapshots(Csi.ListSnapshotsRequest.getDefaultInstance());
        driver.controller().deleteSnapshot(Csi.DeleteSnapshotRequest.newBuilder().setSnapshotId(snapshot).build());
        for (String id : ids) {
            driver.controller().deleteVolume(Csi.DeleteVolumeRequest.newBuilder().setVolumeId(id).build());
        }
    }

    /** A mounted file system, written by many nodes: what every volume of the driver's calls here is. */
    public static Csi.VolumeCapability mountCapability() {
        return Csi.VolumeCapability.newBuilder()
                .setMount(Csi.VolumeCapability.MountVolume.getDefaultInstance())
                .setAccessMode(Csi.VolumeCapability.AccessMode.newBuilder()
                        .setMode(Csi.VolumeCapability.AccessMode.Mode.MULTI_NODE_MULTI_WRITER))
                .build();
    }

    private static void expectCode(Status.Code code, Supplier<?> call) {
        try {
            call.get();
        } catch (StatusRuntimeException e) {
            if (e.getStatus().getCode() == code) {
                return;
            }
            throw e;
        }
        throw new IllegalStateException("expected " + code + ", the call succeeded");
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
