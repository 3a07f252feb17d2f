package io.nfscsi.mount;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.nfscsi.concurrent.BoundedIo;
import io.nfscsi.concurrent.Deadline;
import io.nfscsi.metrics.DriverMetrics;
import io.nfscsi.testing.Scrape;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class CommandMounterTest {

    @TempDir
    Path dir;

    /** The texts are mount(8)'s and mount.nfs's own (LC_ALL=C), as measured in the test bed (testbed/README.md). */
    @ParameterizedTest(name = "exit {0}: {1} / {2} -> {3}")
    @CsvSource(delimiter = '|', textBlock = """
            32 | ''   | mount.nfs: access denied by server while mounting 10.0.0.1:/export               | ACCESS_DENIED
            32 | ''   | mount.nfs: Access Denied by server while mounting 10.0.0.1:/export               | ACCESS_DENIED
            32 | ''   | mount.nfs: Permission denied                                                     | ACCESS_DENIED
            32 | access denied by server while mounting 10.0.0.1:/export | ''                           | ACCESS_DENIED
            1  | ''   | mount.nfs: access denied by server while mounting 10.0.0.1:/export               | FAILED
            32 | ''   | mount.nfs: mounting 10.0.0.1:/nope failed, reason given by server: No such file or directory | NO_SUCH_PATH
            1  | ''   | mount: /mnt/x: mount point does not exist: No such file or directory             | NO_SUCH_PATH
            32 | ''   | mount.nfs: Stale file handle                                                     | STALE
            32 | ''   | mount.nfs: Connection timed out                                                  | UNREACHABLE
            32 | ''   | mount.nfs: Connection refused                                                    | UNREACHABLE
            32 | ''   | mount.nfs: No route to host                                                      | UNREACHABLE
            32 | ''   | mount.nfs: Network is unreachable                                                | UNREACHABLE
            32 | ''   | mount.nfs: Failed to resolve server nfs.invalid: Name or service not known       | UNREACHABLE
            32 | ''   | mount.nfs: Resource temporarily unavailable                                      | UNREACHABLE
            32 | ''   | mount.nfs: requested NFS version or transport protocol is not supported         | UNREACHABLE
            32 | ''   | mount.nfs: Protocol not supported                                                | UNREACHABLE
            32 | ''   | mount.nfs: mount system call failed                                              | UNREACHABLE
            32 | ''   | mount.nfs: an incorrect mount option was specified                               | BAD_OPTION
            32 | ''   | mount: /mnt/x: fsconfig system call failed: nfs: Unknown parameter 'bogus'     | BAD_OPTION
            32 | ''   | mount.nfs: Invalid argument                                                      | BAD_OPTION
            32 | ''   | mount.nfs: No space left on device                                               | NO_SPACE
            32 | ''   | mount.nfs: Read-only file system                                                 | READ_ONLY
            1  | ''   | mount: only root can use "--types" option                                       | FAILED
            1  | ''   | ''                                                                               | FAILED
            32 | ''   | ''                                                                               | FAILED
            """)
    void classifyMountFailure_byExitCodeAndMessage(int exitCode, String stdout, String stderr,
                                                   MountException.Kind expected) {
        ProcessRunner.Result result = new ProcessRunner.Result(exitCode, stdout, stderr);

        assertThat(CommandMounter.classifyMountFailure(result)).isEqualTo(expected);
    }

    @Test
    void withoutOptions_replacesEveryOptionAndValueByPosition_leavingOtherWords() {
        String text = "mount: /x: nfs: Unknown parameter 'SENTINEL-1', also sec=SENTINEL-2; vers=4.1 is fine";

        String clean = CommandMounter.withoutOptions(text, List.of("vers=4.1", "SENTINEL-1", "sec=SENTINEL-2"));

        assertThat(clean).doesNotContain("SENTINEL").contains("<option 2>").contains("<option 3>")
                .contains("<option 1>").startsWith("mount: /x: nfs: Unknown parameter");
    }

    @Test
    void mount_failureThatQuotesTheOptions_messageHoldsNoOption() throws Exception {
        Path mount = script("echo \"mount: $6: fsconfig system call failed: nfs: Unknown parameter '$4'\" >&2; exit 32");
        CommandMounter mounter = new CommandMounter(mount.toString(), 2, Duration.ofSeconds(5), new BoundedIo(2));

        MountException e = catchThrowableOfType(MountException.class, () -> mounter.mount("10.0.0.1:/export",
                dir.resolve("target"), "nfs", List.of("vers=4.1", "sec=SENTINEL-42"), in(Duration.ofSeconds(20))));

        assertThat(e.kind()).isEqualTo(MountException.Kind.BAD_OPTION);
        assertThat(e.getMessage()).doesNotContain("SENTINEL").doesNotContain("vers=4.1").contains("<option 2>");
    }

    @Test
    void mount_timedOut_messageHoldsNoOption() throws Exception {
        Path mount = script("exec sleep 60");
        CommandMounter mounter = new CommandMounter(mount.toString(), 2, Duration.ofSeconds(5), new BoundedIo(2));

        MountException e = catchThrowableOfType(MountException.class, () -> mounter.mount("10.0.0.1:/export",
                dir.resolve("target"), "nfs", List.of("sec=SENTINEL-42"), in(Duration.ofMillis(300))));

        assertThat(e.kind()).isEqualTo(MountException.Kind.TIMED_OUT);
        assertThat(e.getMessage()).doesNotContain("SENTINEL");
    }

    @Test
    void mount_allSlotsTaken_isBusyAtTheSlotWait_withTheEarliestRunningDeadlineAsRetryHint() throws Exception {
        Path started = dir.resolve("started");
        Path release = dir.resolve("release");
        Path mount = script("touch " + started + "; while [ ! -e " + release + " ]; do sleep 0.05; done");
        CommandMounter mounter = new CommandMounter(mount.toString(), 1, Duration.ofMillis(200), new BoundedIo(2));
        CompletableFuture<Void> first = CompletableFuture.runAsync(() -> {
            try {
                mounter.mount("10.0.0.1:/a", dir.resolve("a"), "nfs", List.of(), in(Duration.ofSeconds(40)));
            } catch (MountException e) {
                throw new IllegalStateException(e);
            }
        });
        try {
            awaitFile(started);

            long before = System.nanoTime();
            MountException e = catchThrowableOfType(MountException.class, () -> mounter.mount("10.0.0.1:/b",
                    dir.resolve("b"), "nfs", List.of(), in(Duration.ofSeconds(60))));

            assertThat(e.kind()).isEqualTo(MountException.Kind.BUSY);
            assertThat(Duration.ofNanos(System.nanoTime() - before)).isLessThan(Duration.ofSeconds(10));
            assertThat(e.retryAfter()).hasValueSatisfying(d -> assertThat(d)
                    .isBetween(Duration.ofSeconds(1), Duration.ofSeconds(40)));
            assertThat(e.toCsi("publishing").code()).isEqualTo(io.grpc.Status.Code.RESOURCE_EXHAUSTED);
        } finally {
            Files.createFile(release);
        }
        first.get(30, TimeUnit.SECONDS);
    }

    @Test
    void mount_recordsResultDurationAndTheServersAnswers() throws Exception {
        DriverMetrics metrics = new DriverMetrics();
        Path outcome = dir.resolve("outcome");
        Files.writeString(outcome, "ok");
        Path mount = script("if [ \"$(cat " + outcome + ")\" = ok ]; then exit 0; fi;"
                + " echo 'mount.nfs: Connection refused' >&2; exit 32");
        CommandMounter mounter = new CommandMounter(mount.toString(), 2, Duration.ofSeconds(5), new BoundedIo(2),
                metrics);
        double before = System.currentTimeMillis() / 1000.0;

        mounter.mount("10.0.0.1:/export", dir.resolve("a"), "nfs", List.of(), in(Duration.ofSeconds(20)));
        Files.writeString(outcome, "refused");
        for (int i = 0; i < 2; i++) {
            catchThrowableOfType(MountException.class, () -> mounter.mount("10.0.0.1:/export", dir.resolve("b"),
                    "nfs", List.of(), in(Duration.ofSeconds(20))));
        }
        Scrape s = Scrape.of(metrics);

        assertThat(s.value("nfs_csi_mount_operations_total", "operation", "mount", "result", "ok")).isEqualTo(1);
        assertThat(s.value("nfs_csi_mount_operations_total", "operation", "mount", "result", "unreachable"))
                .isEqualTo(2);
        assertThat(s.value("nfs_csi_mount_duration_seconds_count", "operation", "mount")).isEqualTo(3);
        assertThat(s.value("nfs_csi_nfs_server_consecutive_failures", "server", "10.0.0.1")).isEqualTo(2);
        assertThat(s.value("nfs_csi_nfs_server_last_success_timestamp_seconds", "server", "10.0.0.1"))
                .isBetween(before - 1, System.currentTimeMillis() / 1000.0 + 1);
        assertThat(s.value("nfs_csi_mounts_killed_at_deadline_total")).isZero();

        Files.writeString(outcome, "ok");
        mounter.mount("10.0.0.1:/export", dir.resolve("a"), "nfs", List.of(), in(Duration.ofSeconds(20)));
        assertThat(Scrape.of(metrics).value("nfs_csi_nfs_server_consecutive_failures", "server", "10.0.0.1"))
                .isZero();
    }

    @Test
    void mount_killedAtItsDeadline_isCounted() throws Exception {
        DriverMetrics metrics = new DriverMetrics();
        CommandMounter mounter = new CommandMounter(script("exec sleep 60").toString(), 2, Duration.ofSeconds(5),
                new BoundedIo(2), metrics);

        catchThrowableOfType(MountException.class, () -> mounter.mount("[fd00::1]:/export", dir.resolve("t"),
                "nfs", List.of(), in(Duration.ofMillis(300))));
        Scrape s = Scrape.of(metrics);

        assertThat(s.value("nfs_csi_mounts_killed_at_deadline_total")).isEqualTo(1);
        assertThat(s.value("nfs_csi_mount_operations_total", "operation", "mount", "result", "timed_out"))
                .isEqualTo(1);
        assertThat(s.value("nfs_csi_nfs_server_consecutive_failures", "server", "[fd00::1]")).isEqualTo(1);
    }

    private Path script(String body) throws Exception {
        Path p = dir.resolve("fake-mount");
        Files.writeString(p, "#!/bin/sh\n" + body + "\n");
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwx------"));
        return p;
    }

    private static Deadline in(Duration d) {
        return Deadline.after(d.toNanos(), TimeUnit.NANOSECONDS);
    }

    /** Waits for the script to say it runs: an event, polled, not a fixed sleep. */
    private static void awaitFile(Path p) throws InterruptedException {
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!Files.exists(p)) {
            assertThat(System.nanoTime()).as("script did not start").isLessThan(until);
            Thread.sleep(10);
        }
    }
}
