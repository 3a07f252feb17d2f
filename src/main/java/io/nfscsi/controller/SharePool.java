package io.nfscsi.controller;

import io.nfscsi.concurrent.Deadline;
import io.nfscsi.error.CsiException;
import io.nfscsi.concurrent.BoundedIo;
import io.nfscsi.metrics.DriverMetrics;
import io.nfscsi.mount.MountEntry;
import io.nfscsi.mount.MountException;
import io.nfscsi.mount.Mounter;
import io.nfscsi.mount.Posix;
import io.nfscsi.volume.NfsSource;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.BiConsumer;
import java.util.function.Supplier;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The controller's mounts of NFS shares: one per (server, share, mount options), made on first use under the
 * working directory, shared by every call that needs that share, counted, unmounted after an idle period, and
 * made again when it has gone stale. No call mounts and unmounts a share for itself, unless the pool is built in
 * per-request mode, which exists only to measure what pooling saves.
 */
final class SharePool {

    private static final Logger log = LoggerFactory.getLogger(SharePool.class);
    private static final Duration HEALTH_BUDGET = Duration.ofSeconds(5);
    /**
     * How many file-system calls on one share may be left blocked in the kernel after their deadlines: a share whose
     * server stopped answering then holds about this many threads, and its further calls are UNAVAILABLE at once
     * until the server answers again and the blocked calls return.
     */
    static final int BLOCKED_PER_SHARE = 8;

    /** What identifies a pooled mount. */
    record ShareKey(NfsSource share, List<String> options) {
        ShareKey {
            options = List.copyOf(options);
        }

        /** A stable directory name for this key under the working directory. */
        String directoryName() {
            try {
                byte[] digest = MessageDigest.getInstance("SHA-256")
                        .digest((share.format() + "\n" + String.join(",", options)).getBytes(StandardCharsets.UTF_8));
                return HexFormat.of().formatHex(digest, 0, 12);
            } catch (NoSuchAlgorithmException e) {
                throw new IllegalStateException(e);
            }
        }
    }

    /** File-system work on a mounted share, given the share's root directory. */
    @FunctionalInterface
    interface ShareCall<T> {
        T run(Path root) throws IOException;
    }

    /** A use of a mounted share; closing it returns the share to the pool. */
    interface Lease extends AutoCloseable {
        /** The mounted share's root directory. */
        Path root();

        ShareKey key();

        /**
         * Runs {@code work} on the share under {@code deadline}, on a platform thread of the share's lane of bounded
         * I/O: every controller access to a share's files goes through here, so that a call on a share whose server
         * stopped answering returns at its deadline (and releases its locks and this lease), and the share holds at
         * most about {@link #BLOCKED_PER_SHARE} threads blocked in the kernel.
         *
         * @throws CsiException DEADLINE_EXCEEDED when the caller's deadline expired first, UNAVAILABLE when the
         *                      driver's own deadline did or the share's lane is full of blocked calls,
         *                      RESOURCE_EXHAUSTED when every slot of bounded I/O is held; INTERNAL for an
         *                      {@link IOException}; what {@code work} throws otherwise
         */
        <T> T io(String what, Deadline deadline, ShareCall<T> work);

        @Override
        void close();
    }

    private static final class Entry {
        final ShareKey key;
        final Path path;
        final ReentrantLock lock = new ReentrantLock();
        int users;
        Instant lastUsed;
        volatile Instant lastHealthy = Instant.MIN;
        /** A health check's statvfs was started and has not returned; cleared by the statvfs itself. */
        final java.util.concurrent.atomic.AtomicBoolean probing = new java.util.concurrent.atomic.AtomicBoolean();

        Entry(ShareKey key, Path path, Instant now) {
            this.key = key;
            this.path = path;
            this.lastUsed = now;
        }
    }

