package io.nfscsi.node;

import io.nfscsi.concurrent.BoundedIo;
import io.nfscsi.concurrent.Deadline;
import io.nfscsi.fs.UsageWalk;
import io.nfscsi.mount.MountException;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Executor;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Each published volume's own usage ({@code --volume-usage=walk}), from a walk of its directory ({@link UsageWalk})
 * run in the background, never while a call waits: {@link #figure} answers at once with the last figure found, if
 * any, and starts a new walk when none is in flight for the volume and the last one started at least a TTL ago (so
 * a volume is walked at most once per TTL, failed walks included).
 *
 * <p>Bounded: at most {@link #WALKS_AT_ONCE} walks run at once across the process, each on one platform thread of
 * a {@link BoundedIo} of its own under a deadline of {@link #WALK_TIMEOUT}; a walk that overstays it (a server that
 * stopped answering) is abandoned, keeps its slot while it is blocked in the kernel, and is told to stop as soon
 * as it returns. While {@link #MAX_BLOCKED} walks are blocked, no new walk starts. A volume has at most one walk
 * in flight, abandoned or not: the next starts only once the last one's thread has returned. At most
 * {@link #MAX_ENTRIES} volumes are kept; the one asked about least recently goes first.
 */
final class UsageWalks implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(UsageWalks.class);

    /** The default {@code --volume-usage-ttl}. */
    static final Duration DEFAULT_TTL = Duration.ofMinutes(5);
    static final int WALKS_AT_ONCE = 2;
    /**
     * Ten minutes: about 700,000 entries at the rate bench/volume-usage measured in the test bed (0.9 ms an entry,
     * in user-mode Linux, where every system call is slow; {@code du -s} took 0.6 ms there).
     */
    static final Duration WALK_TIMEOUT = Duration.ofMinutes(10);
    static final int MAX_BLOCKED = 4;
    static final int MAX_ENTRIES = 1024;

    /** Walks a tree; {@link UsageWalk#walk} outside tests. */
    @FunctionalInterface
    interface Walker {
        UsageWalk.Usage walk(Path root, BooleanSupplier stop) throws IOException;
    }

    /** A walk's result: the usage, when it was found (the walk's end) and how long the walk took. */
    record Figure(UsageWalk.Usage usage, Instant asOf, Duration took) {
        Duration age(Instant now) {
            return Duration.between(asOf, now);
        }
    }

    /** One volume: guarded by the {@code UsageWalks} instance. */
    private static final class Entry {
        Figure figure;
        Instant lastStart;
        Walk walk;
        Instant lastAsked;
    }

    /** One walk: not begun, begun (its thread runs it), or cancelled before it began. */
    private static final class Walk {
        private static final int NEW = 0;
        private static final int BEGUN = 1;
        private static final int CANCELLED = 2;

        final String key;
        final Entry entry;
        final Path root;
        final AtomicBoolean stop = new AtomicBoolean();
        final AtomicInteger state = new AtomicInteger(NEW);

        Walk(String key, Entry entry, Path root) {
            this.key = key;
            this.entry = entry;
            this.root = root;
        }
    }

    /** What the walk's thread hands back: a usage, or why there is none. */
    private record Outcome(UsageWalk.Usage usage, IOException failure) {}

    private final Duration ttl;
    private final Clock clock;
    private final Walker walker;
    private final Executor dispatch;
    private final BoundedIo io;
    private final Runnable shutdown;
    private final Map<String, Entry> entries = new HashMap<>();

    /** The driver's: {@link #WALKS_AT_ONCE} dispatching platform threads, walking with {@link UsageWalk}. */
    static UsageWalks create(Duration ttl, Clock clock) {
        AtomicInteger n = new AtomicInteger();
        ThreadPoolExecutor threads = new ThreadPoolExecutor(WALKS_AT_ONCE, WALKS_AT_ONCE, 60, TimeUnit.SECONDS,
                new LinkedBlockingQueue<>(), r -> Thread.ofPlatform().daemon()
                .name("usage-walk-" + n.incrementAndGet()).unstarted(r));
        threads.allowCoreThreadTimeOut(true);
        return new UsageWalks(ttl, clock, UsageWalk::walk, threads, new BoundedIo(MAX_BLOCKED), threads::shutdownNow);
    }

    /**
     * @param dispatch runs each walk's dispatcher, which waits for the walk on {@code io} until its deadline; the
     *                 number of its threads is the number of walks at once
     */
    UsageWalks(Duration ttl, Clock clock, Walker walker, Executor dispatch, BoundedIo io, Runnable shutdown) {
        if (ttl.compareTo(Duration.ofSeconds(1)) < 0) {
            throw new IllegalArgumentException("the usage walk TTL must be at least 1s: " + ttl);
        }
        this.ttl = ttl;
        this.clock = clock;
        this.walker = walker;
        this.dispatch = dispatch;
        this.io = io;
        this.shutdown = shutdown;
    }

    /**
     * The last usage found for {@code key} (a published path) by a walk of {@code root}, at once; empty until the
     * first walk of it completes. Starts a walk when one is due (see the class).
     */
    Optional<Figure> figure(String key, Path root) {
        Instant now = clock.instant();
        Walk started = null;
        Figure figure;
        boolean inFlight;
        synchronized (this) {
            Entry entry = entries.get(key);
            if (entry == null) {
                if (entries.size() >= MAX_ENTRIES) {
                    evictLeastRecentlyAsked();
                }
                entry = new Entry();
                entries.put(key, entry);
            }
            entry.lastAsked = now;
            if (entry.walk == null && (entry.lastStart == null || !now.isBefore(entry.lastStart.plus(ttl)))) {
                started = new Walk(key, entry, root);
                entry.walk = started;
                entry.lastStart = now;
            }
            figure = entry.figure;
            inFlight = entry.walk != null;
        }
        if (started != null) {
            start(started);
        }
        if (log.isDebugEnabled()) {
            log.debug("usage of {}: {}{}", key, figure == null ? "no walk has completed yet" : figure.usage().bytes()
                    + " bytes, " + figure.usage().inodes() + " inodes, found " + figure.age(now).toSeconds()
                    + "s ago by a walk of " + figure.took().toMillis() + "ms", started != null ? "; walk started"
                    : inFlight ? "; a walk is in flight" : "");
        }
        return Optional.ofNullable(figure);
    }

    /** Drops what is kept for {@code key}, and stops its walk: the volume was published or unpublished there. */
    synchronized void forget(String key) {
        Entry entry = entries.remove(key);
        if (entry != null && entry.walk != null) {
            entry.walk.stop.set(true);
        }
    }

    /** Volumes kept. */
    synchronized int size() {
        return entries.size();
    }

    private void evictLeastRecentlyAsked() {
        String oldest = null;
        Instant oldestAsked = null;
        for (Map.Entry<String, Entry> e : entries.entrySet()) {
            if (oldestAsked == null || e.getValue().lastAsked.isBefore(oldestAsked)) {
                oldest = e.getKey();
                oldestAsked = e.getValue().lastAsked;
            }
        }
        if (oldest != null) {
            forget(oldest);
        }
    }

    private void start(Walk walk) {
        try {
            dispatch.execute(() -> run(walk));
        } catch (RejectedExecutionException e) {
            cancel(walk); // shutting down
        }
    }

    /** The dispatcher: waits for the walk until its deadline, on a thread of {@code dispatch}. */
    private void run(Walk walk) {
        Instant started = clock.instant();
        Outcome outcome;
        try {
            outcome = io.run("usage walk of " + walk.root, Deadline.after(WALK_TIMEOUT), () -> {
                if (!walk.state.compareAndSet(Walk.NEW, Walk.BEGUN)) {
                    return null;
                }
                try {
                    return new Outcome(walker.walk(walk.root, walk.stop::get), null);
                } catch (IOException e) {
                    return new Outcome(null, e);
                } finally {
                    ended(walk); // only now, abandoned or not, may the volume's next walk start
                }
            });
        } catch (MountException e) {
            walk.stop.set(true);
            cancel(walk);
            log.warn("usage walk of {} {}; the last figure is kept", walk.root,
                    e.kind() == MountException.Kind.TIMED_OUT ? "abandoned after " + WALK_TIMEOUT.toMinutes()
                            + "m, still blocked in the kernel; no other walk of it starts until it returns"
                            : "not started: " + e.getMessage());
            return;
        } catch (RuntimeException e) {
            cancel(walk);
            log.warn("usage walk of {} failed: {}", walk.root, e.toString());
            return;
        }
        if (outcome == null) {
            return;
        }
        if (outcome.failure() != null) {
            if (!walk.stop.get()) {
                log.warn("usage walk of {} failed: {}; the last figure is kept", walk.root,
                        outcome.failure().getMessage());
            }
            return;
        }
        Instant now = clock.instant();
        Figure figure = new Figure(outcome.usage(), now, Duration.between(started, now));
        synchronized (this) {
            if (entries.get(walk.key) == walk.entry) {
                walk.entry.figure = figure;
            }
        }
        log.debug("usage walk of {}: {} bytes, {} inodes ({} directories) in {}ms", walk.root,
                outcome.usage().bytes(), outcome.usage().inodes(), outcome.usage().directories(),
                figure.took().toMillis());
    }

    /** A walk that never began: its volume may start another. */
    private void cancel(Walk walk) {
        if (walk.state.compareAndSet(Walk.NEW, Walk.CANCELLED)) {
            ended(walk);
        }
    }

    private synchronized void ended(Walk walk) {
        if (walk.entry.walk == walk) {
            walk.entry.walk = null;
        }
    }

    /** Stops taking walks and tells those in flight to stop. */
    @Override
    public void close() {
        synchronized (this) {
            entries.values().forEach(e -> {
                if (e.walk != null) {
                    e.walk.stop.set(true);
                }
            });
        }
        shutdown.run();
    }
}
