package io.nfscsi.server;

import io.grpc.BindableService;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallExecutorSupplier;
import io.grpc.ServerInterceptors;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.MultiThreadIoEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollIoHandler;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.unix.DomainSocketAddress;
import io.nfscsi.csi.v1.IdentityGrpc;
import io.nfscsi.metrics.DriverMetrics;
import java.io.IOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.OverlappingFileLockException;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionHandler;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Serves the CSI services on an endpoint. Calls run on virtual threads, except the Identity service's (Probe,
 * GetPluginInfo, GetPluginCapabilities), which answer from memory and run on one platform thread of their own: a
 * liveness probe must not queue behind provisioning calls for the virtual threads' carriers (see
 * {@link #callExecutor}). On a unix socket it first claims the socket
 * ({@link #claim}): it creates the socket's directory, refuses a socket that another process still serves, replaces a
 * stale one left by a crashed predecessor, and removes the socket when it stops.
 */
public final class CsiServer {

    private static final Logger log = LoggerFactory.getLogger(CsiServer.class);

    /** Services whose calls answer from memory: they run on a platform thread of their own. */
    private static final Set<String> QUICK_SERVICES = Set.of(IdentityGrpc.SERVICE_NAME);
    /** Tasks waiting for the dispatcher's thread; past that many, the transport thread runs them itself. */
    private static final int DISPATCH_QUEUE = 1024;
    /** Quick calls waiting for their thread; past that many they are refused. */
    private static final int QUICK_QUEUE = 256;

    private final Claim claim;
    private final Server server;
    private final List<ExecutorService> executors;
    private final List<EventLoopGroup> loops;

    private CsiServer(Claim claim, Server server, List<ExecutorService> executors, List<EventLoopGroup> loops) {
        this.claim = claim;
        this.server = server;
        this.executors = executors;
        this.loops = loops;
    }

    /**
     * A pool of one platform thread, started on demand and ended after a minute idle, with a bounded queue.
     */
    private static ThreadPoolExecutor onePlatformThread(String name, int queue,
                                                        RejectedExecutionHandler whenFull) {
        ThreadPoolExecutor pool = new ThreadPoolExecutor(1, 1, 1, TimeUnit.MINUTES, new ArrayBlockingQueue<>(queue),
                r -> Thread.ofPlatform().daemon().name(name).unstarted(r), whenFull);
        pool.allowCoreThreadTimeOut(true);
        return pool;
    }

    /**
     * Where each call runs: the quick services' calls on their own platform thread, the others on virtual threads.
     * gRPC first looks up a call's method on the server's executor (the dispatcher: it only looks up and hands
     * over, never blocks) and then moves the call to the executor chosen here. With virtual threads as the server's
     * executor, a Probe waited for a carrier thread behind every runnable provisioning call before it could even
     * be looked up.
     */
    private static ServerCallExecutorSupplier callExecutor(Executor quick, Executor virtualThreads) {
        return new ServerCallExecutorSupplier() {
            @Override
            public <Q, R> Executor getExecutor(ServerCall<Q, R> call, Metadata headers) {
                return QUICK_SERVICES.contains(call.getMethodDescriptor().getServiceName()) ? quick : virtualThreads;
            }
        };
    }

    /**
     * An endpoint that this process may bind. For a unix socket it holds a lock on the file beside the socket
     * ({@code csi.sock.lock}) from before the socket is bound until the server stops; closing it releases the lock.
     *
     * <p>The lock tells a live owner from a dead one at any moment of the owner's life: from its start, before it
     * binds (a JVM that is still building its services has no listener yet, and a connect alone would call its socket
     * stale), to its stop, when it removes the socket. The kernel drops the lock when the owner dies, even by SIGKILL,
     * so a crash never leaves a socket that no one may take. A connect to the socket covers a listener that holds no
     * lock (another program, or a driver of a version without the lock): it answers, so it is alive. Only a socket
     * that refuses the connection while no one holds the lock is stale, and is replaced.
     */
    public static final class Claim implements AutoCloseable {
        private final Endpoint endpoint;
        private final FileChannel lock;

        private Claim(Endpoint endpoint, FileChannel lock) {
            this.endpoint = endpoint;
            this.lock = lock;
        }

        public Endpoint endpoint() {
            return endpoint;
        }

        /** Releases the lock; the lock file stays (removing it would let two processes lock two different files). */
        @Override
        public void close() {
            if (lock != null) {
                try {
                    lock.close();
                } catch (IOException e) {
                    log.warn("could not release the socket lock: {}", e.toString());
                }
            }
        }
    }

    /**
     * Claims {@code endpoint} for this process; a TCP endpoint needs no claim (its bind refuses a second server).
     *
     * @throws IOException with a one-line message naming the socket: its directory cannot be made, or another
     *         process serves it
     */
    public static Claim claim(Endpoint endpoint) throws IOException {
        if (!(endpoint instanceof Endpoint.Unix(Path socket))) {
            return new Claim(endpoint, null);
        }
        Path dir = socket.getParent();
        if (dir != null) {
            try {
                Files.createDirectories(dir);
            } catch (IOException e) {
                throw new IOException("cannot create the socket directory " + dir + ": " + describe(dir, e), e);
            }
        }
        FileChannel lock = lock(socket);
        try {
            if (Files.exists(socket, LinkOption.NOFOLLOW_LINKS)) {
                if (Files.isDirectory(socket, LinkOption.NOFOLLOW_LINKS)) {
                    throw new IOException("endpoint " + socket + " is a directory");
                }
                if (answers(socket)) {
                    throw new IOException("socket " + socket + " is served by another process; not taking it over");
                }
                log.info("removing stale socket {}", socket);
                Files.delete(socket);
            }
            return new Claim(endpoint, lock);
        } catch (IOException | RuntimeException e) {
            lock.close();
            throw e;
        }
    }

    private static FileChannel lock(Path socket) throws IOException {
        Path file = socket.resolveSibling(socket.getFileName() + ".lock");
        FileChannel lock;
        try {
            lock = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ,
                    StandardOpenOption.WRITE);
        } catch (IOException e) {
            throw new IOException("cannot open the socket lock " + file + ": " + describe(file, e), e);
        }
        boolean locked;
        try {
            locked = lock.tryLock() != null;
        } catch (OverlappingFileLockException e) {
            locked = false; // this JVM holds it already
        } catch (IOException | RuntimeException e) {
            lock.close();
            throw e;
        }
        if (!locked) {
            String holder = holder(lock);
            lock.close();
            throw new IOException("socket " + socket + " is in use by a running driver" + holder
                    + "; not taking it over");
        }
        // the holder's process ID, for the message of the next one that is refused
        try {
            lock.truncate(0);
            lock.write(ByteBuffer.wrap((ProcessHandle.current().pid() + "\n").getBytes(StandardCharsets.US_ASCII)),
                    0);
        } catch (IOException e) {
            lock.close();
            throw new IOException("cannot write the socket lock " + file + ": " + describe(file, e), e);
        }
        return lock;
    }

    private static String holder(FileChannel lock) {
        try {
            ByteBuffer buf = ByteBuffer.allocate(32);
            lock.read(buf, 0);
            String pid = new String(buf.array(), 0, buf.position(), StandardCharsets.US_ASCII).trim();
            return pid.matches("[0-9]+") ? " (process " + pid + ")" : "";
        } catch (IOException e) {
            return "";
        }
    }

    /** Whether something listens on {@code socket}; a refused connection means that nothing does. */
    private static boolean answers(Path socket) throws IOException {
        try (SocketChannel probe = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            probe.connect(UnixDomainSocketAddress.of(socket));
            return true;
        } catch (ConnectException refused) {
            return false;
        } catch (IOException e) {
            throw new IOException("cannot tell whether socket " + socket + " is served: " + describe(socket, e), e);
        }
    }

    /** Binds {@code endpoint} and starts serving {@code services} behind the request log and error translator. */
    public static CsiServer start(Endpoint endpoint, List<BindableService> services) throws IOException {
        return start(claim(endpoint), services);
    }

    /** As {@link #start(Claim, List, DriverMetrics)}, recording into metrics that nothing serves. */
    public static CsiServer start(Claim claim, List<BindableService> services) throws IOException {
        return start(claim, services, DriverMetrics.unexported());
    }

    /**
     * Binds the claimed endpoint and starts serving {@code services}, counting and timing every call in
     * {@code metrics}; if that fails, releases the claim.
     *
     * @throws IOException with a one-line message naming the endpoint and the cause (address in use, permission)
     */
    public static CsiServer start(Claim claim, List<BindableService> services, DriverMetrics metrics)
            throws IOException {
        ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();
        ThreadPoolExecutor dispatcher = onePlatformThread("grpc-dispatch", DISPATCH_QUEUE,
                new ThreadPoolExecutor.CallerRunsPolicy());
        ThreadPoolExecutor quick =
                onePlatformThread("grpc-identity", QUICK_QUEUE, new ThreadPoolExecutor.AbortPolicy());
        List<ExecutorService> executors = List.of(dispatcher, quick, executor);
        NettyServerBuilder builder;
        List<EventLoopGroup> loops = List.of();
        switch (claim.endpoint()) {
            case Endpoint.Unix(Path socket) -> {
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
        builder.executor(dispatcher).callExecutor(callExecutor(quick, executor));
        RequestLog requestLog = new RequestLog();
        ErrorTranslator errors = new ErrorTranslator();
        RpcMetrics rpcMetrics = new RpcMetrics(metrics);
        for (BindableService service : services) {
            // the last interceptor runs first: the log and the metrics see the status that the translator produced
            builder.addService(ServerInterceptors.intercept(service, errors, rpcMetrics, requestLog));
        }
        Server server;
        try {
            server = builder.build().start();
        } catch (IOException | RuntimeException e) {
            executors.forEach(ExecutorService::shutdownNow);
            loops.forEach(l -> l.shutdownGracefully(0, 1, TimeUnit.SECONDS));
            claim.close();
            throw new IOException("cannot serve on " + claim.endpoint() + ": " + describe(e), e);
        }
        log.info("serving {} on {}", services.stream().map(s -> s.bindService().getServiceDescriptor().getName())
                .toList(), claim.endpoint());
        return new CsiServer(claim, server, executors, loops);
    }

    /** {@link #describe(Throwable)} without {@code subject}'s name where the message names it already. */
    public static String describe(Path subject, Throwable e) {
        String line = describe(e);
        String prefix = subject + ": ";
        return line.startsWith(prefix) ? line.substring(prefix.length()) : line;
    }

    /**
     * One line for an I/O failure: the path and the reason for a file-system error ({@code /csi: permission
     * denied}), else the innermost cause's message ({@code Address already in use}).
     */
    public static String describe(Throwable e) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return switch (root) {
            case AccessDeniedException a -> a.getFile() + ": permission denied";
            case NoSuchFileException n -> n.getFile() + ": no such file or directory";
            case FileAlreadyExistsException f when f.getReason() == null -> f.getFile() + ": exists, not a directory";
            case FileSystemException f -> f.getMessage();
            default -> root.getMessage() != null ? root.getMessage() : root.getClass().getSimpleName();
        };
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
        executors.forEach(ExecutorService::shutdownNow);
        loops.forEach(l -> l.shutdownGracefully(0, 1, TimeUnit.SECONDS));
        if (claim.endpoint() instanceof Endpoint.Unix(Path socket)) {
            try {
                Files.deleteIfExists(socket);
            } catch (IOException e) {
                log.warn("could not remove socket {}: {}", socket, e.toString());
            }
        }
        // only now: the next driver may take the socket once this one no longer removes it
        claim.close();
        log.info("stopped");
    }

    /** Blocks until the server has terminated. */
    public void awaitTermination() throws InterruptedException {
        server.awaitTermination();
    }
}