    private final Path workingDir;
    private final Mounter mounter;
    private final BoundedIo io;
    private final Clock clock;
    private final Duration idleTimeout;
    private final boolean perRequest;
    /** How long a share that answered a health check is trusted before the next check. */
    private final Duration checkInterval;
    private final Map<ShareKey, Entry> entries = new ConcurrentHashMap<>();
    /** One lane per share (not per mount option set): a server that does not answer holds one lane. */
    private final Map<NfsSource, BoundedIo.Lane> lanes = new ConcurrentHashMap<>();
    private final KnownShares known;
    private final DriverMetrics metrics;
    private final Optional<InterruptedWrites> interrupted;
    private final AtomicLong mounts = new AtomicLong();
    /** Leases on pooled shares open now (per-request mounts are not counted). */
    private final java.util.concurrent.atomic.AtomicInteger leases = new java.util.concurrent.atomic.AtomicInteger();
    private final AtomicLong requestCounter = new AtomicLong();

    SharePool(Path workingDir, Mounter mounter, BoundedIo io, Clock clock, Duration idleTimeout, boolean perRequest,
              Duration checkInterval) {
        this(workingDir, mounter, io, clock, idleTimeout, perRequest, checkInterval, KnownShares.inMemory());
    }

    SharePool(Path workingDir, Mounter mounter, BoundedIo io, Clock clock, Duration idleTimeout, boolean perRequest,
              Duration checkInterval, KnownShares known) {
        this(workingDir, mounter, io, clock, idleTimeout, perRequest, checkInterval, known, DriverMetrics.unexported());
    }

    /** @param metrics counts the health checks refused because the last one is still blocked */
    SharePool(Path workingDir, Mounter mounter, BoundedIo io, Clock clock, Duration idleTimeout, boolean perRequest,
              Duration checkInterval, KnownShares known, DriverMetrics metrics) {
        this(workingDir, mounter, io, clock, idleTimeout, perRequest, checkInterval, known, metrics, Optional.empty());
    }

    /** @param interrupted sweeps each share through a lease when it is due; empty: shares are never swept */
    SharePool(Path workingDir, Mounter mounter, BoundedIo io, Clock clock, Duration idleTimeout, boolean perRequest,
              Duration checkInterval, KnownShares known, DriverMetrics metrics,
              Optional<InterruptedWrites> interrupted) {
        this.interrupted = interrupted;
        this.metrics = metrics;
        this.known = known;
        this.checkInterval = checkInterval;
        this.workingDir = workingDir;
        this.mounter = mounter;
        this.io = io;
        this.clock = clock;
        this.idleTimeout = idleTimeout;
        this.perRequest = perRequest;
    }

    /**
     * A lease on the share, mounting it first if it is not mounted (or was stale).
     *
     * @throws CsiException DEADLINE_EXCEEDED when the mount, or waiting for another call's mount of the same share,
     *                      outlasts the deadline; UNAVAILABLE when the share's server does not answer; as
     *                      {@link MountException#toCsi} for a failed mount
     */
    Lease acquire(ShareKey key, Deadline deadline) {
        return acquire(key, deadline, true);
    }

    /**
     * A lease as {@link #acquire}, on a key whose mount options came from a request's secrets (DeleteVolume's and
     * DeleteSnapshot's {@code mountOptions}): the share is not remembered, so those options never reach the
     * known-shares file on disk.
     */
    Lease acquireWithSecretOptions(ShareKey key, Deadline deadline) {
        return acquire(key, deadline, key.options().isEmpty());
    }

    private Lease acquire(ShareKey key, Deadline deadline, boolean remember) {
        Lease lease = perRequest ? acquireForOneRequest(key, deadline) : acquirePooled(key, deadline, remember);
        if (perRequest && remember) {
            known.learn(key);
        }
        interrupted.filter(w -> w.due(key.share())).ifPresent(w -> sweep(w, lease, deadline));
        return lease;
    }

    /**
     * Removes what writes that a killed process interrupted left on the share. A failure is logged and the call goes
     * on: the files cost only space, and the next lease sweeps again.
     */
    private static void sweep(InterruptedWrites w, Lease lease, Deadline deadline) {
        try {
            lease.io("removing the temporary files of interrupted writes", deadline,
                    root -> w.sweep(lease.key().share(), root));
        } catch (RuntimeException e) {
            w.failed(lease.key().share());
            log.warn("share {}: could not remove the temporary files of interrupted writes: {}", lease.key().share(),
                    e.getMessage());
        }
    }

