package io.nfscsi.server;

import io.grpc.BindableService;
import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.MultiThreadIoEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollIoHandler;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.unix.DomainSocketAddress;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Serves the CSI services on an endpoint. Calls run on virtual threads. On a unix socket it creates the socket's
 * directory, replaces a stale socket left by a crashed predecessor, and removes the socket when it stops.
 */
public final class CsiServer {

    private static final Logger log = LoggerFactory.getLogger(CsiServer.class);

    private final Endpoint endpoint;
    private final Server server;
    private final ExecutorService executor;
    private final List<EventLoopGroup> loops;

    private CsiServer(Endpoint endpoint, Server server, ExecutorService executor, List<EventLoopGroup> loops) {
        this.endpoint = endpoint;
        this.server = server;
        this.executor = executor;
        this.loops = loops;
    }

    /** Binds {@code endpoint} and starts serving {@code services} behind the request log and error translator. */
    public static CsiServer start(Endpoint endpoint, List<BindableService> services) throws IOException {
        ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();
        NettyServerBuilder builder;
        List<EventLoopGroup> loops = List.of();
        switch (endpoint) {
            case Endpoint.Unix(Path socket) -> {
                prepareSocketPath(socket);
                EventLoopGroup boss = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
                EventLoopGroup workers = new MultiThreadIoEventLoopGroup(2, EpollIoHandler.newFactory());
                loops = List.of(boss, workers);
                builder = NettyServerBuilder.forAddress(new DomainSocketAddress(socket.toString()))
                        .channelType(EpollServerDomainSocketChannel.class)
                        .bossEventLoopGroup(boss)
                        .workerEventLoopGroup(workers);
            }
            case Endpoint.Tcp(String host, int port) -> builder = NettyServerBuilder.forAddress(
                    new InetSocketAddress(host, port));
        }
        builder.executor(executor);
        RequestLog requestLog = new RequestLog();
        ErrorTranslator errors = new ErrorTranslator();
        for (BindableService service : services) {
            // the last interceptor runs first: the log sees the status that the translator produced
            builder.addService(ServerInterceptors.intercept(service, errors, requestLog));
        }
        Server server = builder.build().start();
        log.info("serving {} on {}", services.stream().map(s -> s.bindService().getServiceDescriptor().getName())
                .toList(), endpoint);
        return new CsiServer(endpoint, server, executor, loops);
    }

    private static void prepareSocketPath(Path socket) throws IOException {
        Path dir = socket.getParent();
        if (dir != null) {
            Files.createDirectories(dir);
        }
        if (Files.exists(socket, LinkOption.NOFOLLOW_LINKS)) {
            if (Files.isDirectory(socket, LinkOption.NOFOLLOW_LINKS)) {
                throw new IOException("endpoint " + socket + " is a directory");
            }
            log.info("removing stale socket {}", socket);
            Files.delete(socket);
        }
    }

    /** The bound TCP port, for {@code tcp://host:0}. */
    public int port() {
        return server.getPort();
    }

    /**
     * Stops accepting calls, lets in-flight calls finish for up to {@code grace}, then cancels the rest and
     * removes the socket.
     */
    public void stop(Duration grace) {
        server.shutdown();
        try {
            if (!server.awaitTermination(grace.toMillis(), TimeUnit.MILLISECONDS)) {
                log.warn("calls still running after {}; cancelling them", grace);
                server.shutdownNow();
                server.awaitTermination(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            server.shutdownNow();
            Thread.currentThread().interrupt();
        }
        executor.shutdownNow();
        loops.forEach(l -> l.shutdownGracefully(0, 1, TimeUnit.SECONDS));
        if (endpoint instanceof Endpoint.Unix(Path socket)) {
            try {
                Files.deleteIfExists(socket);
            } catch (IOException e) {
                log.warn("could not remove socket {}: {}", socket, e.toString());
            }
        }
        log.info("stopped");
    }

    /** Blocks until the server has terminated. */
    public void awaitTermination() throws InterruptedException {
        server.awaitTermination();
    }
}
