package io.nfscsi.controller;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.nfscsi.concurrent.Deadline;
import io.nfscsi.error.CsiException;
import io.nfscsi.concurrent.BoundedIo;
import io.nfscsi.metrics.DriverMetrics;
import io.nfscsi.mount.MountException;
import io.nfscsi.testing.Scrape;
import io.nfscsi.testing.FakeMounter;
import io.nfscsi.testing.MutableClock;
import io.nfscsi.volume.NfsSource;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Reference counting and idle reaping of the share pool, with an in-memory mount table. */
class SharePoolTest {

    @TempDir
    Path work;
    FakeMounter mounter = new FakeMounter();
    MutableClock clock = new MutableClock(Instant.parse("2026-11-25T00:00:00Z"));
    SharePool pool;
    SharePool.ShareKey key = new SharePool.ShareKey(NfsSource.of("nfs", "/exports", null), List.of("nfsvers=4.1"));

    @BeforeEach
    void createPool() {
        pool = new SharePool(work, mounter, new BoundedIo(4), clock, Duration.ofMinutes(5), false,
                Duration.ofSeconds(10));
    }

    static Deadline soon() {
        return Deadline.after(10, TimeUnit.SECONDS);
    }

    @Test
    void acquire_twice_mountsOnce_atAStableDirectory() {
        Path first;
        try (var a = pool.acquire(key, soon()); var b = pool.acquire(key, soon())) {
            assertThat(a.root()).isEqualTo(b.root()).startsWith(work);
            first = a.root();
        }
        try (var c = pool.acquire(key, soon())) {
            assertThat(c.root()).isEqualTo(first);
        }
        assertThat(mounter.mountCalls).hasSize(1);
        assertThat(mounter.mountCalls.getFirst()).containsExactly("nfs:/exports", first.toString(), "nfs", "nfsvers=4.1");
        assertThat(pool.mountCount()).isEqualTo(1);
    }

    @Test
    void metrics_mountedSharesAndLeases() {
        DriverMetrics metrics = new DriverMetrics();
        metrics.sharePool("controller", pool::mountedShares, pool::leases);
        var other = new SharePool.ShareKey(NfsSource.of("nfs", "/other", null), List.of());
        try (var a = pool.acquire(key, soon()); var b = pool.acquire(key, soon()); var c = pool.acquire(other, soon())) {
            Scrape s = Scrape.of(metrics);
            assertThat(s.value("nfs_csi_share_pool_mounted_shares", "pool", "controller")).isEqualTo(2);
            assertThat(s.value("nfs_csi_share_pool_leases", "pool", "controller")).isEqualTo(3);
        }
        Scrape idle = Scrape.of(metrics);
        assertThat(idle.value("nfs_csi_share_pool_mounted_shares", "pool", "controller")).isEqualTo(2);
        assertThat(idle.value("nfs_csi_share_pool_leases", "pool", "controller")).isZero();
        clock.advance(Duration.ofMinutes(6));
        pool.reapIdle();
        assertThat(Scrape.of(metrics).value("nfs_csi_share_pool_mounted_shares", "pool", "controller")).isZero();
    }

    @Test
    void otherOptions_getAMountOfTheirOwn() {
        var other = new SharePool.ShareKey(key.share(), List.of("nfsvers=3"));
        try (var a = pool.acquire(key, soon()); var b = pool.acquire(other, soon())) {
            assertThat(a.root()).isNotEqualTo(b.root());
        }
        assertThat(mounter.mountCalls).hasSize(2);
        assertThat(pool.anyMounted(key.share())).isPresent();
    }

    @Test
    void reapIdle_unmountsOnlySharesUnusedForTheIdleTimeout() {
        var other = new SharePool.ShareKey(NfsSource.of("nfs", "/other", null), List.of());
        pool.acquire(key, soon()).close();
        var held = pool.acquire(other, soon());
        clock.advance(Duration.ofMinutes(4));
        pool.reapIdle();
        assertThat(mounter.mounted()).isEqualTo(2);
        clock.advance(Duration.ofMinutes(2));
        pool.reapIdle();
        assertThat(mounter.mounted()).as("the idle share is gone, the held one stays").isEqualTo(1);
        assertThat(pool.anyMounted(key.share())).isEmpty();
        held.close();
        try (var again = pool.acquire(key, soon())) {
            assertThat(again.root()).startsWith(work);
        }
        assertThat(mounter.mountCalls).as("mounted again after reaping").hasSize(3);
        assertThat(pool.known()).containsExactlyInAnyOrder(key, other);
    }

    @Test
    void closingALeaseTwice_countsOnce() {
        var a = pool.acquire(key, soon());
        var b = pool.acquire(key, soon());
        a.close();
        a.close();
        clock.advance(Duration.ofMinutes(10));
        pool.reapIdle();
        assertThat(mounter.mounted()).as("b still holds it").isEqualTo(1);
        b.close();
        clock.advance(Duration.ofMinutes(6));
        pool.reapIdle();
        assertThat(mounter.mounted()).isZero();
    }

