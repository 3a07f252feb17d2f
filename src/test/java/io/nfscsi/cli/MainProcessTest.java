package io.nfscsi.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.nfscsi.testing.LogLines;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Main as a process, where its log and exit code are what an operator sees: starts that fail (the socket's
 * directory, the working directory, the address) and drivers on one socket, as a node may run them (a pod started
 * again while its predecessor still serves, and one started after its predecessor was killed). Each runs in a JVM of
 * its own, on this test's class path, with the launcher's flags that keep the JVM's own warnings out of the log.
 */
@Timeout(180)
class MainProcessTest {

    @TempDir
    Path dir;

    private final List<Process> started = new ArrayList<>();

    @AfterEach
    void killLeftovers() throws InterruptedException {
        for (Process p : started) {
            p.destroyForcibly();
            p.waitFor(30, TimeUnit.SECONDS);
        }
    }

    private Path socket() {
        return dir.resolve("plugins/csi.sock");
    }

    private Process driver(String name) throws IOException {
        return driver(name, "unix://" + socket(), dir.resolve("mounts-" + name));
    }

    private Process driver(String name, String endpoint, Path workingDir, String... extraFlags) throws IOException {
        List<String> argv = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-XX:TieredStopAtLevel=1"));
        argv.addAll(launcherOptions());
        argv.addAll(List.of("-cp", System.getProperty("java.class.path"), Main.class.getName(),
                "--endpoint", endpoint, "--nodeid", "node-1", "--working-mount-dir", workingDir.toString()));
        argv.addAll(List.of(extraFlags));
        Process p = new ProcessBuilder(argv)
                .redirectOutput(dir.resolve(name + ".out").toFile())
                .redirectError(dir.resolve(name + ".err").toFile())
                .start();
        started.add(p);
        return p;
    }

    /**
     * The JVM options that bin/nfs-csi always passes, its lines of the form {@code   --name=value \}: without
     * --sun-misc-unsafe-memory-access=allow, protobuf's first message makes the JVM print four WARNING lines.
     */
    private static List<String> launcherOptions() throws IOException {
        List<String> options = Files.readAllLines(Path.of("bin/nfs-csi")).stream().map(String::trim)
                .filter(l -> l.matches("--[a-z-]+=\\S+ \\\\")).map(l -> l.substring(0, l.length() - 2)).toList();
        assertThat(options).contains("--sun-misc-unsafe-memory-access=allow", "--enable-native-access=ALL-UNNAMED");
        return options;
    }

    private List<String> stderr(String name) throws IOException {
        return Files.readAllLines(dir.resolve(name + ".err"), StandardCharsets.UTF_8);
    }

    /** Every line of a driver's log in klog's text format (each parses back); fails on the first that does not. */
    private List<LogLines.Text> klog(String name) throws IOException {
        return stderr(name).stream().map(LogLines::text).toList();
    }

    /**
     * Waits for the exit of a driver that fails to start; returns the messages of its error lines, of which there
     * must be one, from Main, with no stack trace.
     */
    private List<String> failedStart(Process p, String name) throws Exception {
        assertThat(p.waitFor(90, TimeUnit.SECONDS)).as(name + " exits").isTrue();
        assertThat(p.exitValue()).as(name + "'s exit code").isEqualTo(1);
        List<LogLines.Text> log = klog(name);
        assertThat(log).as("one error line, no stack trace").filteredOn(l -> l.severity() != 'I')
                .singleElement().satisfies(l -> {
                    assertThat(l.severity()).isEqualTo('E');
                    assertThat(l.caller()).startsWith("Main.java:");
                });
        assertThat(stdout(name)).isEmpty();
        return log.stream().filter(l -> l.severity() == 'E').map(LogLines.Text::message).toList();
    }

    private List<String> stdout(String name) throws IOException {
        return Files.readAllLines(dir.resolve(name + ".out"), StandardCharsets.UTF_8);
    }

    @Test
    void start_socketDirectoryNotCreatable_exits1WithOneErrorLineNamingIt() throws Exception {
        Path blocker = Files.writeString(dir.resolve("plugins"), "a file where the socket's directory belongs");

        Process p = driver("blocked", "unix://" + blocker.resolve("nfs.csi.io/csi.sock"), dir.resolve("mounts"));

        assertThat(failedStart(p, "blocked")).singleElement().asString()
                .isEqualTo("cannot create the socket directory " + blocker.resolve("nfs.csi.io")
                        + ": Not a directory");
        assertThat(dir.resolve("mounts")).as("stopped before the working directory").doesNotExist();
    }

    @Test
    void start_workingDirectoryNotCreatable_exits1WithOneErrorLineNamingIt() throws Exception {
        Path blocker = Files.writeString(dir.resolve("work"), "a file where the working directory belongs");

        Process p = driver("blocked", "unix://" + socket(), blocker.resolve("mounts"));

        assertThat(failedStart(p, "blocked")).singleElement().asString()
                .startsWith("cannot create the working mount directory " + blocker.resolve("mounts")
                        + ": ");
    }