    private Lease acquirePooled(ShareKey key, Deadline deadline, boolean remember) {
        Entry e = entries.computeIfAbsent(key, k -> new Entry(k, workingDir.resolve(k.directoryName()), clock.instant()));
        lock(e, deadline);
        try {
            if (entries.get(key) != e) {
                // the reaper retired this entry while we waited for it
                return acquirePooled(key, deadline, remember);
            }
            ensureMounted(e, deadline);
            // only a share that mounted is remembered: a mistyped server in a request is not listed forever
            if (remember) {
                known.learn(key);
            }
            e.users++;
            leases.incrementAndGet();
            e.lastUsed = clock.instant();
        } finally {
            e.lock.unlock();
        }
        return new Lease() {
            private boolean closed;

            @Override public Path root() { return e.path; }

            @Override public ShareKey key() { return key; }

            @Override
            public <T> T io(String what, Deadline deadline, ShareCall<T> work) {
                return SharePool.this.io(key, e.path, what, deadline, work);
            }

            @Override
            public void close() {
                e.lock.lock();
                try {
                    if (!closed) {
                        closed = true;
                        e.users--;
                        leases.decrementAndGet();
                        e.lastUsed = clock.instant();
                    }
                } finally {
                    e.lock.unlock();
                }
            }
        };
    }

    /** A pooled mount of {@code share} with any options, if one is mounted now. */
    Optional<ShareKey> anyMounted(NfsSource share) {
        return entries.keySet().stream().filter(k -> k.share().equals(share)).findFirst();
    }

    /** The {@code --share} flags' shares, then every share a call has named, remembered across restarts. */
    List<ShareKey> known() {
        return known.all();
    }

    /** What to do with one known share's mount, within the deadline given for that share. */
    @FunctionalInterface
    interface ShareWork {
        void run(NfsSource share, Lease lease, Deadline deadline);
    }

    /**
     * Runs {@code work} once on each known share (a share known with several mount option sets is visited once,
     * through the mount that exists, else the first option set that mounts). A share that cannot be mounted, or
     * whose work fails, is handed to {@code failed} and the others are still visited: one server that is down
     * does not fail a list.
     *
     * @param deadline a deadline for each share in turn, asked for just before the share is mounted
     */
    void eachKnownShare(Supplier<Deadline> deadline, ShareWork work, BiConsumer<NfsSource, RuntimeException> failed) {
        Map<NfsSource, List<ShareKey>> byShare = new LinkedHashMap<>();
        for (ShareKey key : known.all()) {
            byShare.computeIfAbsent(key.share(), s -> new ArrayList<>()).add(key);
        }
        for (var share : byShare.entrySet()) {
            onShare(share.getKey(), share.getValue(), deadline.get(), work, failed);
        }
    }

    /** The known shares, each once whatever its mount options, in the order of {@link NfsSource#format()}. */
    List<NfsSource> knownSharesInOrder() {
        return known.all().stream().map(ShareKey::share).distinct()
                .sorted(java.util.Comparator.comparing(NfsSource::format)).toList();
    }

    /** As one share of {@link #eachKnownShare}: a lease with the share's known options (a mounted key first). */
    void onKnownShare(NfsSource share, Deadline forShare, ShareWork work,
                      BiConsumer<NfsSource, RuntimeException> failed) {
        onShare(share, known.all().stream().filter(k -> k.share().equals(share)).toList(), forShare, work, failed);
    }

    private void onShare(NfsSource share, List<ShareKey> keys, Deadline forShare, ShareWork work,
                         BiConsumer<NfsSource, RuntimeException> failed) {
        List<ShareKey> candidates = new ArrayList<>(keys);
        anyMounted(share).ifPresent(mounted -> {
            candidates.remove(mounted);
            candidates.addFirst(mounted);
        });
        if (candidates.isEmpty()) {
            return; // forgotten since the caller looked (more shares learned than are kept): nothing to visit
        }
        try (Lease lease = acquireFirst(candidates, forShare)) {
            work.run(share, lease, forShare);
        } catch (RuntimeException e) {
            failed.accept(share, e);
        }
    }

    /**
     * Deadlines for visiting many shares under one call's deadline: each share may take half of the time that
     * remains, and at most {@code cap}, so that a server that does not answer leaves time to answer with the others.
     */
    static Supplier<Deadline> halfOfRemaining(Deadline call, Duration cap) {
        return () -> {
            long half = Math.max(0, call.timeRemaining(TimeUnit.NANOSECONDS) / 2);
            return Deadline.after(Math.min(half, cap.toNanos()), TimeUnit.NANOSECONDS);
        };
    }

