package io.nfscsi.image;

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
import java.util.concurrent.TimeUnit;

/**
 * A CSI client for a driver that another process started, as kubelet and the sidecars are: waits until Probe answers
 * on the unix socket, then asks GetPluginInfo and NodeGetInfo, and prints one line per answer.
 *
 * <p>{@code testbed/build-image} runs it on the host against the driver that runs inside the built image, with the
 * socket in a directory bind-mounted into the container. It needs only the driver's own class path (the image's
 * {@code lib/}), so that it compiles alone against the image's jars.
 *
 * <p>Usage: {@code ImageProbe SOCKET [SECONDS [SINCE]]}: waits up to SECONDS (60) for Probe; the time to the first
 * answer is counted from SINCE (milliseconds since the epoch, the moment the driver was started), else from this
 * client's start. Exits 0 when Probe answered ready; 1 when it answered not ready, or nothing answered in time.
 */
public final class ImageProbe {

    private ImageProbe() {
    }

    public static void main(String[] args) throws InterruptedException {
        if (args.length < 1 || args.length > 3) {
            System.err.println("usage: ImageProbe SOCKET [SECONDS [SINCE]]");
            System.exit(2);
        }
        long seconds = args.length >= 2 ? Long.parseLong(args[1]) : 60;
        long since = args.length == 3 ? Long.parseLong(args[2]) : System.currentTimeMillis();
        EventLoopGroup loop = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
        ManagedChannel channel = NettyChannelBuilder.forAddress(new DomainSocketAddress(args[0]))
                .channelType(EpollDomainSocketChannel.class).eventLoopGroup(loop).usePlaintext().build();
        int status;
        try {
            status = ask(channel, seconds, since);
        } finally {
            channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            loop.shutdownGracefully(0, 1, TimeUnit.SECONDS).await(5, TimeUnit.SECONDS);
        }
        System.exit(status);
    }

    private static int ask(ManagedChannel channel, long seconds, long since) throws InterruptedException {
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        Csi.ProbeResponse probe = null;
        StatusRuntimeException last = null;
        while (probe == null && System.nanoTime() < until) {
            try {
                probe = IdentityGrpc.newBlockingStub(channel).withDeadlineAfter(5, TimeUnit.SECONDS)
                        .probe(Csi.ProbeRequest.getDefaultInstance());
            } catch (StatusRuntimeException notYet) {
                // the driver is still starting (no socket yet, or nobody accepts on it): try again at once rather
                // than after gRPC's reconnect back-off
                last = notYet;
                channel.resetConnectBackoff();
                Thread.sleep(20);
            }
        }
        if (probe == null) {
            System.err.println("ImageProbe: no answer to Probe within " + seconds + " s: " + last.getStatus());
            return 1;
        }
        // CSI: an unset ready means ready
        boolean ready = !probe.hasReady() || probe.getReady().getValue();
        System.out.printf("Probe: ready=%s, first answer %.2f s after the start%n", ready,
                (System.currentTimeMillis() - since) / 1e3);
        Csi.GetPluginInfoResponse info = IdentityGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS)
                .getPluginInfo(Csi.GetPluginInfoRequest.getDefaultInstance());
        System.out.printf("GetPluginInfo: name=%s vendor_version=%s%n", info.getName(), info.getVendorVersion());
        Csi.NodeGetInfoResponse node = NodeGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS)
                .nodeGetInfo(Csi.NodeGetInfoRequest.getDefaultInstance());
        System.out.printf("NodeGetInfo: node_id=%s%n", node.getNodeId());
        return ready ? 0 : 1;
    }
}
