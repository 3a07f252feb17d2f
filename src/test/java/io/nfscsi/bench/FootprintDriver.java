package io.nfscsi.bench;

import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
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
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * One driver process for {@link FootprintBenchmark}: {@code bin/nfs-csi} with a chosen environment (the JVM options
 * of a manifest, an AOT cache or none) and flags, on a unix socket in a directory of its own, its log in a file.
 * {@link #startMillis()} is from the exec to the first answered Probe (the client's classes loaded before the
 * clock starts, as in {@link FootprintLoad}); {@link #rssKb()} reads the process's VmRSS (the launcher execs the
 * JVM, so the process started is the JVM).
 */
final class FootprintDriver implements AutoCloseable {

    /** The node DaemonSet's JVM options and flags (deploy/kustomize/base/node.yaml), the port left to the system. */
    static final String NODE_JAVA_OPTS = "-Xmx64m -XX:MaxDirectMemorySize=16m";
    static final List<String> NODE_FLAGS = List.of("--v=2", "--metrics-address=127.0.0.1:0");
    /** The controller Deployment's (deploy/kustomize/base/controller.yaml). */
    static final String CONTROLLER_JAVA_OPTS = "-Xmx192m -XX:MaxDirectMemorySize=64m";
    static final List<String> CONTROLLER_FLAGS = List.of("--v=2", "--metrics-address=127.0.0.1:0");

    private final Path socket;
    private final Path log;
    private Path keepLogIn;
    private final EventLoopGroup loop = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
    private final ManagedChannel channel;
    private Process process;
    private long startMillis;

    private FootprintDriver(Path dir) {
        this.socket = dir.resolve("csi.sock");
        this.log = dir.resolve("driver.log");
        this.channel = NettyChannelBuilder.forAddress(new DomainSocketAddress(socket.toString()))
                .channelType(EpollDomainSocketChannel.class).eventLoopGroup(loop).usePlaintext().build();
    }

    /**
     * Starts {@code launcher} serving on {@code dir}/csi.sock, with {@code env} added (NFSCSI_AOT is empty unless
     * given: no AOT cache), {@code --working-mount-dir} under {@code dir} and {@code flags}; returns once Probe
     * answers.
     */
    static FootprintDriver start(Path launcher, Path dir, Map<String, String> env, List<String> flags,
                                 Path keepLogIn) throws IOException, InterruptedException {
        Files.createDirectories(dir);
        Files.deleteIfExists(dir.resolve("csi.sock"));
        FootprintDriver d = new FootprintDriver(dir);
        d.keepLogIn = keepLogIn;
        d.probeOnce();
        List<String> argv = new ArrayList<>(List.of(launcher.toString(), "--endpoint", "unix://" + d.socket,
                "--nodeid", "bench-node", "--working-mount-dir", dir.resolve("mounts").toString()));
        argv.addAll(flags);
        ProcessBuilder pb = new ProcessBuilder(argv).redirectErrorStream(true).redirectOutput(d.log.toFile());
        pb.environment().put("NFSCSI_AOT", "");
        pb.environment().putAll(env);
        long began = System.nanoTime();
        // the first driver in a fresh test bed reads its jars through hostfs: minutes on a loaded machine
        long until = began + TimeUnit.SECONDS.toNanos(600);
        d.process = pb.start();
        while (!d.probeOnce()) {
            if (!d.process.isAlive()) {
                d.close();
                throw new IllegalStateException("driver exited " + d.process.exitValue() + ": " + d.log());
            }
            if (System.nanoTime() > until) {
                d.close();
                throw new IllegalStateException("driver did not answer Probe within 600s: " + d.log());
            }
            Thread.sleep(2);
        }
        d.startMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - began);
        return d;
    }

    private boolean probeOnce() {
        if (!Files.exists(socket)) {
            return false;
        }
        try {
            IdentityGrpc.newBlockingStub(channel).withDeadlineAfter(5, TimeUnit.SECONDS)
                    .probe(Csi.ProbeRequest.getDefaultInstance());
            return true;
        } catch (StatusRuntimeException notYet) {
            // bound but not yet serving: retry at once rather than after gRPC's reconnect back-off
            channel.resetConnectBackoff();
            return false;
        }
    }

    long startMillis() {
        return startMillis;
    }

    /** VmRSS of the driver's JVM, in kB. */
    long rssKb() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc", Long.toString(process.pid()), "status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        throw new IllegalStateException("no VmRSS for " + process.pid());
    }

    IdentityGrpc.IdentityBlockingStub identity() {
        return IdentityGrpc.newBlockingStub(channel).withDeadlineAfter(60, TimeUnit.SECONDS);
    }

    NodeGrpc.NodeBlockingStub node() {
        return NodeGrpc.newBlockingStub(channel).withDeadlineAfter(120, TimeUnit.SECONDS);
    }

    ControllerGrpc.ControllerBlockingStub controller() {
        return ControllerGrpc.newBlockingStub(channel).withDeadlineAfter(120, TimeUnit.SECONDS);
    }

    String log() {
        try {
            return Files.readString(log, StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "(no log: " + e + ")";
        }
    }

    /**
     * SIGTERM, then waits (SIGKILL after a minute, or at once if interrupted); the client is closed too, and the
     * log copied to the directory given at the start (the test bed's own directories go with it).
     */
    @Override
    public void close() {
        channel.shutdownNow();
        try {
            if (process != null && process.isAlive()) {
                process.destroy();
                if (!process.waitFor(60, TimeUnit.SECONDS)) {
                    process.destroyForcibly();
                    process.waitFor();
                }
            }
            channel.awaitTermination(5, TimeUnit.SECONDS);
            loop.shutdownGracefully(0, 1, TimeUnit.SECONDS).await(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            if (process != null) {
                process.destroyForcibly();
            }
            Thread.currentThread().interrupt();
        }
        if (keepLogIn != null) {
            try {
                Files.createDirectories(keepLogIn);
                Files.copy(log, keepLogIn.resolve(log.getParent().getFileName() + ".log"),
                        java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            } catch (IOException e) {
                System.err.println("could not keep the driver log: " + e);
            }
        }
    }
}