    @Test
    void start_addressInUse_exits1WithTheCauseInOneErrorLine() throws Exception {
        try (var taken = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            String endpoint = "tcp://127.0.0.1:" + taken.getLocalPort();

            Process p = driver("second", endpoint, dir.resolve("mounts"));

            assertThat(failedStart(p, "second")).singleElement().asString()
                    .startsWith("cannot serve on " + endpoint + ": ")
                    .endsWith("Address already in use");
        }
    }

    @Test
    void start_metricsAddressInUse_exits1WithTheCauseInOneErrorLine() throws Exception {
        try (var taken = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            String address = "127.0.0.1:" + taken.getLocalPort();

            Process p = driver("metrics", "unix://" + socket(), dir.resolve("mounts"), "--metrics-address", address);

            assertThat(failedStart(p, "metrics")).singleElement().asString()
                    .startsWith("cannot serve metrics on " + address + ": ")
                    .endsWith("Address already in use");
            assertThat(socket()).as("the socket was never bound").doesNotExist();
        }
    }

    @Test
    void metricsAddress_servesTheCallsCounts_onTheBoundPort() throws Exception {
        Process p = driver("metrics", "unix://" + socket(), dir.resolve("mounts"), "--metrics-address",
                "127.0.0.1:0");
        awaitServing(p, "metrics");
        List<String> log = klog("metrics").stream().map(LogLines.Text::message).toList();
        int port = log.stream().map(java.util.regex.Pattern.compile(
                "^serving metrics on 127\\.0\\.0\\.1:([0-9]+)$")::matcher)
                .filter(java.util.regex.Matcher::find).map(m -> Integer.parseInt(m.group(1))).findFirst()
                .orElseThrow(() -> new AssertionError("no metrics line in " + log));
        double before = io.nfscsi.testing.Scrape.of("127.0.0.1", port)
                .value("nfs_csi_rpc_handled_total", "method", "Probe", "code", "OK");

        assertThat(ProbeClient.probe(socket())).isTrue();
        io.nfscsi.testing.Scrape after = io.nfscsi.testing.Scrape.of("127.0.0.1", port);

        assertThat(after.value("nfs_csi_rpc_handled_total", "method", "Probe", "code", "OK") - before).isEqualTo(1);
        assertThat(after.value("jvm_threads_current")).isPositive();
        assertThat(after.value("nfs_csi_bounded_io_slots", "pool", "node")).isEqualTo(64);
        assertThat(after.value("nfs_csi_bounded_io_slots", "pool", "controller")).isEqualTo(64);
        assertThat(after.type("nfs_csi_share_pool_mounted_shares")).isEqualTo("gauge");
    }

    /** Waits until the driver answers Probe on the socket. */
    private void awaitServing(Process p, String name) throws Exception {
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
        while (!(Files.exists(socket()) && ProbeClient.probe(socket()))) {
            assertThat(p.isAlive()).as(name + " exited: " + stderr(name)).isTrue();
            assertThat(System.nanoTime()).as(name + " serves within 90 s").isLessThan(until);
            Thread.sleep(50);
        }
    }

    @Test
    void secondDriver_onALiveDriversSocket_exits1WithOneLine_andAfterAKillTheNextTakesTheSocket() throws Exception {
        Process first = driver("first");
        awaitServing(first, "first");

        Process second = driver("second");

        assertThat(failedStart(second, "second")).singleElement().asString().isEqualTo("socket "
                + socket() + " is in use by a running driver (process " + first.pid() + "); not taking it over");
        assertThat(stderr("second")).as("refused before any other log line").hasSize(1);
        assertThat(dir.resolve("mounts-second")).as("refused before it touched anything").doesNotExist();
        assertThat(ProbeClient.probe(socket())).as("the first driver still serves its socket").isTrue();
        assertThat(stderr("first")).as("no JVM warnings (Unsafe, native access) in the log")
                .noneMatch(l -> l.startsWith("WARNING"));

        // killed as by the OOM killer: the socket stays, refusing connections, and the kernel drops the lock
        first.destroyForcibly();
        first.waitFor(30, TimeUnit.SECONDS);
        assertThat(socket()).exists();

        // the third in Kubernetes' JSON log format: every line of its whole run is one JSON object
        Process third = driver("third", "unix://" + socket(), dir.resolve("mounts-third"), "--logging-format=json");
        awaitServing(third, "third");

        third.destroy();
        assertThat(third.waitFor(60, TimeUnit.SECONDS)).as("SIGTERM stops the driver").isTrue();
        assertThat(socket()).as("a stopped driver removes its socket").doesNotExist();
        List<JsonNode> json = stderr("third").stream().map(LogLines::json).toList();
        assertThat(json).anySatisfy(l -> assertThat(l.get("msg").asText()).endsWith("removing stale socket " + socket()));
        assertThat(json).anySatisfy(l -> assertThat(l.get("msg").asText()).startsWith("signal received"));
        assertThat(json).allSatisfy(l -> assertThat(l.get("caller").asText()).matches("[A-Za-z0-9$_]+\\.java:\\d+"));
        assertThat(klog("first")).as("the first's whole run, in klog's text format")
                .anySatisfy(l -> assertThat(l.message()).startsWith("nfs-csi ").contains(" starting"));
    }
}
