package io.nfscsi.walkthrough;

import static io.nfscsi.testbed.Shell.step;
import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.nfscsi.csi.v1.ControllerGrpc;
import io.nfscsi.csi.v1.Csi;
import io.nfscsi.testbed.DriverProcess;
import io.nfscsi.testbed.Shell;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Controller calls against ONE share whose server stopped answering, while another address of the same server still
 * answers: each call answers in bounded time, the driver's threads stay bounded, the per-volume locks are released,
 * and the share works again by itself once its packets flow. The share is mounted through 127.0.0.2, and only
 * packets to that address are dropped (a prio qdisc on lo whose u32 filter sends them to a netem band that loses
 * them all); 127.0.0.1 reaches the same server untouched.
 */
@Tag("nfs")
class HungShareDeadlineTest {

    static final Path EXPORT = Path.of("/export-hung");
    static final String HUNG = "127.0.0.2";
    static final String HEALTHY = "127.0.0.1";
    static final int CALLS = 200;
    static final int CLIENTS = 16;
    static final long CALL_DEADLINE_MS = 2000;
    /** An answer later than this after its 2 s deadline would mean the call waited on the share. */
    static final long ANSWER_BOUND_MS = 15_000;
    /** The controller's BoundedIo slots (cli/Main), the client's concurrency, and room for the JVM's own. */
    static final int THREAD_BOUND = 64 + CLIENTS + 16;
    static final Set<Status.Code> REFUSALS = EnumSet.of(Status.Code.UNAVAILABLE, Status.Code.DEADLINE_EXCEEDED,
            Status.Code.RESOURCE_EXHAUSTED);
    static DriverProcess driver;

    @BeforeAll
    static void start() throws Exception {
        Shell.sh("mkdir -p " + EXPORT + " && (mountpoint -q " + EXPORT + " || mount -t tmpfs -o size=64m hung "
                + EXPORT + ") && exportfs -o rw,no_root_squash,no_subtree_check,insecure,fsid=93 127.0.0.0/8:"
                + EXPORT).orThrow();
        driver = DriverProcess.start(Path.of("/run/nfs-csi-hung-share"), "--mount-timeout", "30s");
    }

    @AfterAll
    static void stop() throws Exception {
        releaseShare();
        if (driver != null) {
            driver.close();
        }
        Shell.sh("exportfs -u 127.0.0.0/8:" + EXPORT + "; true");
    }

    static Map<String, String> params(String server) {
        return Map.of("server", server, "share", EXPORT.toString());
    }

    /**
     * NFSv4.1 through {@link #HUNG}, NFSv3 through {@link #HEALTHY}: a v4.1 client finds that both addresses lead to
     * one server (session trunking) and would send the healthy address's calls over the hung one's client.
     */
    static Csi.CreateVolumeRequest create(String server, String name) {
        return Provisioner.create(name, "ns", name, 1 << 20, params(server),
                List.of(server.equals(HUNG) ? "vers=4.1" : "vers=3"));
    }

    static ControllerGrpc.ControllerBlockingStub controller(long millis) {
        return driver.controller().withDeadlineAfter(millis, TimeUnit.MILLISECONDS);
    }

    /** Drops every packet to {@link #HUNG}; checked: a TCP connect to it hangs while one to 127.0.0.1 does not. */
    static void hangShare() {
        Shell.sh("modprobe sch_netem; tc qdisc del dev lo root 2>/dev/null; "
                + "tc qdisc add dev lo root handle 1: prio && "
                + "tc qdisc add dev lo parent 1:3 handle 30: netem loss 100% && "
                + "tc filter add dev lo parent 1:0 protocol ip prio 1 u32 match ip dst " + HUNG + "/32 flowid 1:3")
                .orThrow();
        var hung = Shell.sh("timeout 3 bash -c 'echo > /dev/tcp/" + HUNG + "/2049'");
        var healthy = Shell.sh("timeout 3 bash -c 'echo > /dev/tcp/" + HEALTHY + "/2049'");
        assertThat(hung.exitCode()).as("a connect to %s:2049 must hang (timeout's 124): %s", HUNG, hung.output())
                .isEqualTo(124);
        assertThat(healthy.exitCode()).as("a connect to %s:2049 must work: %s", HEALTHY, healthy.output())
                .isZero();
    }

