package io.nfscsi.controller;

import static org.assertj.core.api.Assertions.assertThat;

import io.nfscsi.concurrent.BoundedIo;
import io.nfscsi.concurrent.Deadline;
import io.nfscsi.metrics.DriverMetrics;
import io.nfscsi.testing.FakeMounter;
import io.nfscsi.testing.MutableClock;
import io.nfscsi.volume.NfsSource;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The temporary files that killed processes leave on a share go through the leases of the share pool, and those that
 * a live writer may still rename or link stay. The files are planted as a process killed between writing a
 * temporary file and renaming or linking it leaves them ({@code .<random>.<process>.<replica>.tmp}, see
 * {@code RecordFileTest} for the writes themselves).
 */
class InterruptedWritesTest {

    static final Duration STALE = Duration.ofMinutes(1);
    /** A process of replica-a that was killed: never this JVM's (RecordFile's process part is random). */
    static final String DEAD = "0123456789ab";

    @TempDir
    Path work;
    final MutableClock clock = new MutableClock(Instant.parse("2026-12-01T12:00:00Z"));
    final InterruptedWrites interrupted = new InterruptedWrites("replica-a", clock, STALE);
    final SharePool.ShareKey key = new SharePool.ShareKey(NfsSource.of("nfs", "/exports", null), List.of());
    SharePool pool;
    Path root;
    int planted;

    @BeforeEach
    void createPool() {
        pool = new SharePool(work, new FakeMounter(), new BoundedIo(4), clock, Duration.ofMinutes(5), false,
                Duration.ofSeconds(10), KnownShares.inMemory(), DriverMetrics.unexported(), Optional.of(interrupted));
        root = work.resolve(key.directoryName());
    }

    static Deadline soon() {
        return Deadline.after(10, TimeUnit.SECONDS);
    }

    Path plant(String dir, String process, String replica, Duration age) throws Exception {
        String name = String.format(".%016x.%s.%s.tmp", ++planted, process, replica);
        return plantNamed(dir, name, age);
    }

    Path plantNamed(String dir, String name, Duration age) throws Exception {
        Path p = Files.createDirectories(root.resolve(dir)).resolve(name);
        Files.writeString(p, "half=");
        Files.setLastModifiedTime(p, FileTime.from(clock.instant().minus(age)));
        return p;
    }

    void lease() {
        try (var lease = pool.acquire(key, soon())) {
            assertThat(lease.root()).isEqualTo(root);
        }
    }

    @Test
    void maxAge_isTenTimesTheStalenessBound_andAtLeastTenMinutes() {
        assertThat(interrupted.maxAge()).isEqualTo(Duration.ofMinutes(10));
        assertThat(new InterruptedWrites("r", clock, Duration.ofMinutes(5)).maxAge()).isEqualTo(Duration.ofMinutes(50));
        assertThat(new InterruptedWrites("r", clock, Duration.ofSeconds(2)).maxAge()).isEqualTo(Duration.ofMinutes(10));
    }

    @Test
    void firstLease_removesAKilledProcessOfThisReplicasFiles_andOldOnes_inEveryRecordDirectory() throws Exception {
        for (String dir : InterruptedWrites.DIRECTORIES) {
            Path killed = plant(dir, DEAD, "replica-a", Duration.ZERO);
            Path old = plant(dir, "aabbccddeeff", "replica-b", Duration.ofMinutes(11));
            Path oldNaming = plantNamed(dir, ".0b7c6a1e-3c55-4d5e-9a3b-1f0e2d4c5b6a.tmp", Duration.ofMinutes(11));
            Path live = plant(dir, "aabbccddeeff", "replica-b", Duration.ofMinutes(9));
            Path liveOldNaming = plantNamed(dir, ".x.properties.0b7c6a1e-3c55-4d5e-9a3b-1f0e2d4c5b6a.tmp",
                    Duration.ofMinutes(1));
            Path record = plantNamed(dir, "x.properties", Duration.ofDays(30));

            lease();

            assertThat(killed).as(dir).doesNotExist();
            assertThat(old).as(dir).doesNotExist();
            assertThat(oldNaming).as(dir).doesNotExist();
            assertThat(live).as(dir).exists();
            assertThat(liveOldNaming).as(dir).exists();
            assertThat(record).as(dir).exists();
            clock.advance(interrupted.maxAge());
        }
    }

    @Test
    void laterLeases_sweepAgainOnlyOnceTheMaxAgeHasPassed_andAnotherReplicasFileOnceItIsOld() throws Exception {
        lease();
        Path killed = plant(Owners.DIRECTORY, DEAD, "replica-a", Duration.ZERO);
        Path other = plant(Owners.DIRECTORY, "aabbccddeeff", "replica-b", Duration.ZERO);

        clock.advance(interrupted.maxAge().minusSeconds(1));
        lease();
        assertThat(killed).exists();

        clock.advance(Duration.ofSeconds(1));
        lease();
        assertThat(killed).doesNotExist();
        // planted when the clock stood a max age earlier: not yet older than the bound
        assertThat(other).exists();

        clock.advance(interrupted.maxAge());
        lease();
        assertThat(other).doesNotExist();
    }

    @Test
    void ownerRecords_leaveNoTemporaryFile_andASweepLeavesTheRecords() throws Exception {
        Owners owners = new Owners("replica-a", clock, STALE);
        try (var lease = pool.acquire(key, soon()); Ownership hold = owners.acquire(lease.root(), "volume pvc-1")) {
            Path dir = lease.root().resolve(Owners.DIRECTORY);
            try (var files = Files.list(dir)) {
                assertThat(files).extracting(p -> p.getFileName().toString())
                        .containsExactly(Owners.key("volume pvc-1") + ".1");
            }
            assertThat(interrupted.sweep(key.share(), lease.root())).isZero();
            hold.check();
        }
    }
}
