package io.nfscsi.fuzz;

import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.nfscsi.concurrent.BoundedIo;
import io.nfscsi.controller.ControllerService;
import io.nfscsi.controller.ControllerSettings;
import io.nfscsi.csi.v1.ControllerGrpc;
import io.nfscsi.csi.v1.Csi;
import io.nfscsi.csi.v1.IdentityGrpc;
import io.nfscsi.csi.v1.NodeGrpc;
import io.nfscsi.identity.IdentityService;
import io.nfscsi.mount.MountEntry;
import io.nfscsi.node.NodeService;
import io.nfscsi.server.ErrorTranslator;
import io.nfscsi.server.RequestLog;
import io.nfscsi.testing.TestPools;
import io.nfscsi.volume.OnDelete;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.stream.Stream;

/**
 * One driver as production wires it (Identity, Controller and Node behind the same interceptors), served
 * in-process with a fake mounter, in a temporary directory laid out as:
 * <pre>
 * root/controller/   the controller's --working-mount-dir: each share "mounted" there links to root/exports/
 * root/exports/      one local directory per export named in a call: the shares
 * root/kubelet/      pod directories, the only place targets are made
 * root/node-state/   the node's publication records
 * root/sentinel/     a tree beside them that no call may touch; symlinks in the share and the kubelet
 *                    directory point into it
 * </pre>
 * The sentinel tree and the root's listing are snapshotted when the bed is made and compared after calls.
 */
final class FuzzBed implements AutoCloseable {

    /** The most a fuzzed call may take: a call that has not answered by then counts as hung. */
    static final Duration CALL_DEADLINE = Duration.ofSeconds(10);

    final Path root;
    final Path work;
    final Path kubelet;
    final Path sentinel;
    final Seeds seeds;
    final ShareMounter mounter;
    private final Server server;
    private final ManagedChannel channel;
    private final ControllerService controller;
    private Map<String, String> baseline;

    FuzzBed() throws Exception {
        // tmpfs where there is one: the driver syncs its records, and a disk shared with other work makes each
        // sync cost milliseconds that say nothing about request handling
        Path shm = Path.of("/dev/shm");
        root = Files.isDirectory(shm) && Files.isWritable(shm) ? Files.createTempDirectory(shm, "nfs-csi-fuzz")
                : Files.createTempDirectory("nfs-csi-fuzz");
        work = Files.createDirectories(root.resolve("controller"));
        kubelet = Files.createDirectories(root.resolve("kubelet"));
        Path state = root.resolve("node-state");
        sentinel = Files.createDirectories(root.resolve("sentinel"));
        seeds = new Seeds(kubelet);
        mounter = new ShareMounter(work, root.resolve("exports"));
        plantSentinel();
        BoundedIo io = new BoundedIo(16);
        controller = ControllerService.create(new ControllerSettings(work, mounter, io, Clock.systemUTC(),
                OnDelete.DELETE, Duration.ofSeconds(5), Duration.ofMinutes(5), false, TestPools.walkers(4), Duration.ZERO,
                Duration.ofSeconds(10)));
        String name = InProcessServerBuilder.generateName();
        var builder = InProcessServerBuilder.forName(name).executor(Executors.newVirtualThreadPerTaskExecutor());
        for (var service : List.of(new IdentityService("nfs.csi.k8s.io", "fuzz", Optional::empty), controller,
                new NodeService(Seeds.NODE, mounter, io, state, Duration.ofSeconds(5), Duration.ofSeconds(2),
                        Clock.systemUTC()))) {
            builder.addService(ServerInterceptors.intercept(service, new ErrorTranslator(), new RequestLog()));
        }
        server = builder.build().start();
        channel = InProcessChannelBuilder.forName(name).directExecutor().build();
        seed();
        baseline = outside();
    }

    IdentityGrpc.IdentityBlockingStub identity() {
        return IdentityGrpc.newBlockingStub(channel).withDeadlineAfter(CALL_DEADLINE.toMillis(), TimeUnit.MILLISECONDS);
    }

    ControllerGrpc.ControllerBlockingStub controller() {
        return ControllerGrpc.newBlockingStub(channel).withDeadlineAfter(CALL_DEADLINE.toMillis(),
                TimeUnit.MILLISECONDS);
    }

