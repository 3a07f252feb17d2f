package io.nfscsi.node;

import io.nfscsi.posix.FsStats;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Iterator;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The usage (bytes and inodes) last read at each published path, served for up to a TTL. Only usage is kept: the
 * volume's condition is never cached (see {@link VolumeHealth}). An entry belongs to one mount: it is keyed by the
 * path and the ID of the mount found there, so a remount at the same path starts afresh, and it is dropped when the
 * node publishes or unpublishes at that path, or when a check of the path fails.
 *
 * <p>Bounded: at most {@code maxEntries} paths; when full, expired entries go first, then the one that expires
 * soonest. A TTL of zero keeps nothing.
 */
final class StatsCache {

    /** The default TTL: kubelet's default volume stats aggregation period ({@code volumeStatsAggPeriod}, 1 minute). */
    static final Duration DEFAULT_TTL = Duration.ofMinutes(1);
    /** More paths than a node publishes (110 pods of a few volumes each). */
    static final int DEFAULT_MAX_ENTRIES = 1024;

    private record Entry(long mountId, FsStats stats, long expiresMillis) {}

    private final long ttlMillis;
    private final int maxEntries;
    private final Clock clock;
    private final Map<Path, Entry> entries = new ConcurrentHashMap<>();

    StatsCache(Duration ttl, int maxEntries, Clock clock) {
        if (ttl.isNegative()) {
            throw new IllegalArgumentException("the stats cache TTL must not be negative: " + ttl);
        }
        if (maxEntries < 1) {
            throw new IllegalArgumentException("the stats cache needs room for one entry: " + maxEntries);
        }
        this.ttlMillis = ttl.toMillis();
        this.maxEntries = maxEntries;
        this.clock = clock;
    }

    /** The usage read at {@code path} on the mount {@code mountId} less than the TTL ago, if any. */
    Optional<FsStats> get(Path path, long mountId) {
        Entry e = entries.get(path);
        if (e == null) {
            return Optional.empty();
        }
        if (e.mountId() != mountId || clock.millis() >= e.expiresMillis()) {
            entries.remove(path, e);
            return Optional.empty();
        }
        return Optional.of(e.stats());
    }

    /** Keeps {@code stats}, just read at {@code path} on the mount {@code mountId}. */
    synchronized void put(Path path, long mountId, FsStats stats) {
        if (ttlMillis == 0) {
            return;
        }
        long now = clock.millis();
        if (!entries.containsKey(path) && entries.size() >= maxEntries) {
            evict(now);
        }
        entries.put(path, new Entry(mountId, stats, now + ttlMillis));
    }

    /** Drops the usage kept for {@code path}: its volume was published, unpublished, or failed a check. */
    void forget(Path path) {
        entries.remove(path);
    }

    int size() {
        return entries.size();
    }

    /** Makes room for one entry: every expired one, else the one that expires soonest. */
    private void evict(long now) {
        Path soonest = null;
        long soonestExpiry = Long.MAX_VALUE;
        for (Iterator<Map.Entry<Path, Entry>> it = entries.entrySet().iterator(); it.hasNext(); ) {
            Map.Entry<Path, Entry> e = it.next();
            if (now >= e.getValue().expiresMillis()) {
                it.remove();
            } else if (e.getValue().expiresMillis() < soonestExpiry) {
                soonest = e.getKey();
                soonestExpiry = e.getValue().expiresMillis();
            }
        }
        if (entries.size() >= maxEntries && soonest != null) {
            entries.remove(soonest);
        }
    }
}
