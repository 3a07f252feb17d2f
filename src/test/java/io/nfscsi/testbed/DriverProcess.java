package io.nfscsi.testbed;

import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.MultiThreadIoEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollDomainSocketChannel;
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
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The driver as kubelet sees it: {@code bin/nfs-csi} started as its own process on a unix socket, and a gRPC client
 * on that socket. The driver's stderr goes to a file so that tests can read its log.
 */
public final class DriverProcess implements AutoCloseable {

    private final Process process;
    private final Path socket;
    private final Path log;
    private final EventLoopGroup loop = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
    private final ManagedChannel channel;

    private DriverProcess(Process process, Path socket, Path log) {
        this.process = process;
        this.socket = socket;
        this.log = log;
        this.channel = NettyChannelBuilder.forAddress(new DomainSocketAddress(socket.toString()))
                .channelType(EpollDomainSocketChannel.class).eventLoopGroup(loop).usePlaintext().build();
    }

    /** The project root, from the {@code nfscsi.home} system property (set by testbed/run-nfs-tests), else ".". */
    public static Path home() {
        return Path.of(System.getProperty("nfscsi.home", ".")).toAbsolutePath().normalize();
    }

    /** Starts {@code bin/nfs-csi} with {@code extraFlags} on a fresh socket under {@code dir}; waits until Probe answers. */
    public static DriverProcess start(Path dir, String... extraFlags) throws IOException, InterruptedException {
        return start(home().resolve("bin/nfs-csi"), dir, extraFlags);
    }

    /**
     * As {@link #start(Path, String...)}, with another build's launcher: benchmarks run an earlier commit's driver as
     * their in-run baseline.
     */
    public static DriverProcess start(Path launcher, Path dir, String... extraFlags)
            throws IOException, InterruptedException {
        Files.createDirectories(dir);
        Path socket = dir.resolve("csi.sock");
        Path log = dir.resolve("driver.log");
        List<String> argv = new ArrayList<>(List.of(launcher.toString(),
                "--endpoint", "unix://" + socket, "--nodeid", "walkthrough-node",
                "--working-mount-dir", dir.resolve("mounts").toString()));
        if (!List.of(extraFlags).contains("-v")) {
            argv.addAll(List.of("-v", "4"));
        }
        argv.addAll(List.of(extraFlags));
        Process p = new ProcessBuilder(argv).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        DriverProcess driver = new DriverProcess(p, socket, log);
        // the first driver in a fresh test bed reads its jars through hostfs: a minute and more on a loaded machine
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(180);
        while (true) {
            if (!p.isAlive()) {
                throw new IllegalStateException("driver exited " + p.exitValue() + ": " + driver.log());
            }
            if (Files.exists(socket)) {
                try {
                    // a socket that exists before the server listens fails the first connects; without a reset the
                    // channel's reconnect backoff grows past this loop's budget on a loaded machine
                    driver.channel.resetConnectBackoff();
                    driver.identity().withDeadlineAfter(5, TimeUnit.SECONDS).probe(Csi.ProbeRequest.getDefaultInstance());
                    return driver;
                } catch (RuntimeException notYet) {
                    // the server is still binding
                }
            }
            if (System.nanoTime() > until) {
                driver.close();
                throw new IllegalStateException("driver did not answer Probe within 180s: " + driver.log());
            }
            Thread.sleep(100);
        }
    }

    public IdentityGrpc.IdentityBlockingStub identity() {
        return IdentityGrpc.newBlockingStub(channel);
    }

    public NodeGrpc.NodeBlockingStub node() {
        return NodeGrpc.newBlockingStub(channel).withDeadlineAfter(120, TimeUnit.SECONDS);
    }

    public ControllerGrpc.ControllerBlockingStub controller() {
        return ControllerGrpc.newBlockingStub(channel).withDeadlineAfter(120, TimeUnit.SECONDS);
    }

    public Path socket() {
        return socket;
    }

    public Process process() {
        return process;
    }

    /** Everything the driver has logged so far. */
    public String log() {
        try {
            return Files.readString(log, StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "(no log: " + e + ")";
        }
    }

    /** Copies the driver's log to target/testbed-logs/, where it outlives the test bed's private directories. */
    private void keepLog() {
        try {
            Path kept = home().resolve("target/testbed-logs").resolve(log.getParent().getFileName() + ".log");
            Files.createDirectories(kept.getParent());
            Files.copy(log, kept, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            System.err.println("could not keep the driver log: " + e);
        }
    }

    /** Sends SIGTERM and waits for the process to exit; returns its exit code. */
    public int terminate() throws InterruptedException {
        channel.shutdownNow();
        process.destroy();
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            process.waitFor();
        }
        return process.exitValue();
    }

    /** Stops the driver (SIGTERM; SIGKILL if interrupted while waiting, keeping the interrupt) and keeps its log. */
    @Override
    public void close() {
        if (process.isAlive()) {
            try {
                terminate();
            } catch (InterruptedException e) {
                process.destroyForcibly();
                Thread.currentThread().interrupt();
            }
        }
        keepLog();
        channel.shutdownNow();
        loop.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    }
}