    @Test
    void mountFailure_isTranslated_andTheNextCallTriesAgain() {
        mounter.failWith = MountException.Kind.ACCESS_DENIED;
        assertThatThrownBy(() -> pool.acquire(key, soon())).isInstanceOf(CsiException.PermissionDenied.class);
        mounter.failWith = null;
        try (var a = pool.acquire(key, soon())) {
            assertThat(a.root()).startsWith(work);
        }
    }

    @Test
    void halfOfRemaining_leavesTimeForTheOtherShares_andIsCapped() {
        Deadline call = Deadline.after(10, TimeUnit.SECONDS);
        assertThat(SharePool.halfOfRemaining(call, Duration.ofMinutes(2)).get().timeRemaining(TimeUnit.MILLISECONDS))
                .isBetween(1L, 5000L);
        assertThat(SharePool.halfOfRemaining(call, Duration.ofSeconds(1)).get().timeRemaining(TimeUnit.MILLISECONDS))
                .isBetween(1L, 1000L);
    }

    @Test
    void known_holdsOnlySharesThatMounted() {
        var typo = new SharePool.ShareKey(NfsSource.of("nfs-typo", "/exports", null), List.of());
        mounter.failWith = MountException.Kind.FAILED;
        assertThatThrownBy(() -> pool.acquire(typo, soon())).isInstanceOf(CsiException.class);
        mounter.failWith = null;
        pool.acquire(key, soon()).close();
        assertThat(pool.known()).containsExactly(key);
    }

    @Test
    void eachKnownShare_visitsEachShareOnce_throughTheOptionsThatMount_andReportsTheOnesThatFail() {
        var flagKey = new SharePool.ShareKey(key.share(), List.of("nfsvers=3"));
        var down = new SharePool.ShareKey(NfsSource.of("nfs", "/down", null), List.of());
        var withFlags = new SharePool(work, mounter, new BoundedIo(4), clock, Duration.ofMinutes(5), false,
                Duration.ofSeconds(10), KnownShares.load(work, List.of(flagKey, down)));
        withFlags.acquire(key, soon()).close();
        mounter.failWith = MountException.Kind.ACCESS_DENIED;
        List<String> visited = new java.util.ArrayList<>();
        List<String> failed = new java.util.ArrayList<>();
        withFlags.eachKnownShare(SharePoolTest::soon, (share, lease, deadline) -> visited.add(share.format()),
                (share, e) -> failed.add(share.format()));
        assertThat(visited).as("the mounted option set serves, the flag's is not tried").containsExactly("nfs:/exports");
        assertThat(failed).containsExactly("nfs:/down");
    }

    @Test
    void perRequestMode_mountsAndUnmountsAroundEveryLease() {
        SharePool perRequest = new SharePool(work, mounter, new BoundedIo(4), clock, Duration.ofMinutes(5), true,
                Duration.ofSeconds(10));
        for (int i = 0; i < 3; i++) {
            try (var lease = perRequest.acquire(key, soon())) {
                assertThat(mounter.mounted()).isEqualTo(1);
                assertThat(lease.root()).startsWith(work);
            }
            assertThat(mounter.mounted()).isZero();
        }
        assertThat(mounter.mountCalls).hasSize(3);
    }

    @Test
    void acquireWithSecretOptions_isNeverRemembered_onDiskOrInTheKnownShares() throws Exception {
        var secret = new SharePool.ShareKey(key.share(), List.of("sec=krb5p", "port=20049"));
        try (var lease = pool.acquireWithSecretOptions(secret, soon())) {
            assertThat(lease.root()).startsWith(work);
        }
        assertThat(pool.known()).doesNotContain(secret);
        Path file = work.resolve(KnownShares.FILE);
        if (java.nio.file.Files.exists(file)) {
            assertThat(java.nio.file.Files.readString(file)).doesNotContain("krb5p").doesNotContain("20049");
        }
        // without options from a secret the share is learned as before
        try (var lease = pool.acquireWithSecretOptions(new SharePool.ShareKey(key.share(), List.of()), soon())) {
            assertThat(pool.known()).contains(lease.key());
        }
    }

    @Test
    void unmountLeftovers_takesAwayWhatAKilledRunLeftInTheWorkingDirectory_only() throws Exception {
        Path left = work.resolve("0123456789abcdef01234567");
        Path elsewhere = work.resolveSibling(work.getFileName() + "-other");
        mounter.mount("nfs:/exports", left, "nfs", List.of(), soon());
        mounter.mount("nfs:/exports", left, "nfs", List.of(), soon()); // stacked: a killed mount.nfs finished late
        mounter.mount("nfs:/exports", elsewhere, "nfs", List.of(), soon());
        java.nio.file.Files.createDirectories(left);

        assertThat(pool.unmountLeftovers()).isEqualTo(2);

        assertThat(mounter.table().countAt(left)).isZero();
        assertThat(left).doesNotExist();
        assertThat(mounter.table().countAt(elsewhere)).isEqualTo(1);
        try (var lease = pool.acquire(key, soon())) {
            assertThat(mounter.table().countAt(lease.root())).isEqualTo(1);
        }
    }
}
