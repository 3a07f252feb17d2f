package io.nfscsi.image;

import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollDomainSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.MultiThreadIoEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollIoHandler;
import io.grpc.netty.shaded.io.netty.channel.unix.DomainSocketAddress;
import io.nfscsi.csi.v1.ControllerGrpc;
import io.nfscsi.csi.v1.Csi;
import io.nfscsi.csi.v1.IdentityGrpc;
import io.nfscsi.csi.v1.NodeGrpc;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The launcher ({@code bin/nfs-csi}) started with a chosen {@code JAVA_HOME} and environment, on a unix socket in a
 * directory of its own, and a gRPC client on that socket. Needs nothing beyond the driver's own class path, so that
 * {@link AotTraining} can use it inside the image, where JUnit is absent.
 */
public final class LaunchedDriver implements AutoCloseable {

    private final Path socket;
    private final Path log;
    private final EventLoopGroup loop = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
    private final ManagedChannel channel;
    private Process process;
    private Duration startup = Duration.ZERO;

    private LaunchedDriver(Path socket, Path log) {
        this.socket = socket;
        this.log = log;
        this.channel = NettyChannelBuilder.forAddress(new DomainSocketAddress(socket.toString()))
                .channelType(EpollDomainSocketChannel.class).eventLoopGroup(loop).usePlaintext().build();
    }

    /**
     * Runs {@code launcher} with {@code env} added to this process's environment, serving on {@code dir}/csi.sock
     * with its working mounts under {@code dir}; returns once Probe has answered, or throws with the driver's log.
     */
    static LaunchedDriver start(Path launcher, Map<String, String> env, Path dir)
            throws IOException, InterruptedException {
        return start(launcher, env, dir, List.of());
    }

    /** As {@link #start(Path, Map, Path)}, with more driver flags after the ones it always passes. */
    public static LaunchedDriver start(Path launcher, Map<String, String> env, Path dir, List<String> flags)
            throws IOException, InterruptedException {
        Files.createDirectories(dir);
        LaunchedDriver driver = new LaunchedDriver(dir.resolve("csi.sock"), dir.resolve("driver.log"));
        // a call while nothing listens loads the client's classes now, so that the start-up figure is the driver's
        driver.probeOnce();
        List<String> command = new ArrayList<>(List.of(launcher.toString(),
                "--endpoint", "unix://" + driver.socket, "--nodeid", "image-node",
                "--working-mount-dir", dir.resolve("mounts").toString()));
        command.addAll(flags);
        ProcessBuilder pb = new ProcessBuilder(command)
                .redirectErrorStream(true).redirectOutput(driver.log.toFile());
        pb.environment().putAll(env);
        long started = System.nanoTime();
        // a training run in a loaded test bed has taken three minutes to start
        long until = started + TimeUnit.SECONDS.toNanos(600);
        driver.process = pb.start();
        while (!driver.probeOnce()) {
            if (!driver.process.isAlive()) {
                driver.close();
                throw new IllegalStateException("driver exited " + driver.process.exitValue() + ": " + driver.log());
            }
            if (System.nanoTime() > until) {
                driver.close();
                throw new IllegalStateException("driver did not answer Probe within 600s: " + driver.log());
            }
            Thread.sleep(2);
        }
        driver.startup = Duration.ofNanos(System.nanoTime() - started);
        return driver;
    }

    private boolean probeOnce() {
        try {
            IdentityGrpc.newBlockingStub(channel).withDeadlineAfter(5, TimeUnit.SECONDS)
                    .probe(Csi.ProbeRequest.getDefaultInstance());
            return true;
        } catch (StatusRuntimeException notYet) {
            // not listening yet: retry at once rather than after gRPC's reconnect back-off
            channel.resetConnectBackoff();
            return false;
        }
    }

    /** From process start to the first Probe answer. */
    public Duration startup() {
        return startup;
    }

    IdentityGrpc.IdentityBlockingStub identity() {
        return IdentityGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS);
    }

    NodeGrpc.NodeBlockingStub node() {
        return NodeGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS);
    }

    ControllerGrpc.ControllerBlockingStub controller() {
        return ControllerGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS);
    }

    Path socket() {
        return socket;
    }

    /** The client's channel to the driver, for stubs with deadlines of the caller's choosing. */
    public ManagedChannel channel() {
        return channel;
    }

    /** The driver's process ID: the launcher execs the JVM, so it is the JVM's. */
    public long pid() {
        return process.pid();
    }

    /** The driver's log file. */
    public Path logFile() {
        return log;
    }

    public String log() {
        try {
            return Files.readString(log, StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "(no log: " + e + ")";
        }
    }

    /** Sends SIGTERM and waits up to ten minutes for the exit; returns the exit code. */
    int terminate() throws InterruptedException {
        closeChannel();
        process.destroy();
        // a training run writes its cache as it exits: over a minute on a loaded machine
        if (!process.waitFor(600, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            process.waitFor();
        }
        return process.exitValue();
    }

    /** Stops the driver if it still runs, and the client. */
    @Override
    public void close() {
        try {
            if (process != null && process.isAlive()) {
                terminate();
            }
            closeChannel();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            if (process != null) {
                process.destroyForcibly();
            }
        }
    }

    private void closeChannel() throws InterruptedException {
        channel.shutdownNow();
        channel.awaitTermination(5, TimeUnit.SECONDS);
        loop.shutdownGracefully(0, 1, TimeUnit.SECONDS).await(5, TimeUnit.SECONDS);
    }
}
