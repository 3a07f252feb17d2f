package io.nfscsi.walkthrough;

import static io.nfscsi.testbed.Shell.step;
import static io.nfscsi.walkthrough.StaticVolumeWalkthroughTest.EXPORT;
import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.nfscsi.csi.v1.Csi;
import io.nfscsi.testbed.DriverProcess;
import io.nfscsi.testbed.Shell;
import io.nfscsi.walkthrough.LoadTest.Latencies;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Background jobs stuck on one hung share do not stall the driver (issue 9, item 2): with every packet to the hung
 * share's address dropped and more of its snapshot and clone jobs stuck in kernel NFS calls than the VM has CPUs,
 * Probe and CreateVolume/DeleteVolume on a healthy share keep answering. The hung share is the same server reached
 * through 127.0.0.2 (lo answers for all of 127/8), mounted with NFSv3 so that the client does not merge it with the
 * healthy share's NFSv4 client; a prio qdisc on lo sends only packets to 127.0.0.2 to a netem band that drops them.
 * Prints the latencies as RELIABILITY lines; the goal is 100 ms, the assertion allows 5 s (a quarter of the hang) for
 * a 1-CPU VM shared with other work.
 */
@Tag("nfs")
class HungShareIsolationTest {

    static final String HUNG_ADDRESS = "127.0.0.2";
    static final Path HUNG = EXPORT.resolve("hung");
    static final Path HEALTHY = EXPORT.resolve("healthy");
    static final String SOURCE = "pvc-hung-src";
    static final int SNAPSHOTS = 4;
    static final int CLONES = 2;
    static final int FILES = 3_000;
    /** Long enough for every stuck call to show, short enough for the test's budget of two minutes. */
    static final long WINDOW_MS = 20_000;
    static final long GOAL_MS = 100;
    /**
     * Well below the hang (the whole window): a call that waits for a pinned carrier waits until the drop ends. Not
     * 2 s: on the shared 2-core build machine under a load of 14, the healthy share's calls took up to 2.4 s and
     * Probe 1.6 s with the pool (p50 1.2 s and 0.7 s: the machine, not the hang).
     */
    static final long BOUND_MS = 5_000;

    @AfterAll
    static void cleanUp() {
        Shell.sh("tc qdisc del dev lo root 2>/dev/null; rm -rf " + HUNG + " " + HEALTHY + "; true");
    }

    static Map<String, String> hungSc() {
        return Map.of("server", HUNG_ADDRESS, "share", HUNG.toString());
    }

    static Map<String, String> healthySc() {
        return Map.of("server", "127.0.0.1", "share", HEALTHY.toString());
    }

    /**
     * NFSv3 for the hung share, its volumes and its snapshots: an NFSv4 mount of 127.0.0.2 joins the NFSv4 client of
     * 127.0.0.1 (trunking discovery finds one server; seen here: mountinfo then names 127.0.0.1), and would travel
     * through the healthy address.
     */
    static final List<String> HUNG_OPTIONS = List.of("vers=3", "timeo=30", "retrans=2");

