package io.nfscsi.bench;

import io.nfscsi.csi.v1.ControllerGrpc;
import io.nfscsi.csi.v1.IdentityGrpc;
import io.nfscsi.csi.v1.NodeGrpc;
import io.nfscsi.image.LaunchedDriver;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.HashMap;
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

    private final LaunchedDriver driver;
    private final Path keepLogIn;

    private FootprintDriver(LaunchedDriver driver, Path keepLogIn) {
        this.driver = driver;
        this.keepLogIn = keepLogIn;
    }

    /**
     * Starts {@code launcher} serving on {@code dir}/csi.sock, with {@code env} added (NFSCSI_AOT is empty unless
     * given: no AOT cache), {@code --working-mount-dir} under {@code dir} and {@code flags}; returns once Probe
     * answers. Its log is copied into {@code keepLogIn} at {@link #close()}.
     */
    static FootprintDriver start(Path launcher, Path dir, Map<String, String> env, List<String> flags,
                                 Path keepLogIn) throws IOException, InterruptedException {
        Files.deleteIfExists(dir.resolve("csi.sock"));
        Map<String, String> all = new HashMap<>();
        all.put("NFSCSI_AOT", "");
        all.putAll(env);
        return new FootprintDriver(LaunchedDriver.start(launcher, all, dir, flags), keepLogIn);
    }

    long startMillis() {
        return driver.startup().toMillis();
    }

    /** VmRSS of the driver's JVM, in kB. */
    long rssKb() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc", Long.toString(driver.pid()), "status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        throw new IllegalStateException("no VmRSS for " + driver.pid());
    }

    IdentityGrpc.IdentityBlockingStub identity() {
        return IdentityGrpc.newBlockingStub(driver.channel()).withDeadlineAfter(60, TimeUnit.SECONDS);
    }

    NodeGrpc.NodeBlockingStub node() {
        return NodeGrpc.newBlockingStub(driver.channel()).withDeadlineAfter(120, TimeUnit.SECONDS);
    }

    ControllerGrpc.ControllerBlockingStub controller() {
        return ControllerGrpc.newBlockingStub(driver.channel()).withDeadlineAfter(120, TimeUnit.SECONDS);
    }

    String log() {
        return driver.log();
    }

    /** Stops the driver and the client, and copies the log to the directory given at the start. */
    @Override
    public void close() {
        driver.close();
        if (keepLogIn != null) {
            Path log = driver.logFile();
            try {
                Files.createDirectories(keepLogIn);
                Files.copy(log, keepLogIn.resolve(log.getParent().getFileName() + ".log"),
                        StandardCopyOption.REPLACE_EXISTING);
            } catch (IOException e) {
                System.err.println("could not keep the driver log: " + e);
            }
        }
    }
}
