package io.nfscsi.controller;

import io.nfscsi.fs.RecordFile;
import io.nfscsi.volume.NfsSource;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Removes the temporary files that killed processes left in the directories where the controller keeps records on
 * a share ({@link #DIRECTORIES}): a record, claim or owner record is written whole to a temporary file, then renamed
 * or linked into place, and the temporary file is removed after; a process killed between the two leaves it.
 * <p>
 * The share is swept through the first lease this process takes on it, and again through a lease once
 * {@link #maxAge} has passed since, so that a crash never leaves a temporary file for good: a restarted replica
 * removes its dead predecessor's at once, and another replica's are removed once old. What is removed is decided by
 * {@link RecordFile#removeAbandoned}, which never removes the temporary file of a write that may still land: the
 * file names its writer's replica id and process, and a replica runs one process at a time (the README's
 * {@code --replica-id}), so another process of this replica id is dead; files of any other writer (another replica
 * on another host, this process itself) are removed only when older than {@link #maxAge}: ten times
 * {@code --owner-stale-after} and at least ten minutes, where one write takes seconds, a writer stalled beyond
 * {@code --owner-stale-after} has lost its ownership, and the margin covers the skew between this host's clock and
 * the file server's, which stamped the file. Sweeping through a lease, rather than at start-up, sweeps only shares
 * that are in use and mounted anyway, and needs no ordering with the process's own writes.
 */
final class InterruptedWrites {

    private static final Logger log = LoggerFactory.getLogger(InterruptedWrites.class);
    /** Every directory of a share that the controller writes temporary files into. */
    static final List<String> DIRECTORIES = List.of(Owners.DIRECTORY, VolumeRecords.DIRECTORY,
            SubDirClaims.DIRECTORY, Snapshots.RECORDS);
    static final Duration MIN_AGE = Duration.ofMinutes(10);

    private final String replica;
    private final Clock clock;
    private final Duration maxAge;
    /** When each share was last swept by this process. */
    private final Map<NfsSource, Instant> swept = new ConcurrentHashMap<>();

    /**
     * @param replica    this replica's {@code --replica-id}, as the temporary files of this process are named
     *                   ({@link RecordFile#identifyWriter})
     * @param staleAfter {@code --owner-stale-after}
     */
    InterruptedWrites(String replica, Clock clock, Duration staleAfter) {
        this.replica = replica;
        this.clock = clock;
        this.maxAge = staleAfter.multipliedBy(10).compareTo(MIN_AGE) > 0 ? staleAfter.multipliedBy(10) : MIN_AGE;
    }

    /** How old another writer's temporary file must be to be removed; also how often a share is swept again. */
    Duration maxAge() {
        return maxAge;
    }

    /**
     * Whether {@code share} is to be swept through the lease this process takes on it now; true for one caller at a
     * time, who sweeps it or, failing, calls {@link #failed}.
     */
    boolean due(NfsSource share) {
        Instant now = clock.instant();
        Instant last = swept.get(share);
        if (last != null && Duration.between(last, now).compareTo(maxAge) < 0) {
            return false;
        }
        return last == null ? swept.putIfAbsent(share, now) == null : swept.replace(share, last, now);
    }

    /** The sweep of {@code share} failed: the next lease tries again. */
    void failed(NfsSource share) {
        swept.remove(share);
    }

    /**
     * Sweeps the share mounted at {@code root}; safe at any moment, by any number of threads and replicas at once.
     * The lease that {@link #due} chose calls it.
     *
     * @return how many files were removed
     */
    int sweep(NfsSource share, Path root) throws IOException {
        Instant now = clock.instant();
        int removed = 0;
        for (String dir : DIRECTORIES) {
            for (Path p : RecordFile.removeAbandoned(root.resolve(dir), replica, now, maxAge)) {
                log.info("removed {} on share {}: a write that a killed process left", root.relativize(p), share);
                removed++;
            }
        }
        return removed;
    }
}