    static void releaseShare() {
        Shell.sh("tc qdisc del dev lo root 2>/dev/null; true");
    }

    /** The driver process's thread count, from /proc/PID/status. */
    static int threads() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc", Long.toString(driver.process().pid()), "status"))) {
            if (line.startsWith("Threads:")) {
                return Integer.parseInt(line.substring("Threads:".length()).strip());
            }
        }
        throw new IllegalStateException("no Threads: line");
    }

    record Answer(String call, Status.Code code, long millis, String detail) {}

    @Test
    void callsOnAHungShare_answerInBoundedTime_withBoundedThreads_andTheShareRecoversByItself() throws Exception {
        Csi.Volume existing = controller(60_000).createVolume(create(HUNG, "pvc-hung-existing")).getVolume();
        controller(60_000).listVolumes(Csi.ListVolumesRequest.getDefaultInstance());
        String existingId = existing.getVolumeId();
        int before = threads();
        step("volume " + existingId + " made on " + HUNG + "; driver threads: " + before + "; hanging " + HUNG);
        hangShare();

        AtomicBoolean sampling = new AtomicBoolean(true);
        AtomicInteger peak = new AtomicInteger(before);
        Thread sampler = Thread.ofPlatform().start(() -> {
            while (sampling.get()) {
                try {
                    peak.accumulateAndGet(threads(), Math::max);
                    Thread.sleep(50);
                } catch (IOException | InterruptedException e) {
                    return;
                }
            }
        });
        List<Answer> answers = Collections.synchronizedList(new ArrayList<>());
        long burstStart = System.nanoTime();
        try (ExecutorService clients = Executors.newFixedThreadPool(CLIENTS)) {
            List<Future<?>> calls = new ArrayList<>();
            for (int i = 0; i < CALLS; i++) {
                int n = i;
                calls.add(clients.submit(() -> answers.add(call(n, existingId))));
            }
            for (Future<?> f : calls) {
                f.get();
            }
        }
        long burstMs = (System.nanoTime() - burstStart) / 1_000_000;
        int afterBurst = threads();
        sampling.set(false);
        sampler.join();

        long slowest = answers.stream().mapToLong(Answer::millis).max().orElseThrow();
        Map<String, Long> byCode = new java.util.TreeMap<>();
        answers.forEach(a -> byCode.merge(a.call() + " " + a.code(), 1L, Long::sum));
        step(CALLS + " calls in " + burstMs + " ms, slowest " + slowest + " ms: " + byCode);
        System.out.println("RELIABILITY|3|driver threads before hanging one share|" + before);
        System.out.println("RELIABILITY|3|driver threads at most during " + CALLS + " calls on the hung share|"
                + peak.get());
        System.out.println("RELIABILITY|3|driver threads right after the " + CALLS + " calls|" + afterBurst);
        System.out.println("RELIABILITY|3|slowest answer of " + CALLS + " calls with 2 s deadlines on the hung share "
                + "(ms)|" + slowest);
        for (Answer a : answers) {
            boolean refused = REFUSALS.contains(a.code());
            // ListVolumes and ControllerGetVolume report an unreachable share as an abnormal volume condition
            boolean reported = a.code() == Status.Code.OK && a.detail().equals("abnormal");
            assertThat(refused || reported).as("%s answered %s (%s)", a.call(), a.code(), a.detail()).isTrue();
            assertThat(a.millis()).as("%s answered after %d ms", a.call(), a.millis()).isLessThan(ANSWER_BOUND_MS);
        }
        assertThat(peak.get()).as("driver threads while %d calls hit the hung share", CALLS)
                .isLessThanOrEqualTo(before + THREAD_BOUND);

        step("locks are released: DeleteVolume of the same volume twice in a row, neither ABORTED");
        for (int i = 0; i < 2; i++) {
            Answer again = call(1, existingId);
            assertThat(again.code()).as(again.toString()).isIn(REFUSALS);
        }

        step("the same server through " + HEALTHY + " still answers");
        var healthy = controller(30_000).createVolume(create(HEALTHY, "pvc-healthy-during-hang")).getVolume();
        assertThat(EXPORT.resolve("pvc-healthy-during-hang")).isDirectory();
        assertThat(healthy.getVolumeId()).contains(HEALTHY);

        step("releasing " + HUNG + "; retrying CreateVolume on it without restarting the driver");
        releaseShare();
        long recoverStart = System.nanoTime();
        Csi.Volume after = null;
        StatusRuntimeException last = null;
        while (after == null && System.nanoTime() - recoverStart < TimeUnit.SECONDS.toNanos(90)) {
            try {
                after = controller(10_000).createVolume(create(HUNG, "pvc-after-recovery")).getVolume();
            } catch (StatusRuntimeException e) {
                last = e;
                Thread.sleep(1000);
            }
        }
        long recoveredMs = (System.nanoTime() - recoverStart) / 1_000_000;
        assertThat(after).as("CreateVolume on %s after the release; last answer %s", HUNG, last).isNotNull();
        assertThat(EXPORT.resolve("pvc-after-recovery")).isDirectory();
        int recovered = threads();
        step("CreateVolume on " + HUNG + " succeeded " + recoveredMs + " ms after the release; driver threads "
                + recovered);
        System.out.println("RELIABILITY|3|seconds until the released share served a CreateVolume again|"
                + String.format("%.1f", recoveredMs / 1000.0));
        System.out.println("RELIABILITY|3|driver threads after the share recovered|" + recovered);
        assertThat(recovered).isLessThanOrEqualTo(before + THREAD_BOUND);
        assertThat(driver.identity().probe(Csi.ProbeRequest.getDefaultInstance()).getReady().getValue()).isTrue();
    }

    /** Call number {@code n} of the burst: eight kinds in turn, each on its own volume or snapshot name. */
    static Answer call(int n, String existingId) {
        String made = "pvc-burst-" + n;
        String madeId = existingId.replace("pvc-hung-existing", made);
        var cap = Kubelet.mountCapability(List.of("vers=4.1"));
        long start = System.nanoTime();
        String name = switch (n % 8) {
            case 0 -> "CreateVolume";
            case 1 -> "DeleteVolume";
            case 2 -> "ControllerGetVolume";
            case 3 -> "ListVolumes";
            case 4 -> "CreateSnapshot";
            case 5 -> "GetCapacity";
            case 6 -> "ControllerExpandVolume";
            default -> "ValidateVolumeCapabilities";
        };
        String detail = "";
        Status.Code code = Status.Code.OK;
        try {
            var c = controller(CALL_DEADLINE_MS);
            switch (n % 8) {
                case 0 -> c.createVolume(create(HUNG, made));
                case 1 -> c.deleteVolume(Provisioner.delete(n == 1 ? existingId : madeId));
                case 2 -> detail = c.controllerGetVolume(Csi.ControllerGetVolumeRequest.newBuilder()
                        .setVolumeId(existingId).build()).getStatus().getVolumeCondition().getAbnormal()
                        ? "abnormal" : "normal";
                case 3 -> detail = c.listVolumes(Csi.ListVolumesRequest.getDefaultInstance()).getEntriesList().stream()
                        .filter(e -> e.getVolume().getVolumeId().equals(existingId))
                        .allMatch(e -> e.getStatus().getVolumeCondition().getAbnormal()) ? "abnormal" : "normal";
                case 4 -> c.createSnapshot(Csi.CreateSnapshotRequest.newBuilder().setName("snap-burst-" + n)
                        .setSourceVolumeId(existingId).build());
                case 5 -> c.getCapacity(Csi.GetCapacityRequest.newBuilder().putAllParameters(params(HUNG))
                        .addVolumeCapabilities(cap).build());
                case 6 -> c.controllerExpandVolume(Csi.ControllerExpandVolumeRequest.newBuilder().setVolumeId(madeId)
                        .setCapacityRange(Csi.CapacityRange.newBuilder().setRequiredBytes(2 << 20)).build());
                default -> c.validateVolumeCapabilities(Csi.ValidateVolumeCapabilitiesRequest.newBuilder()
                        .setVolumeId(madeId).addVolumeCapabilities(cap).build());
            }
        } catch (StatusRuntimeException e) {
            code = e.getStatus().getCode();
            detail = String.valueOf(e.getStatus().getDescription());
        }
        return new Answer(name, code, (System.nanoTime() - start) / 1_000_000, detail);
    }
}
