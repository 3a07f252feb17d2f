package io.nfscsi.walkthrough;

import static io.nfscsi.testbed.Shell.step;
import static io.nfscsi.walkthrough.StaticVolumeWalkthroughTest.assertCode;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.google.rpc.RetryInfo;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import io.nfscsi.csi.v1.Csi;
import io.nfscsi.mount.MountTable;
import io.nfscsi.testbed.DriverProcess;
import io.nfscsi.testbed.Shell;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Each way a real mount fails gets the code a caller can act on (docs/errors.md): the mount layer classifies
 * mount.nfs's words once. Exports of its own: /export-errors for 127.0.0.1 and /export-errors-denied for 127.0.0.2
 * only. Tests that stop the server start it again afterwards.
 */
@Tag("nfs")
class MountErrorCodesTest {

    static final Path EXPORT = Path.of("/export-errors");
    static final Path DENIED = Path.of("/export-errors-denied");
    /** Short, yet long enough for a v4 mount right after the server restarted, on a loaded machine. */
    static final Duration MOUNT_TIMEOUT = Duration.ofSeconds(15);
    static DriverProcess driver;

    @BeforeAll
    static void startDriver() throws Exception {
        Shell.sh("for d in " + EXPORT + " " + DENIED + "; do mkdir -p $d && (mountpoint -q $d || mount -t tmpfs t $d);"
                + " done && exportfs -o rw,no_root_squash,no_subtree_check,fsid=91 127.0.0.1:" + EXPORT
                + " && exportfs -o rw,no_root_squash,no_subtree_check,fsid=92 127.0.0.2:" + DENIED).orThrow();
        driver = start(Path.of("/run/nfs-csi-errors"), "--mount-timeout", MOUNT_TIMEOUT.toSeconds() + "s");
    }

    static DriverProcess start(Path dir, String... flags) throws Exception {
        return DriverProcess.start(dir, flags);
    }

    @AfterAll
    static void stopDriver() throws Exception {
        if (driver != null) {
            driver.close();
        }
        Shell.sh("exportfs -u 127.0.0.1:" + EXPORT + "; exportfs -u 127.0.0.2:" + DENIED + "; true");
    }

    @AfterEach
    void serverBack() {
        Shell.sh("rpc.nfsd 8 && (echo Y > /proc/fs/nfsd/v4_end_grace) 2>/dev/null; "
                + "exportfs -o rw,no_root_squash,no_subtree_check,fsid=91 127.0.0.1:" + EXPORT + "; true").orThrow();
    }

    static Map<String, String> pv(String server, Path share, String... extra) {
        Map<String, String> m = new HashMap<>(Map.of("server", server, "share", share.toString()));
        for (int i = 0; i < extra.length; i += 2) {
            m.put(extra[i], extra[i + 1]);
        }
        return m;
    }

    /** Publishes and expects {@code code}; nothing may be mounted or left at the target afterwards. */
    static Status publishFails(String name, Map<String, String> pv, List<String> flags, Status.Code code)
            throws Exception {
        Path target = Kubelet.newTarget(name);
        long start = System.nanoTime();
        StatusRuntimeException e = catchThrowableOfType(StatusRuntimeException.class,
                () -> driver.node().nodePublishVolume(Kubelet.publish(name, target, pv, false, flags)));
        assertThat(e).as("publish of " + name + " succeeded").isNotNull();
        step(name + ": " + e.getStatus().getCode() + " after " + (System.nanoTime() - start) / 1_000_000 + " ms: "
                + e.getStatus().getDescription());
        assertThat(e.getStatus().getCode()).as(e.getStatus().toString()).isEqualTo(code);
        assertThat(MountTable.read().isMountPoint(target)).isFalse();
        assertThat(target).doesNotExist();
        return e.getStatus();
    }

    @Test
    void missingExportPath_isNotFound() throws Exception {
        publishFails("missing", pv("127.0.0.1", EXPORT, "subDir", "no/such/dir"), List.of("vers=4.1"),
                Status.Code.NOT_FOUND);
        publishFails("missing-v3", pv("127.0.0.1", EXPORT, "subDir", "no/such/dir"), List.of("vers=3"),
                Status.Code.NOT_FOUND);
    }

    @Test
    void exportNotOfferedToUs_isPermissionDenied() throws Exception {
        publishFails("denied", pv("127.0.0.1", DENIED), List.of("vers=3", "retry=0"), Status.Code.PERMISSION_DENIED);
    }

    @Test
    void unexportedPath_isPermissionDenied() throws Exception {
        Shell.sh("exportfs -u 127.0.0.1:" + EXPORT).orThrow();
        publishFails("unexported", pv("127.0.0.1", EXPORT), List.of("vers=3", "retry=0"),
                Status.Code.PERMISSION_DENIED);
    }