    @Test
    void jobsStuckOnAHungShare_leaveProbeAndAHealthyShareAnswering() throws Exception {
        Files.createDirectories(HUNG);
        Files.createDirectories(HEALTHY);
        try (DriverProcess driver = DriverProcess.start(Path.of("/run/nfs-csi-hung"))) {
            Csi.Volume src = driver.controller().createVolume(Provisioner.create(SOURCE, "ns", SOURCE, 1L << 30,
                    hungSc(), HUNG_OPTIONS)).getVolume();
            Shell.sh("cd " + HUNG.resolve(SOURCE) + " && mkdir d{00..29} && touch d{00..29}/f{1.." + FILES / 30
                    + "} && head -c 16M /dev/urandom > random").orThrow();
            // the healthy share's mount is pooled before the drop, as it would be on a running controller
            healthyRoundTrip(driver, "pvc-healthy-warm-up");

            step("starting " + SNAPSHOTS + " snapshots and " + CLONES + " clones of a " + FILES
                    + "-file volume on " + HUNG_ADDRESS + ", then dropping every packet to " + HUNG_ADDRESS);
            List<String> jobs = new ArrayList<>();
            for (int i = 0; i < SNAPSHOTS; i++) {
                startSnapshot(driver, "snapshot-hung-" + i, src.getVolumeId());
                jobs.add("snapshot-hung-" + i);
            }
            for (int i = 0; i < CLONES; i++) {
                startClone(driver, "pvc-hung-clone-" + i, src.getVolumeId());
                jobs.add("pvc-hung-clone-" + i);
            }
            dropPacketsTo(HUNG_ADDRESS);

            Latencies probes = new Latencies();
            Latencies healthy = new Latencies();
            AtomicBoolean done = new AtomicBoolean();
            Thread prober = Thread.ofPlatform().name("prober").start(() -> probeUntil(driver, done, probes));
            long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(WINDOW_MS);
            for (int i = 0; System.nanoTime() < end; i++) {
                String name = "pvc-healthy-" + i;
                String[] id = new String[1];
                healthy.time(() -> id[0] = driver.controller().withDeadlineAfter(10, TimeUnit.SECONDS).createVolume(
                        Provisioner.create(name, "ns", name, 1 << 20, healthySc(), List.of())).getVolume()
                        .getVolumeId());
                if (id[0] != null) {
                    healthy.time(() -> driver.controller().withDeadlineAfter(10, TimeUnit.SECONDS).deleteVolume(
                            Provisioner.delete(id[0])));
                }
                LoadTest.sleep(100);
            }
            done.set(true);
            prober.join();
            long stuck = jobs.stream().filter(j -> !finished(driver, j)).count();
            int cpus = Runtime.getRuntime().availableProcessors();

            report("background jobs stuck on the hung share (CPUs: " + cpus + ")", stuck);
            report("Probe p50 latency with those jobs stuck (ms)", probes.percentileMillis(50));
            report("Probe max latency with those jobs stuck (ms)", probes.maxMillis());
            report("healthy share CreateVolume/DeleteVolume p50 latency meanwhile (ms)",
                    healthy.percentileMillis(50));
            report("healthy share CreateVolume/DeleteVolume max latency meanwhile (ms)", healthy.maxMillis());
            report("calls failed meanwhile (Probe, healthy share)", probes.failures() + healthy.failures());
            boolean goalMet = probes.maxMillis() <= GOAL_MS && healthy.maxMillis() <= GOAL_MS;
            System.out.println("RELIABILITY|2|goal: Probe and healthy share within " + GOAL_MS + " ms|"
                    + (goalMet ? "met" : "missed"));

            assertThat(stuck).as("jobs stuck on the hung share: more than CPUs, else the test proves nothing")
                    .isGreaterThan(cpus);
            assertThat(probes.failures()).as("Probe calls that failed").isZero();
            assertThat(healthy.failures()).as("healthy-share calls that failed").isZero();
            assertThat(probes.count()).as("Probe calls answered").isGreaterThan(10);
            assertThat(healthy.count()).as("healthy-share calls answered").isGreaterThan(10);
            assertThat(probes.maxMillis()).as("slowest Probe").isLessThan(BOUND_MS);
            assertThat(healthy.maxMillis()).as("slowest healthy-share call").isLessThan(BOUND_MS);

            step("removing the drop: the hung share's jobs finish");
            Shell.sh("tc qdisc del dev lo root").orThrow();
            long recovering = System.nanoTime();
            for (int i = 0; i < SNAPSHOTS; i++) {
                String name = "snapshot-hung-" + i;
                LoadTest.untilDone(driver, "snapshot " + name, () -> snapshotReady(driver, name, src.getVolumeId()));
            }
            for (int i = 0; i < CLONES; i++) {
                String name = "pvc-hung-clone-" + i;
                LoadTest.untilDone(driver, "clone " + name, () -> {
                    startClone(driver, name, src.getVolumeId());
                    return true;
                });
            }
            long recoveredMs = LoadTest.millisSince(recovering);
            report("seconds until the hung share's jobs finished after the server came back", recoveredMs / 1000);
            assertThat(Shell.sh("find " + HUNG.resolve("pvc-hung-clone-0") + " -type f | wc -l").orThrow().output()
                    .trim()).as("files in a clone made across the hang").isEqualTo(String.valueOf(FILES + 1));
        }
    }