    /** The first candidate that mounts; a server that does not answer is not asked again with other options. */
    private Lease acquireFirst(List<ShareKey> candidates, Deadline deadline) {
        RuntimeException last = null;
        for (ShareKey key : candidates) {
            try {
                return acquire(key, deadline);
            } catch (CsiException.Unavailable | CsiException.DeadlineExceeded e) {
                throw e;
            } catch (CsiException e) {
                last = e;
            }
        }
        throw last;
    }

    /** How many shares the pool holds mounted now: its metric. */
    int mountedShares() {
        // an entry whose first mount failed, or is still running, has never been healthy
        return (int) entries.values().stream().filter(e -> !e.lastHealthy.equals(Instant.MIN)).count();
    }

    /** How many leases on pooled shares are open now: its metric. */
    int leases() {
        return leases.get();
    }

    /** How many leases on {@code key} are open now; for tests and diagnostics. */
    int users(ShareKey key) {
        Entry e = entries.get(key);
        if (e == null) {
            return 0;
        }
        e.lock.lock();
        try {
            return e.users;
        } finally {
            e.lock.unlock();
        }
    }

    /** How many mounts the pool has made; what pooling saves shows here. */
    long mountCount() {
        return mounts.get();
    }

    /** Unmounts shares that no one has used for the idle timeout; run periodically. */
    void reapIdle() {
        Instant cutoff = clock.instant().minus(idleTimeout);
        for (Entry e : entries.values()) {
            if (!e.lock.tryLock()) {
                continue;
            }
            try {
                if (e.users == 0 && e.lastUsed.isBefore(cutoff)) {
                    entries.remove(e.key, e);
                    log.info("unmounting share {} from {}: idle since {}", e.key.share(), e.path, e.lastUsed);
                    unmountQuietly(e.path);
                }
            } finally {
                e.lock.unlock();
            }
        }
    }

    /**
     * Unmounts what a previous run left mounted in the working directory: a controller killed with shares mounted
     * (SIGKILL, OOM) leaves them there, and nothing else would ever unmount a share that the new run does not ask
     * for with the same options. Call once, before the first lease: no call can be using them yet.
     *
     * @return how many mounts were taken away (stacked ones counted each)
     */
    int unmountLeftovers() {
        int removed = 0;
        for (MountEntry m : mounter.table().entries()) {
            Path at = m.mountPoint();
            if (!workingDir.toAbsolutePath().normalize().equals(at.getParent())) {
                continue;
            }
            int before = mounter.table().countAt(at);
            if (before == 0) {
                continue; // a stacked mount already taken away with the one above it
            }
            log.info("unmounting {} from {}: left mounted by a previous run", m.source(), at);
            for (int i = 0; i < before; i++) {
                unmountQuietly(at);
            }
            removed += before - mounter.table().countAt(at);
        }
        return removed;
    }

    /** Unmounts every pooled share that no call is using; for shutdown. */
    void closeIdle() {
        for (Entry e : entries.values()) {
            if (e.lock.tryLock()) {
                try {
                    if (e.users == 0) {
                        entries.remove(e.key, e);
                        unmountQuietly(e.path);
                    }
                } finally {
                    e.lock.unlock();
                }
            }
        }
    }

    private void lock(Entry e, Deadline deadline) {
        try {
            if (!e.lock.tryLock(Math.max(0, deadline.timeRemaining(TimeUnit.NANOSECONDS)), TimeUnit.NANOSECONDS)) {
                throw new CsiException.DeadlineExceeded("waiting for share " + e.key.share()
                        + " to be mounted by another call took until the deadline");
            }
        } catch (InterruptedException ex) {
            Thread.currentThread().interrupt();
            throw new CsiException.DeadlineExceeded("interrupted while waiting for share " + e.key.share());
        }
    }