    @ParameterizedTest
    @ValueSource(strings = {"bogusopt", "timeo=abc", "proto=udp", "sec=krb5"})
    void optionMountRejects_isInvalidArgument(String option) throws Exception {
        publishFails("badopt", pv("127.0.0.1", EXPORT), List.of("vers=4.1", option), Status.Code.INVALID_ARGUMENT);
    }

    @Test
    void optionMountRejects_inCreateVolume_isInvalidArgument() {
        assertCode(() -> driver.controller().createVolume(Csi.CreateVolumeRequest.newBuilder().setName("pvc-badopt")
                .addVolumeCapabilities(Kubelet.mountCapability(List.of("vers=4.1", "bogusopt")))
                .putParameters("server", "127.0.0.1").putParameters("share", EXPORT.toString()).build()),
                Status.Code.INVALID_ARGUMENT);
    }

    @Test
    void refusedConnection_isUnavailable() throws Exception {
        publishFails("refused", pv("127.0.0.1", EXPORT), List.of("vers=4.1", "port=2050", "retry=0"),
                Status.Code.UNAVAILABLE);
    }

    @Test
    void unreachableNetwork_isUnavailable() throws Exception {
        publishFails("unroutable", pv("10.255.255.1", EXPORT), List.of("vers=4.1", "retry=0"),
                Status.Code.UNAVAILABLE);
    }

    @Test
    void stoppedServer_v3_isUnavailable() throws Exception {
        Shell.sh("rpc.nfsd 0").orThrow();
        publishFails("stopped-v3", pv("127.0.0.1", EXPORT), List.of("vers=3", "retry=0"), Status.Code.UNAVAILABLE);
    }

    @Test
    void stoppedServer_v4_isUnavailableAtTheMountTimeout_whileTheCallerHadTimeLeft() throws Exception {
        Shell.sh("rpc.nfsd 0").orThrow();
        long start = System.nanoTime();
        publishFails("stopped-v4", pv("127.0.0.1", EXPORT), List.of("vers=4.1"), Status.Code.UNAVAILABLE);
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(MOUNT_TIMEOUT.plusSeconds(10));
        assertThat(UnresponsiveServerTest.mountProcesses()).as("mount processes left behind").isEmpty();
    }

    /**
     * 16 mounts hang on a stopped server (a driver with a 60 s mount timeout); the 17th waits the slot wait (10 s)
     * and is refused with RESOURCE_EXHAUSTED and a RetryInfo no later than the running mounts' deadline.
     */
    @Test
    void everyMountSlotTaken_isResourceExhaustedWithRetryInfo() throws Exception {
        try (DriverProcess slow = start(Path.of("/run/nfs-csi-errors-slots"), "--mount-timeout", "60s");
             var threads = Executors.newVirtualThreadPerTaskExecutor()) {
            Shell.sh("rpc.nfsd 0").orThrow();
            List<CompletableFuture<Status.Code>> hung = new ArrayList<>();
            for (int i = 0; i < 16; i++) {
                Path target = Kubelet.newTarget("slot-" + i);
                String id = "slot-" + i;
                hung.add(CompletableFuture.supplyAsync(() -> {
                    try {
                        slow.node().nodePublishVolume(Kubelet.publish(id, target, pv("127.0.0.1", EXPORT),
                                false, List.of("vers=4.1")));
                        return Status.Code.OK;
                    } catch (StatusRuntimeException e) {
                        return e.getStatus().getCode();
                    }
                }, threads));
            }
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(45);
            while (helpers() < 16) {
                assertThat(System.nanoTime()).as("16 mount.nfs processes running").isLessThan(until);
                Thread.sleep(100);
            }
            step("16 mounts hang on the stopped server; publishing a 17th");
            Path target = Kubelet.newTarget("slot-17");
            StatusRuntimeException e = catchThrowableOfType(StatusRuntimeException.class,
                    () -> slow.node().nodePublishVolume(Kubelet.publish("slot-17", target,
                            pv("127.0.0.1", EXPORT), false, List.of("vers=4.1"))));
            step("17th: " + e.getStatus());
            assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
            RetryInfo retry = StatusProto.fromThrowable(e).getDetails(0).unpack(RetryInfo.class);
            assertThat(retry.getRetryDelay().getSeconds()).isBetween(1L, 60L);
            assertThat(target).doesNotExist();
            for (var h : hung) {
                assertThat(h.get(120, TimeUnit.SECONDS)).isEqualTo(Status.Code.UNAVAILABLE);
            }
            assertThat(UnresponsiveServerTest.mountProcesses()).as("mount processes left behind").isEmpty();
        }
    }

    /** mount.nfs helpers alive now. */
    private static long helpers() {
        return ProcessHandle.allProcesses()
                .filter(p -> p.info().command().map(c -> c.endsWith("mount.nfs") || c.endsWith("mount.nfs4"))
                        .orElse(false))
                .count();
    }
}