    /**
     * Drops every IPv4 packet to {@code address} on lo: a prio qdisc whose fourth band (which the default priomap
     * never picks) is a netem that loses everything, and a u32 filter that sends only that address to it. Checks
     * that a TCP connect to the NFS port times out on {@code address} and still succeeds on 127.0.0.1.
     */
    static void dropPacketsTo(String address) {
        Shell.sh("modprobe sch_netem && modprobe sch_prio && modprobe cls_u32"
                + " && tc qdisc add dev lo root handle 1: prio bands 4"
                + " && tc qdisc add dev lo parent 1:4 handle 40: netem loss 100%"
                + " && tc filter add dev lo parent 1: protocol ip prio 1 u32 match ip dst " + address
                + "/32 flowid 1:4").orThrow();
        assertThat(Shell.sh("timeout 2 bash -c ': > /dev/tcp/" + address + "/2049'").exitCode())
                .as("a connect to " + address + ":2049 times out").isEqualTo(124);
        Shell.sh("timeout 5 bash -c ': > /dev/tcp/127.0.0.1/2049'").orThrow();
    }

    /** CreateSnapshot with a short deadline: the archive job starts and goes on in the background. */
    static void startSnapshot(DriverProcess driver, String name, String sourceVolumeId) {
        try {
            snapshotReady(driver, name, sourceVolumeId);
        } catch (StatusRuntimeException e) {
            requireStillRunning(e);
        }
    }

    static boolean snapshotReady(DriverProcess driver, String name, String sourceVolumeId) {
        return driver.controller().withDeadlineAfter(2, TimeUnit.SECONDS).createSnapshot(
                Csi.CreateSnapshotRequest.newBuilder().setName(name).setSourceVolumeId(sourceVolumeId)
                        .putParameters("mountOptions", String.join(",", HUNG_OPTIONS)).build())
                .getSnapshot().getReadyToUse();
    }

    /** CreateVolume cloned from the source with a short deadline: the fill starts and goes on in the background. */
    static void startClone(DriverProcess driver, String name, String sourceVolumeId) {
        var request = Provisioner.create(name, "ns", name, 1L << 30, hungSc(), HUNG_OPTIONS).toBuilder()
                .setVolumeContentSource(Csi.VolumeContentSource.newBuilder().setVolume(
                        Csi.VolumeContentSource.VolumeSource.newBuilder().setVolumeId(sourceVolumeId)))
                .build();
        try {
            driver.controller().withDeadlineAfter(2, TimeUnit.SECONDS).createVolume(request);
        } catch (StatusRuntimeException e) {
            requireStillRunning(e);
        }
    }

    static void requireStillRunning(StatusRuntimeException e) {
        assertThat(e.getStatus().getCode()).as(e.getStatus().toString())
                .isIn(Status.Code.ABORTED, Status.Code.DEADLINE_EXCEEDED);
    }

    static void healthyRoundTrip(DriverProcess driver, String name) {
        Csi.Volume v = driver.controller().createVolume(Provisioner.create(name, "ns", name, 1 << 20, healthySc(),
                List.of())).getVolume();
        driver.controller().deleteVolume(Provisioner.delete(v.getVolumeId()));
    }

    /** The driver logged that the job of {@code name} finished. */
    static boolean finished(DriverProcess driver, String name) {
        return driver.log().lines().anyMatch(l -> l.contains(name + " ") && l.contains(" finished: "));
    }

    /** Calls Probe every 100 ms until {@code done}, each with a 10 s deadline, so that a stall shows as latency. */
    static void probeUntil(DriverProcess driver, AtomicBoolean done, Latencies probes) {
        while (!done.get()) {
            probes.time(() -> driver.identity().withDeadlineAfter(10, TimeUnit.SECONDS)
                    .probe(Csi.ProbeRequest.getDefaultInstance()));
            LoadTest.sleep(100);
        }
    }

    static void report(String measure, long value) {
        System.out.println("RELIABILITY|2|" + measure + "|" + value);
    }
}