    NodeGrpc.NodeBlockingStub node() {
        return NodeGrpc.newBlockingStub(channel).withDeadlineAfter(CALL_DEADLINE.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Whether Probe answers ready: the server survived. */
    boolean probes() {
        try {
            return identity().probe(Csi.ProbeRequest.getDefaultInstance()).getReady().getValue();
        } catch (StatusRuntimeException e) {
            return false;
        }
    }

    /** A call's status: OK, or the code it failed with. */
    static <Q, R> Status call(Function<Q, R> rpc, Q request) {
        try {
            rpc.apply(request);
            return Status.OK;
        } catch (StatusRuntimeException e) {
            return e.getStatus();
        }
    }

    /** What changed outside the share, the kubelet directory and the node's state since the bed was made. */
    List<String> touchedOutside() {
        List<String> changes = new ArrayList<>();
        Map<String, String> now = outside();
        for (var e : baseline.entrySet()) {
            String after = now.get(e.getKey());
            if (!e.getValue().equals(after)) {
                changes.add(e.getKey() + ": " + e.getValue() + " -> " + (after == null ? "gone" : after));
            }
        }
        now.keySet().stream().filter(k -> !baseline.containsKey(k)).forEach(k -> changes.add(k + ": new"));
        for (MountEntry m : mounter.table().entries()) {
            if (!m.mountPoint().startsWith(kubelet) && !m.mountPoint().startsWith(work)) {
                changes.add("mount at " + m.mountPoint());
            }
        }
        return changes;
    }

    /** Takes the present state as the one to compare with, once a change has been reported. */
    void rebaseline() {
        baseline = outside();
    }

    /** Re-creates the pod directories, which a fuzzed NodeUnpublishVolume may remove when they are empty. */
    void restorePodDirs() throws IOException {
        for (int i = 0; i < Seeds.PODS; i++) {
            Files.createDirectories(seeds.podDir(i));
        }
    }

    private void plantSentinel() throws IOException {
        Files.writeString(sentinel.resolve("file"), "sentinel", StandardCharsets.UTF_8);
        Files.createDirectories(sentinel.resolve("dir/nested"));
        Files.writeString(sentinel.resolve("dir/inner"), "inner", StandardCharsets.UTF_8);
        Files.writeString(sentinel.resolve("dir/nested/deep"), "deep", StandardCharsets.UTF_8);
        Files.createDirectories(sentinel.resolve("emptydir"));
    }

    /** The seed volume, its snapshot and publication; the symlinks that point at the sentinel. */
    private void seed() throws Exception {
        var volume = controller().createVolume(Csi.CreateVolumeRequest.newBuilder().setName(Seeds.VOLUME)
                .setCapacityRange(Csi.CapacityRange.newBuilder().setRequiredBytes(1 << 20))
                .addVolumeCapabilities(Requests.capability())
                .putAllParameters(Requests.parameters(Seeds.VOLUME)).build()).getVolume();
        seeds.volumeId(volume.getVolumeId());
        Path share = mounter.export(Values.SERVER + ":" + Values.SHARE);
        Files.writeString(share.resolve(Seeds.VOLUME).resolve("data"), "seed data", StandardCharsets.UTF_8);
        Files.createSymbolicLink(share.resolve(Seeds.ESCAPE_LINK), sentinel);
        Files.createSymbolicLink(share.resolve(Seeds.LINK_VOLUME), sentinel.resolve("dir"));
        var snapshotRequest = Csi.CreateSnapshotRequest.newBuilder().setName(Seeds.SNAPSHOT)
                .setSourceVolumeId(seeds.volumeId()).build();
        Csi.Snapshot snapshot = controller().createSnapshot(snapshotRequest).getSnapshot();
        for (int i = 0; i < 200 && !snapshot.getReadyToUse(); i++) {
            Thread.sleep(25); // the archive is made in the background; CreateSnapshot is polled, as the sidecar does
            snapshot = controller().createSnapshot(snapshotRequest).getSnapshot();
        }
        seeds.snapshotId(snapshot.getSnapshotId());
        restorePodDirs();
        Files.createSymbolicLink(seeds.plantedTarget(), sentinel.resolve("emptydir"));
        node().nodePublishVolume(Csi.NodePublishVolumeRequest.newBuilder().setVolumeId(seeds.volumeId())
                .setTargetPath(seeds.target().toString()).setVolumeCapability(Requests.capability())
                .putAllVolumeContext(volume.getVolumeContextMap()).build());
    }

    /** Every entry of the sentinel tree with its attributes, and the names at the top of the root. */
    private Map<String, String> outside() {
        Map<String, String> state = new TreeMap<>();
        try (Stream<Path> top = Files.list(root); Stream<Path> tree = Files.walk(sentinel)) {
            top.forEach(p -> state.put(p.getFileName().toString(), "present"));
            tree.forEach(p -> state.put(root.relativize(p).toString(), attributes(p)));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return state;
    }

    private static String attributes(Path p) {
        try {
            Map<String, Object> a = Files.readAttributes(p, "unix:mode,size,lastModifiedTime,ctime,nlink,ino",
                    LinkOption.NOFOLLOW_LINKS);
            return Integer.toOctalString((Integer) a.get("mode")) + " " + a.get("size") + " "
                    + a.get("lastModifiedTime") + " " + a.get("ctime") + " " + a.get("nlink") + " " + a.get("ino");
        } catch (IOException e) {
            return "unreadable: " + e;
        }
    }

    @Override
    public void close() throws IOException {
        channel.shutdownNow();
        server.shutdownNow();
        controller.shutdown();
        // a background job (archive, restore, clone) that a request started may still be writing: go over the
        // tree again until it is gone
        IOException last = null;
        for (int pass = 0; pass < 20 && Files.exists(root, LinkOption.NOFOLLOW_LINKS); pass++) {
            try (Stream<Path> all = Files.walk(root)) {
                for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(p);
                }
            } catch (IOException | UncheckedIOException e) {
                last = e instanceof UncheckedIOException u ? u.getCause() : (IOException) e;
                try {
                    Thread.sleep(50);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
        }
        if (Files.exists(root, LinkOption.NOFOLLOW_LINKS)) {
            throw new IOException("could not remove " + root, last);
        }
    }
}
