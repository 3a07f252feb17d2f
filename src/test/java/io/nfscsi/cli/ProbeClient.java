package io.nfscsi.cli;

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
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/** A CSI Probe on a unix socket, from a client of its own that is gone when the call returns. */
final class ProbeClient {

    private ProbeClient() {
    }

    /** Whether a server on {@code socket} answered Probe within 5 seconds. */
    static boolean probe(Path socket) throws InterruptedException {
        EventLoopGroup loop = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
        ManagedChannel channel = NettyChannelBuilder.forAddress(new DomainSocketAddress(socket.toString()))
                .channelType(EpollDomainSocketChannel.class).eventLoopGroup(loop).usePlaintext().build();
        try {
            IdentityGrpc.newBlockingStub(channel).withDeadlineAfter(5, TimeUnit.SECONDS)
                    .probe(Csi.ProbeRequest.getDefaultInstance());
            return true;
        } catch (StatusRuntimeException e) {
            return false;
        } finally {
            channel.shutdownNow();
            channel.awaitTermination(5, TimeUnit.SECONDS);
            loop.shutdownGracefully(0, 1, TimeUnit.SECONDS).await(5, TimeUnit.SECONDS);
        }
    }
}
