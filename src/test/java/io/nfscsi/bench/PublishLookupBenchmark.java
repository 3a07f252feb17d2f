package io.nfscsi.bench;

import io.nfscsi.csi.v1.Csi;
import io.nfscsi.testbed.DriverProcess;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * What the record lookup costs a NodePublishVolume (issue 13 item 1), in one test-bed run against the real kernel NFS
 * server: the same directory published, in alternating rounds, under a volume ID of this driver (the node mounts the
 * share read-only, reads the volume's record, unmounts it, then mounts the volume) and under a static volume ID (no
 * lookup), each publish followed by its unpublish. Only the publish is timed. Run with
 * {@code bench/publish-lookup [ROUNDS]}.
 */
public final class PublishLookupBenchmark {

    private PublishLookupBenchmark() {}

    public static void main(String[] args) throws Exception {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 20;
        Path share = Path.of("/export/bench-lookup");
        Files.createDirectories(share);
        List<String> flags = List.of("nfsvers=4.1", "hard");
        try (DriverProcess driver = DriverProcess.start(Path.of("/run/nfs-csi-bench-lookup"))) {
            var capability = Csi.VolumeCapability.newBuilder()
                    .setMount(Csi.VolumeCapability.MountVolume.newBuilder().addAllMountFlags(flags))
                    .setAccessMode(Csi.VolumeCapability.AccessMode.newBuilder()
                            .setMode(Csi.VolumeCapability.AccessMode.Mode.MULTI_NODE_MULTI_WRITER)).build();
            Csi.Volume v = driver.controller().createVolume(Csi.CreateVolumeRequest.newBuilder().setName("pvc-bench")
                    .addVolumeCapabilities(capability).putParameters("server", "127.0.0.1")
                    .putParameters("share", share.toString()).build()).getVolume();
            Map<String, String> context = v.getVolumeContextMap();
            String staticId = "static-bench-" + UUID.randomUUID();
            long[] ours = new long[rounds];
            long[] statics = new long[rounds];
            // one of each first, unmeasured: class loading and the first mount of the export
            publishOnce(driver, v.getVolumeId(), context, capability);
            publishOnce(driver, staticId, context, capability);
            for (int i = 0; i < rounds; i++) {
                boolean oursFirst = i % 2 == 0;
                long a = publishOnce(driver, oursFirst ? v.getVolumeId() : staticId, context, capability);
                long b = publishOnce(driver, oursFirst ? staticId : v.getVolumeId(), context, capability);
                ours[i] = oursFirst ? a : b;
                statics[i] = oursFirst ? b : a;
            }
            var withLookup = NodeStatsBenchmark.Latency.of(ours);
            var without = NodeStatsBenchmark.Latency.of(statics);
            System.out.printf("NodePublishVolume, %d rounds, alternating:%n", rounds);
            System.out.printf("  static volume ID (no lookup, baseline): %s%n", without);
            System.out.printf("  this driver's volume ID (record lookup): %s%n", withLookup);
            System.out.printf("  lookup adds p50 %+.2f ms (x%.2f)%n", withLookup.p50() - without.p50(),
                    withLookup.p50() / without.p50());
            driver.controller().deleteVolume(Csi.DeleteVolumeRequest.newBuilder().setVolumeId(v.getVolumeId())
                    .build());
        }
    }

    private static long publishOnce(DriverProcess driver, String id, Map<String, String> context,
                                    Csi.VolumeCapability capability) throws Exception {
        Path parent = Path.of("/run/nfs-csi-bench-lookup/pods", UUID.randomUUID().toString());
        Files.createDirectories(parent);
        Path target = parent.resolve("mount");
        long start = System.nanoTime();
        driver.node().nodePublishVolume(Csi.NodePublishVolumeRequest.newBuilder().setVolumeId(id)
                .setTargetPath(target.toString()).setVolumeCapability(capability).putAllVolumeContext(context)
                .build());
        long took = System.nanoTime() - start;
        driver.node().nodeUnpublishVolume(Csi.NodeUnpublishVolumeRequest.newBuilder().setVolumeId(id)
                .setTargetPath(target.toString()).build());
        Files.deleteIfExists(parent);
        return took;
    }
}
