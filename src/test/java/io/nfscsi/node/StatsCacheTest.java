package io.nfscsi.node;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.nfscsi.posix.FsStats;
import io.nfscsi.testing.MutableClock;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class StatsCacheTest {

    static final Path A = Path.of("/var/lib/kubelet/pods/a/volumes/kubernetes.io~csi/pv-a/mount");
    static final Path B = Path.of("/var/lib/kubelet/pods/b/volumes/kubernetes.io~csi/pv-b/mount");
    static final Path C = Path.of("/var/lib/kubelet/pods/c/volumes/kubernetes.io~csi/pv-c/mount");
    static final FsStats USAGE = new FsStats(1000, 600, 400, 100, 70, 30);

    final MutableClock clock = new MutableClock(Instant.parse("2026-01-01T00:00:00Z"));

    @Test
    void get_withinTheTtl_servesTheKeptUsage_andNotAfter() {
        StatsCache cache = new StatsCache(Duration.ofSeconds(30), 10, clock);
        cache.put(A, 7, USAGE);
        clock.advance(Duration.ofMillis(29_999));
        assertThat(cache.get(A, 7)).contains(USAGE);
        clock.advance(Duration.ofMillis(1));
        assertThat(cache.get(A, 7)).isEmpty();
        assertThat(cache.size()).as("an expired entry is dropped when found").isZero();
    }

    @Test
    void get_onAnotherMountAtThePath_isEmpty() {
        StatsCache cache = new StatsCache(Duration.ofSeconds(30), 10, clock);
        cache.put(A, 7, USAGE);
        assertThat(cache.get(A, 8)).isEmpty();
        assertThat(cache.get(A, 7)).as("the entry of the old mount is gone").isEmpty();
    }

    @Test
    void forget_dropsThePathOnly() {
        StatsCache cache = new StatsCache(Duration.ofSeconds(30), 10, clock);
        cache.put(A, 7, USAGE);
        cache.put(B, 8, USAGE);
        cache.forget(A);
        assertThat(cache.get(A, 7)).isEmpty();
        assertThat(cache.get(B, 8)).contains(USAGE);
    }

    @Test
    void ttlZero_keepsNothing() {
        StatsCache cache = new StatsCache(Duration.ZERO, 10, clock);
        cache.put(A, 7, USAGE);
        assertThat(cache.get(A, 7)).isEmpty();
        assertThat(cache.size()).isZero();
    }

    @Test
    void put_whenFull_dropsExpiredEntriesFirst_thenTheOneExpiringSoonest() {
        StatsCache cache = new StatsCache(Duration.ofSeconds(30), 2, clock);
        cache.put(A, 1, USAGE);
        clock.advance(Duration.ofSeconds(10));
        cache.put(B, 2, USAGE);
        cache.put(C, 3, USAGE);
        assertThat(cache.size()).isEqualTo(2);
        assertThat(cache.get(A, 1)).as("the oldest entry made room").isEmpty();
        assertThat(cache.get(B, 2)).contains(USAGE);
        assertThat(cache.get(C, 3)).contains(USAGE);

        clock.advance(Duration.ofSeconds(25)); // B expired, C not
        cache.put(A, 1, USAGE);
        assertThat(cache.size()).isEqualTo(2);
        assertThat(cache.get(C, 3)).contains(USAGE);
        assertThat(cache.get(A, 1)).contains(USAGE);
    }

    @Test
    void put_again_atAKeptPath_replacesIt_withoutEvicting() {
        StatsCache cache = new StatsCache(Duration.ofSeconds(30), 2, clock);
        FsStats later = new FsStats(1000, 500, 500, 100, 60, 40);
        cache.put(A, 1, USAGE);
        cache.put(B, 2, USAGE);
        cache.put(A, 1, later);
        assertThat(cache.get(A, 1)).contains(later);
        assertThat(cache.get(B, 2)).contains(USAGE);
    }

    @Test
    void negativeTtlOrNoRoom_isRefused() {
        assertThatThrownBy(() -> new StatsCache(Duration.ofSeconds(-1), 10, clock))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new StatsCache(Duration.ofSeconds(1), 0, clock))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
