package io.nfscsi.bench;

import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.MultiThreadIoEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollDomainSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollIoHandler;
import io.grpc.netty.shaded.io.netty.channel.unix.DomainSocketAddress;
import io.nfscsi.csi.v1.Csi;
import io.nfscsi.csi.v1.IdentityGrpc;
import io.nfscsi.csi.v1.NodeGrpc;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The footprint measurement's client (issue 12): {@code load SOCKET N DIR} makes N rounds of Probe,
 * NodeGetCapabilities, NodeGetInfo and NodeGetVolumeStats (of DIR, a mount point; not NFS, it is refused after the same mount-table read) on a running driver; {@code start SOCKET CMD...}
 * runs CMD (the driver, serving on SOCKET) and prints the milliseconds from the exec to the first answered Probe,
 * then stops it. Run from bench/footprint-measure; the figures are in bench/footprint-notes.md.
 */
public final class FootprintLoad {

    private FootprintLoad() {
    }

    public static void main(String[] args) throws Exception {
        EventLoopGroup loop = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
        try {
            if (args[0].equals("load")) {
                load(loop, Path.of(args[1]), Integer.parseInt(args[2]), args[3]);
            } else {
                start(loop, Path.of(args[1]), List.of(args).subList(2, args.length));
            }
        } finally {
            loop.shutdownGracefully(0, 1, TimeUnit.SECONDS).await(5, TimeUnit.SECONDS);
        }
    }

    private static ManagedChannel channel(EventLoopGroup loop, Path socket) {
        return NettyChannelBuilder.forAddress(new DomainSocketAddress(socket.toString()))
                .channelType(EpollDomainSocketChannel.class).eventLoopGroup(loop).usePlaintext().build();
    }

    private static void load(EventLoopGroup loop, Path socket, int rounds, String dir) throws InterruptedException {
        ManagedChannel channel = channel(loop, socket);
        try {
            var identity = IdentityGrpc.newBlockingStub(channel);
            var node = NodeGrpc.newBlockingStub(channel);
            var stats = Csi.NodeGetVolumeStatsRequest.newBuilder().setVolumeId("srv#/export#vol")
                    .setVolumePath(dir).build();
            long began = System.nanoTime();
            int abnormal = 0;
            int refused = 0;
            for (int i = 0; i < rounds; i++) {
                identity.probe(Csi.ProbeRequest.getDefaultInstance());
                node.nodeGetCapabilities(Csi.NodeGetCapabilitiesRequest.getDefaultInstance());
                node.nodeGetInfo(Csi.NodeGetInfoRequest.getDefaultInstance());
                try {
                    if (node.nodeGetVolumeStats(stats).getVolumeCondition().getAbnormal()) {
                        abnormal++;
                    }
                } catch (StatusRuntimeException e) {
                    // a local mount point that is not NFS: NOT_FOUND, after the same mount-table read
                    refused++;
                }
            }
            System.out.printf("%d calls in %d ms, %d abnormal stats, %d refused%n", rounds * 4,
                    TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - began), abnormal, refused);
        } finally {
            channel.shutdownNow();
            channel.awaitTermination(5, TimeUnit.SECONDS);
        }
    }

    private static void start(EventLoopGroup loop, Path socket, List<String> command) throws Exception {
        Files.deleteIfExists(socket);
        // the client's own classes are loaded before the clock starts
        probeOnce(loop, socket);
        long began = System.nanoTime();
        Process driver = new ProcessBuilder(new ArrayList<>(command)).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        try {
            while (!probeOnce(loop, socket)) {
                if (!driver.isAlive()) {
                    throw new IllegalStateException("the driver exited: " + driver.exitValue());
                }
                Thread.sleep(5);
            }
            System.out.println(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - began));
        } finally {
            driver.destroy();
            driver.waitFor(10, TimeUnit.SECONDS);
        }
    }

    private static boolean probeOnce(EventLoopGroup loop, Path socket) throws InterruptedException {
        if (!Files.exists(socket)) {
            return false;
        }
        ManagedChannel channel = channel(loop, socket);
        try {
            IdentityGrpc.newBlockingStub(channel).withDeadlineAfter(2, TimeUnit.SECONDS)
                    .probe(Csi.ProbeRequest.getDefaultInstance());
            return true;
        } catch (StatusRuntimeException e) {
            return false;
        } finally {
            channel.shutdownNow();
            channel.awaitTermination(2, TimeUnit.SECONDS);
        }
    }
}