    /** Caller holds the entry's lock. */
    private void ensureMounted(Entry e, Deadline deadline) {
        Optional<MountEntry> current = mounter.table().at(e.path);
        if (current.isPresent() && e.key.share().matches(current.get().source())) {
            if (healthy(e, deadline)) {
                return;
            }
            log.warn("share {} at {} is stale; mounting it again", e.key.share(), e.path);
            unmountQuietly(e.path);
        } else if (current.isPresent()) {
            throw new CsiException.Internal("working mount " + e.path + " holds " + current.get().source()
                    + " instead of " + e.key.share());
        }
        mount(e.key, e.path, deadline);
        e.lastHealthy = clock.instant();
    }

    /** A stat of the share root, at most every check interval: stale means mount again, hung means fail. */
    private boolean healthy(Entry e, Deadline deadline) {
        Instant now = clock.instant();
        if (Duration.between(e.lastHealthy, now).compareTo(checkInterval) < 0) {
            return true;
        }
        BoundedIo.Lane lane = lane(e.key.share());
        if (e.probing.get() && lane.stuck() > 0) {
            // the last check is still blocked in the kernel: the server has not answered since; do not queue another
            metrics.serverFailedFast(e.key.share().host());
            throw new CsiException.Unavailable("NFS server of share " + e.key.share() + " does not answer: the "
                    + "last statvfs of " + e.path + " has not returned", null);
        }
        Deadline budget = deadline.minimum(Deadline.after(HEALTH_BUDGET.toMillis(), TimeUnit.MILLISECONDS));
        e.probing.set(true);
        try {
            lane.run("statvfs " + e.path, budget, () -> {
                try {
                    return Posix.statvfs(e.path);
                } finally {
                    e.probing.set(false);
                }
            });
            e.lastHealthy = now;
            return true;
        } catch (MountException ex) {
            return switch (ex.kind()) {
                case STALE, NO_SUCH_PATH -> false;
                case TIMED_OUT, UNREACHABLE -> throw new CsiException.Unavailable("NFS server of share " + e.key.share()
                        + " does not answer: " + ex.getMessage(), null);
                default -> throw ex.toCsi("checking share " + e.key.share());
            };
        }
    }

    private BoundedIo.Lane lane(NfsSource share) {
        return lanes.computeIfAbsent(share, s -> io.lane("share " + s, s.host(), BLOCKED_PER_SHARE));
    }

    /** How many file-system calls on {@code share} were left blocked in the kernel after their deadlines. */
    int stuckCalls(NfsSource share) {
        BoundedIo.Lane lane = lanes.get(share);
        return lane == null ? 0 : lane.stuck();
    }

    private <T> T io(ShareKey key, Path root, String what, Deadline deadline, ShareCall<T> work) {
        try {
            return lane(key.share()).run(what, deadline, () -> {
                try {
                    return work.run(root);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        } catch (MountException e) {
            throw e.toCsi(what + " on share " + key.share());
        } catch (UncheckedIOException e) {
            throw new CsiException.Internal(what + " on share " + key.share() + ": " + e.getCause(), e.getCause());
        }
    }

    private void mount(ShareKey key, Path path, Deadline deadline) {
        try {
            Files.createDirectories(path);
        } catch (IOException ex) {
            throw new CsiException.Internal("cannot create working mount directory " + path + ": " + ex, ex);
        }
        try {
            mounter.mount(key.share().format(), path, "nfs", key.options(), deadline);
        } catch (MountException ex) {
            throw ex.toCsi("mounting share " + key.share() + " at " + path);
        }
        mounts.incrementAndGet();
        log.info("mounted share {} at {} with {} mount option(s)", key.share(), path, key.options().size());
    }

    private Lease acquireForOneRequest(ShareKey key, Deadline deadline) {
        Path path = workingDir.resolve("request-" + requestCounter.incrementAndGet());
        mount(key, path, deadline);
        return new Lease() {
            @Override public Path root() { return path; }

            @Override public ShareKey key() { return key; }

            @Override
            public <T> T io(String what, Deadline deadline, ShareCall<T> work) {
                return SharePool.this.io(key, path, what, deadline, work);
            }

            @Override public void close() { unmountQuietly(path); }
        };
    }

    private void unmountQuietly(Path path) {
        try {
            mounter.unmount(path, Deadline.after(30, TimeUnit.SECONDS));
            Files.deleteIfExists(path);
        } catch (MountException | IOException ex) {
            log.warn("could not unmount working mount {}: {}", path, ex.getMessage());
        }
    }
}
