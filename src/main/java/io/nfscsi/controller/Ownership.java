package io.nfscsi.controller;

import io.nfscsi.error.CsiException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This replica's hold on one subject ({@link Owners#acquire}): a heartbeat thread refreshes the record's
 * modification time four times per staleness bound while the work runs. The work calls {@link #check()} as it
 * goes and before its last write: once the hold is lost (the record is gone or names another owner), or cannot
 * be confirmed for half the staleness bound (this process was paused, or the share did not answer), it stops
 * there and cleans up nothing of its object, which belongs to the replica that took over (a fill removes only its
 * own staging directory, {@link Staging}, which no other job writes).
 * <p>
 * The heartbeat runs on a platform thread of its own, one per running job: a touch of a hung share blocks only
 * the heartbeat of the job that works there. That thread is started only when the hold outlives its first
 * heartbeat period: most holds (a DeleteVolume of a small volume) end within milliseconds, and a thread started and
 * stopped for each of them cost more than the rest of the hold (bench/provision-cycle). The one shared thread that
 * starts heartbeat threads touches no share, so a hung share never delays another job's heartbeat.
 */
final class Ownership implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(Ownership.class);

    private final Owners owners;
    private final Path root;
    private final Path file;
    private final OwnerRecord record;
    private final Optional<OwnerRecord> previous;
    private final Runnable onClose;
    private final Duration halfStale;
    private volatile Instant confirmed;
    /** Who took the subject over, once it is lost; null while this replica holds it. */
    private volatile String lostTo;
    private volatile boolean closed;
    private final Thread heartbeat;
    private final ScheduledFuture<?> starting;
    /** Starts the heartbeat threads of the holds that outlive their first period; never touches a share. */
    private static final ScheduledExecutorService STARTER = starter();

    Ownership(Owners owners, Path root, Path file, OwnerRecord record, Optional<OwnerRecord> previous,
              Runnable onClose) {
        this.owners = owners;
        this.root = root;
        this.file = file;
        this.record = record;
        this.previous = previous;
        this.onClose = onClose;
        this.halfStale = owners.staleAfter().dividedBy(2);
        this.confirmed = owners.clock().instant();
        Duration every = owners.staleAfter().dividedBy(4);
        this.heartbeat = Thread.ofPlatform().daemon().name("owner-heartbeat").unstarted(() -> {
            // started one period after the hold was taken: it beats at once, then every period
            while (!closed && lostTo == null) {
                beat();
                LockSupport.parkNanos(every.toNanos());
            }
        });
        this.starting = STARTER.schedule(this::startHeartbeat, every.toNanos(), TimeUnit.NANOSECONDS);
    }

    private static ScheduledExecutorService starter() {
        var starter = new ScheduledThreadPoolExecutor(1,
                r -> Thread.ofPlatform().daemon().name("owner-heartbeat-starter").unstarted(r));
        // a hold closed before its first period leaves nothing queued: the queue holds the live holds only
        starter.setRemoveOnCancelPolicy(true);
        return starter;
    }

    private synchronized void startHeartbeat() {
        if (!closed && lostTo == null) {
            heartbeat.start();
        }
    }

    String subject() {
        return record.subject();
    }

    /** This hold's random value; a job names what it writes after it, so that it never touches another's. */
    String token() {
        return record.token();
    }

    /** The owner this hold took over from, whose partial work the caller cleans; empty for a first owner. */
    Optional<OwnerRecord> previous() {
        return previous;
    }

    /** Whether another replica took the subject over. */
    boolean lost() {
        return lostTo != null;
    }

    /**
     * Refreshes the heartbeat if the record is still this hold's.
     *
     * @return false when the hold is lost, or the share did not take the heartbeat
     */
    synchronized boolean beat() {
        if (lostTo != null || closed) {
            return false;
        }
        Optional<String> token = Owners.readToken(file);
        if (token.isEmpty() || !token.get().equals(record.token())) {
            return lose();
        }
        Instant now = owners.clock().instant();
        try {
            Files.setLastModifiedTime(file, FileTime.from(now));
            confirmed = now;
            return true;
        } catch (NoSuchFileException e) {
            return lose();
        } catch (IOException e) {
            log.warn("{}: the heartbeat did not reach the share: {}", record.subject(), e.toString());
            return false;
        }
    }

    /**
     * Confirms the hold on the share now: its record is still the current owner's (no newer generation), and the
     * heartbeat is refreshed.
     */
    boolean confirm() {
        Optional<Owners.Current> current = owners.current(root, record.subject());
        if (current.isEmpty() || !current.get().record().token().equals(record.token())) {
            synchronized (this) {
                return lose();
            }
        }
        return beat();
    }

    /**
     * Goes on quietly while the hold is confirmed; confirms it on the share when the last heartbeat is older than
     * half the staleness bound.
     *
     * @throws CsiException.Aborted when the hold is lost or cannot be confirmed
     */
    void check() {
        if (lostTo != null || Duration.between(confirmed, owners.clock().instant()).compareTo(halfStale) > 0
                && !confirm()) {
            throw lostOrUnconfirmed(null);
        }
    }

    /** What a job that lost its hold, or could not confirm it, stops with; {@code cause} is what it ran into. */
    CsiException.Aborted lostOrUnconfirmed(Throwable cause) {
        if (cause instanceof CsiException.Aborted already) {
            return already;
        }
        String after = cause == null ? "" : " (its work had failed: " + cause + ")";
        if (lostTo != null) {
            return new CsiException.Aborted(record.subject() + " was taken over by controller replica " + lostTo
                    + "; the job of replica " + owners.replica() + " stopped, leaving the rest to the new owner" + after);
        }
        return new CsiException.Aborted(record.subject() + ": controller replica " + owners.replica()
                + " cannot confirm on the share that it still owns it; its job stopped without cleaning" + after);
    }

    private boolean lose() {
        if (lostTo == null) {
            String to;
            try {
                to = owners.current(root, record.subject()).map(c -> c.record().replica()).orElse("(not known: that owner has finished and released it since)");
            } catch (RuntimeException e) {
                to = "(unknown)";
            }
            lostTo = to;
            log.warn("{}: controller replica {} lost it to {}; its job stops and leaves the rest to the new owner", record.subject(),
                    owners.replica(), lostTo);
        }
        return false;
    }

    /** Stops the heartbeat and removes the record if it is still this hold's. */
    @Override
    public void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
        }
        starting.cancel(false);
        LockSupport.unpark(heartbeat);
        try {
            if (lostTo == null && Owners.readToken(file).map(record.token()::equals).orElse(false)) {
                Files.deleteIfExists(file);
            }
        } catch (IOException e) {
            log.warn("{}: could not remove the owner record {}: {}; it goes stale", record.subject(), file,
                    e.toString());
        } finally {
            onClose.run();
        }
    }
}
