package io.nfscsi.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.MultiThreadIoEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollDomainSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollIoHandler;
import io.grpc.netty.shaded.io.netty.channel.unix.DomainSocketAddress;
import io.grpc.stub.StreamObserver;
import io.nfscsi.csi.v1.Csi;
import io.nfscsi.csi.v1.IdentityGrpc;
import io.nfscsi.csi.v1.NodeGrpc;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The server on a real unix socket: binding, stale sockets, virtual threads and graceful stop. */
class CsiServerTest {

    @TempDir
    Path dir;
    EventLoopGroup loop = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());

    /** Probe blocks until released, so that a test can hold a call in flight. */
    static final class Gated extends IdentityGrpc.IdentityImplBase {
        final CountDownLatch entered = new CountDownLatch(1);
        final CountDownLatch release = new CountDownLatch(1);
        volatile boolean virtual;
        volatile String thread;

        @Override
        public void probe(Csi.ProbeRequest req, StreamObserver<Csi.ProbeResponse> reply) {
            virtual = Thread.currentThread().isVirtual();
            thread = Thread.currentThread().getName();
            entered.countDown();
            try {
                release.await(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            reply.onNext(Csi.ProbeResponse.getDefaultInstance());
            reply.onCompleted();
        }
    }

    @AfterEach
    void stopLoop() {
        loop.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    }

    ManagedChannel connect(Path socket) {
        return NettyChannelBuilder.forAddress(new DomainSocketAddress(socket.toString()))
                .channelType(EpollDomainSocketChannel.class).eventLoopGroup(loop).usePlaintext().build();
    }

    @Test
    void start_createsDirectory_replacesStaleSocket_andStopRemovesIt() throws Exception {
        Path socket = dir.resolve("plugins/nfs.csi.io/csi.sock");
        Files.createDirectories(socket.getParent());
        Files.writeString(socket, "left by a crashed predecessor");
        Gated service = new Gated();
        service.release.countDown();
        CsiServer server = CsiServer.start(new Endpoint.Unix(socket), List.of(service));
        ManagedChannel channel = connect(socket);
        try {
            IdentityGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS)
                    .probe(Csi.ProbeRequest.getDefaultInstance());
            assertThat(service.virtual).as("Identity calls run on a platform thread of their own").isFalse();
            assertThat(service.thread).isEqualTo("grpc-identity");
        } finally {
            channel.shutdownNow();
            server.stop(Duration.ofSeconds(5));
        }
        assertThat(socket).doesNotExist();
    }

    /** NodeGetInfo records the thread it runs on. */
    static final class NodeInfo extends NodeGrpc.NodeImplBase {
        volatile boolean virtual;

        @Override
        public void nodeGetInfo(Csi.NodeGetInfoRequest req, StreamObserver<Csi.NodeGetInfoResponse> reply) {
            virtual = Thread.currentThread().isVirtual();
            reply.onNext(Csi.NodeGetInfoResponse.newBuilder().setNodeId("n").build());
            reply.onCompleted();
        }
    }

    @Test
    void probe_answers_whileEveryOtherCallIsBlocked_andOtherServicesRunOnVirtualThreads() throws Exception {
        Path socket = dir.resolve("csi.sock");
        Gated identity = new Gated();
        identity.release.countDown();
        NodeInfo node = new NodeInfo();
        CountDownLatch releaseNodes = new CountDownLatch(1);
        NodeGrpc.NodeImplBase blockedNode = new NodeGrpc.NodeImplBase() {
            @Override
            public void nodeGetCapabilities(Csi.NodeGetCapabilitiesRequest req,
                                            StreamObserver<Csi.NodeGetCapabilitiesResponse> reply) {
                try {
                    releaseNodes.await(30, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                reply.onNext(Csi.NodeGetCapabilitiesResponse.getDefaultInstance());
                reply.onCompleted();
            }

            @Override
            public void nodeGetInfo(Csi.NodeGetInfoRequest req, StreamObserver<Csi.NodeGetInfoResponse> reply) {
                node.nodeGetInfo(req, reply);
            }
        };
        CsiServer server = CsiServer.start(new Endpoint.Unix(socket), List.of(identity, blockedNode));
        ManagedChannel channel = connect(socket);
        try {
            var nodes = NodeGrpc.newFutureStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS);
            List<com.google.common.util.concurrent.ListenableFuture<Csi.NodeGetCapabilitiesResponse>> blocked =
                    new java.util.ArrayList<>();
            for (int i = 0; i < 64; i++) {
                blocked.add(nodes.nodeGetCapabilities(Csi.NodeGetCapabilitiesRequest.getDefaultInstance()));
            }
            probe(channel);
            assertThat(identity.virtual).isFalse();
            assertThat(blocked).noneMatch(java.util.concurrent.Future::isDone);
            NodeGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS)
                    .nodeGetInfo(Csi.NodeGetInfoRequest.getDefaultInstance());
            assertThat(node.virtual).as("other calls run on virtual threads").isTrue();
            releaseNodes.countDown();
            for (var f : blocked) {
                assertThat(f.get(10, TimeUnit.SECONDS)).isNotNull();
            }
        } finally {
            releaseNodes.countDown();
            channel.shutdownNow();
            server.stop(Duration.ofSeconds(5));
        }
    }

    @Test
    void stop_letsInFlightCallsFinish_andRefusesNewOnes() throws Exception {
        Path socket = dir.resolve("csi.sock");
        Gated service = new Gated();
        CsiServer server = CsiServer.start(new Endpoint.Unix(socket), List.of(service));
        ManagedChannel channel = connect(socket);
        try {
            var stub = IdentityGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS);
            CompletableFuture<Csi.ProbeResponse> inFlight =
                    CompletableFuture.supplyAsync(() -> stub.probe(Csi.ProbeRequest.getDefaultInstance()));
            assertThat(service.entered.await(10, TimeUnit.SECONDS)).isTrue();
            CompletableFuture<Void> stopping = CompletableFuture.runAsync(() -> server.stop(Duration.ofSeconds(20)));
            // wait until the server has stopped listening (the socket goes only at the end, so poll a new call)
            ManagedChannel late = connect(socket);
            try {
                long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                boolean refused = false;
                while (!refused && System.nanoTime() < until) {
                    try {
                        IdentityGrpc.newBlockingStub(late).withDeadlineAfter(1, TimeUnit.SECONDS)
                                .getPluginInfo(Csi.GetPluginInfoRequest.getDefaultInstance());
                        Thread.sleep(50);
                    } catch (StatusRuntimeException e) {
                        refused = true;
                    }
                }
                assertThat(refused).as("new calls refused while stopping").isTrue();
            } finally {
                late.shutdownNow();
            }
            assertThat(inFlight).isNotDone();
            service.release.countDown();
            assertThat(inFlight.get(10, TimeUnit.SECONDS)).isNotNull();
            stopping.get(20, TimeUnit.SECONDS);
        } finally {
            service.release.countDown();
            channel.shutdownNow();
        }
        assertThat(socket).doesNotExist();
    }

    @Test
    void start_onTcp_servesOnTheBoundPort() throws Exception {
        Gated service = new Gated();
        service.release.countDown();
        CsiServer server = CsiServer.start(new Endpoint.Tcp("127.0.0.1", 0), List.of(service));
        ManagedChannel channel = io.grpc.Grpc.newChannelBuilderForAddress("127.0.0.1", server.port(),
                io.grpc.InsecureChannelCredentials.create()).build();
        try {
            IdentityGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS)
                    .probe(Csi.ProbeRequest.getDefaultInstance());
        } finally {
            channel.shutdownNow();
            server.stop(Duration.ofSeconds(1));
        }
        assertThatThrownBy(() -> IdentityGrpc.newBlockingStub(channel).probe(Csi.ProbeRequest.getDefaultInstance()))
                .isInstanceOf(StatusRuntimeException.class);
    }

    private static void probe(ManagedChannel channel) {
        IdentityGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS)
                .probe(Csi.ProbeRequest.getDefaultInstance());
    }

    @Test
    void start_onSocketOfARunningServer_refuses_andTheFirstKeepsItsSocket() throws Exception {
        Path socket = dir.resolve("csi.sock");
        Gated service = new Gated();
        service.release.countDown();
        CsiServer first = CsiServer.start(new Endpoint.Unix(socket), List.of(service));
        ManagedChannel channel = connect(socket);
        try {
            assertThatThrownBy(() -> CsiServer.start(new Endpoint.Unix(socket), List.of(new Gated())))
                    .isInstanceOf(java.io.IOException.class)
                    .hasMessage("socket " + socket + " is in use by a running driver (process "
                            + ProcessHandle.current().pid() + "); not taking it over");

            probe(channel);
        } finally {
            channel.shutdownNow();
            first.stop(Duration.ofSeconds(5));
        }
        // stopped: the lock is free again, and the next server takes the socket
        CsiServer next = CsiServer.start(new Endpoint.Unix(socket), List.of(service));
        next.stop(Duration.ofSeconds(5));
    }

    @Test
    void start_onSocketThatAnotherProgramServesWithoutTheLock_refuses() throws Exception {
        Path socket = dir.resolve("csi.sock");
        try (var other = java.nio.channels.ServerSocketChannel.open(java.net.StandardProtocolFamily.UNIX)) {
            other.bind(java.net.UnixDomainSocketAddress.of(socket));

            assertThatThrownBy(() -> CsiServer.start(new Endpoint.Unix(socket), List.of(new Gated())))
                    .isInstanceOf(java.io.IOException.class)
                    .hasMessage("socket " + socket + " is served by another process; not taking it over");
            assertThat(socket).exists();
            // the refused start released its lock: with the listener gone, the socket is stale and is taken
        }
        startServeAndStop(socket);
    }

    /** Starts a server on {@code socket}, checks that it answers Probe there, and stops it. */
    private void startServeAndStop(Path socket) throws Exception {
        Gated service = new Gated();
        service.release.countDown();
        CsiServer server = CsiServer.start(new Endpoint.Unix(socket), List.of(service));
        ManagedChannel channel = connect(socket);
        try {
            probe(channel);
        } finally {
            channel.shutdownNow();
            server.stop(Duration.ofSeconds(5));
        }
    }

    @Test
    void start_onStaleSocket_whoseListenerIsGone_takesItOver() throws Exception {
        Path socket = dir.resolve("csi.sock");
        // a socket file that refuses connections, as a driver killed by SIGKILL leaves it
        try (var dead = java.nio.channels.ServerSocketChannel.open(java.net.StandardProtocolFamily.UNIX)) {
            dead.bind(java.net.UnixDomainSocketAddress.of(socket));
        }
        assertThat(socket).exists();
        startServeAndStop(socket);
        assertThat(socket).doesNotExist();
    }

    @Test
    void start_whenTheSocketDirectoryCannotBeMade_failsWithOneLineNamingIt() throws Exception {
        Path blocker = Files.writeString(dir.resolve("plugins"), "a file where a directory belongs");
        Path socket = blocker.resolve("nfs.csi.io/csi.sock");

        assertThatThrownBy(() -> CsiServer.start(new Endpoint.Unix(socket), List.of(new Gated())))
                .isInstanceOf(java.io.IOException.class)
                .hasMessageStartingWith("cannot create the socket directory " + socket.getParent() + ": ")
                .hasMessageNotContaining("\n");
    }

    @Test
    void start_onTcpAddressInUse_failsWithOneLineNamingTheEndpoint() throws Exception {
        try (var taken = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            Endpoint endpoint = new Endpoint.Tcp("127.0.0.1", taken.getLocalPort());

            assertThatThrownBy(() -> CsiServer.start(endpoint, List.of(new Gated())))
                    .isInstanceOf(java.io.IOException.class)
                    .hasMessageStartingWith("cannot serve on " + endpoint + ": ")
                    .hasMessageContaining("Address already in use")
                    .hasMessageNotContaining("\n");
        }
    }
}
