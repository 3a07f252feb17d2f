package io.nfscsi.controller;

import io.nfscsi.concurrent.Deadline;
import io.nfscsi.error.CsiException;
import io.nfscsi.fs.RecordFile;
import io.nfscsi.volume.VolumeId;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Fences background jobs between controller replicas. Each sidecar elects its own leader, so after a lease moves
 * two replicas can work on one volume or snapshot; whoever does must own it first, through a record on the share
 * ({@code <share>/.nfs-csi/owners/<sha256 of subject>.<generation>}, see {@link OwnerRecord}) whose modification
 * time the owner refreshes while it works (its heartbeat, {@link Ownership}).
 * <p>
 * Of the records of one subject the one of the highest generation is the owner. A replica that finds a live owner
 * is ABORTED, naming it, and touches nothing. An owner is stale when its heartbeat is older than the staleness
 * bound, by this replica's clock, or when this replica has seen the same heartbeat for that long (so a clock that
 * runs behind cannot keep a dead owner alive); a record of an earlier process of this very replica (same
 * {@code --replica-id}, another instance) is stale at once, since a replica runs one process at a time. A stale
 * owner is taken over by linking a record of the next generation: {@code link(2)} fails when the name exists,
 * atomically on NFS as on a local file system, so exactly one taker wins; the taker then removes the older
 * records, and their owners find their files gone at their next heartbeat.
 * <p>
 * What the taker cleans is the caller's business; {@link Ownership#previous()} says whether there was an owner.
 * A record is written whole to a temporary file that is then linked; a crash between the two leaves that file,
 * which {@link InterruptedWrites} removes.
 */
final class Owners {

    private static final Logger log = LoggerFactory.getLogger(Owners.class);
    static final String DIRECTORY = VolumeId.METADATA_DIRECTORY + "/owners";

    /** A heartbeat seen, and since when this replica has seen it unchanged. */
    private record Seen(String token, FileTime heartbeat, Instant since) {}

    /** The current owner's record, its heartbeat, and its file. */
    record Current(OwnerRecord record, Instant heartbeat, Path file) {}

    private final String replica;
    private final String instance;
    private final Clock clock;
    private final Duration staleAfter;
    private final Map<Path, Seen> seen = new ConcurrentHashMap<>();
    /** The subjects this process owns now, by share root: a second job of this process never takes them. */
    private final java.util.Set<String> held = ConcurrentHashMap.newKeySet();

    /**
     * @param replica    this replica's {@code --replica-id}; two processes running at once must never share one
     * @param staleAfter an owner whose heartbeat is older than this is taken over; heartbeats come four times as
     *                   often
     */
    Owners(String replica, Clock clock, Duration staleAfter) {
        if (replica == null || replica.isBlank()) {
            throw new IllegalArgumentException("a replica id must not be blank");
        }
        if (staleAfter.compareTo(Duration.ofSeconds(1)) < 0) {
            throw new IllegalArgumentException("the staleness bound must be at least 1s, not " + staleAfter);
        }
        this.replica = replica;
        this.instance = UUID.randomUUID().toString().substring(0, 8);
        this.clock = clock;
        this.staleAfter = staleAfter;
    }

    /** The staleness bound of {@code --owner-stale-after}'s default. */
    static final Duration DEFAULT_STALE_AFTER = Duration.ofMinutes(1);

    /** Owners for a replica named after this host, as {@code --replica-id} defaults to. */
    static Owners ofThisHost(Clock clock) {
        return new Owners(ControllerSettings.Fencing.hostName(), clock, DEFAULT_STALE_AFTER);
    }

    String replica() {
        return replica;
    }

    Duration staleAfter() {
        return staleAfter;
    }

    Clock clock() {
        return clock;
    }

    /** What the volume's fill job (and its deletion) own. */
    static String volume(String name) {
        return "volume " + name;
    }

    /** What the snapshot's archive job (and its deletion) own. */
    static String snapshot(String name) {
        return "snapshot " + name;
    }

    /** What the archive janitor owns while it removes an archived volume. */
    static String archive(String entry) {
        return "archive " + entry;
    }

    /**
     * {@link #acquire(Path, String)} on a leased share, under {@code deadline} (the share's lane of bounded I/O). An
     * ownership that is taken after the caller gave up at its deadline is closed at once, so that an abandoned call
     * never leaves a live heartbeat behind.
     */
    Ownership acquire(SharePool.Lease lease, String subject, Deadline deadline) {
        AtomicReference<Object> handoff = new AtomicReference<>();
        Object abandoned = new Object();
        try {
            return lease.io("taking ownership of " + subject, deadline, root -> {
                Ownership taken = acquire(root, subject);
                if (!handoff.compareAndSet(null, taken)) {
                    taken.close();
                }
                return taken;
            });
        } catch (RuntimeException e) {
            if (handoff.getAndSet(abandoned) instanceof Ownership late) {
                late.close();
            }
            throw e;
        }
    }

    /**
     * Takes {@code subject} on the share at {@code root} for this replica; the heartbeat starts at once. Close the
     * ownership when the work is done.
     *
     * @throws CsiException.Aborted when another replica owns it and its heartbeat is live, or took it at the same
     *                              moment
     */
    Ownership acquire(Path root, String subject) {
        String local = root + "\0" + subject;
        if (!held.add(local)) {
            throw new CsiException.Aborted(subject + " is being worked on by another job of this controller replica ("
                    + replica + "); retry");
        }
        try {
            return take(root, subject, () -> held.remove(local));
        } catch (RuntimeException e) {
            held.remove(local);
            throw e;
        }
    }

    private Ownership take(Path root, String subject, Runnable onClose) {
        String key = key(subject);
        Path dir = root.resolve(DIRECTORY);
        OwnerRecord mine = null;
        for (int attempt = 0; attempt < 3; attempt++) {
            Optional<Current> current = current(root, subject);
            if (current.isPresent()) {
                Optional<String> stale = staleness(current.get());
                if (stale.isEmpty()) {
                    throw busy(subject, current.get());
                }
                log.info("{}: taking over from controller replica {}: {}", subject, current.get().record().replica(),
                        stale.get());
            }
            long generation = current.map(c -> c.record().generation() + 1).orElse(1L);
            mine = new OwnerRecord(subject, replica, instance, UUID.randomUUID().toString(), generation,
                    clock.instant());
            Path file = dir.resolve(key + "." + generation);
            if (link(file, mine)) {
                seen.remove(file);
                heartbeat(file);
                current.ifPresent(c -> removeOlder(dir, key, generation));
                return new Ownership(this, root, file, mine, current.map(Current::record), onClose);
            }
        }
        throw new CsiException.Aborted(subject + " is being taken over by another controller replica at this "
                + "moment; retry");
    }

    /**
     * The owner of {@code subject}, when it is another replica's and live: a caller that only looks (the janitor)
     * leaves such an object alone.
     */
    Optional<Current> liveOther(Path root, String subject) {
        return current(root, subject).filter(c -> staleness(c).isEmpty());
    }

    /** The record of the highest generation, if any; a record that does not read counts as a live unknown owner. */
    Optional<Current> current(Path root, String subject) {
        String key = key(subject);
        Path dir = root.resolve(DIRECTORY);
        if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
            return Optional.empty();
        }
        long best = 0;
        Path bestFile = null;
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, key + ".*")) {
            for (Path f : files) {
                long generation = generation(f.getFileName().toString(), key);
                if (generation > best) {
                    best = generation;
                    bestFile = f;
                }
            }
        } catch (IOException e) {
            throw new CsiException.Internal("cannot list the owners of " + subject + " in " + dir + ": " + e, e);
        }
        if (bestFile == null) {
            return Optional.empty();
        }
        try {
            // reading the content first revalidates the file's attributes (NFS close-to-open), so the mtime is fresh
            String text = Files.readString(bestFile, StandardCharsets.UTF_8);
            Instant heartbeat = Files.readAttributes(bestFile, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS)
                    .lastModifiedTime().toInstant();
            OwnerRecord record;
            try {
                record = OwnerRecord.parse(text);
            } catch (IllegalArgumentException e) {
                log.warn("the owner record {} is damaged ({}); treating it as an unknown replica's", bestFile,
                        e.getMessage());
                record = new OwnerRecord(subject, "unknown", "unknown", "damaged", best, heartbeat);
            }
            return Optional.of(new Current(record, heartbeat, bestFile));
        } catch (NoSuchFileException e) {
            // its owner released it, or a taker removed it, since the listing: look again
            return current(root, subject);
        } catch (IOException e) {
            throw new CsiException.Internal("cannot read the owner record " + bestFile + ": " + e, e);
        }
    }

    /** Why the owner is stale, or empty while it is live. */
    private Optional<String> staleness(Current c) {
        OwnerRecord r = c.record();
        if (r.replica().equals(replica)) {
            // this process's jobs are known to Jobs; a record of this replica without one is a leftover
            return Optional.of(r.instance().equals(instance) ? "a leftover of this process"
                    : "an earlier process of this replica (instance " + r.instance() + ")");
        }
        Instant now = clock.instant();
        Duration age = Duration.between(c.heartbeat(), now);
        if (age.compareTo(staleAfter) > 0) {
            return Optional.of("its heartbeat is " + age.toSeconds() + "s old, more than " + staleAfter.toSeconds()
                    + "s");
        }
        FileTime beat = FileTime.from(c.heartbeat());
        Seen s = seen.compute(c.file(), (f, old) -> old != null && old.token().equals(r.token())
                && old.heartbeat().equals(beat) ? old : new Seen(r.token(), beat, now));
        Duration unchanged = Duration.between(s.since(), now);
        if (unchanged.compareTo(staleAfter) > 0) {
            return Optional.of("its heartbeat has not moved for " + unchanged.toSeconds() + "s, more than "
                    + staleAfter.toSeconds() + "s");
        }
        forgetOld(now);
        return Optional.empty();
    }

    private CsiException.Aborted busy(String subject, Current c) {
        long age = Math.max(0, Duration.between(c.heartbeat(), clock.instant()).toSeconds());
        return new CsiException.Aborted(subject + " is being worked on by controller replica " + c.record().replica()
                + " (heartbeat " + age + "s ago); this replica touches nothing of it until that owner has been "
                + "silent for " + staleAfter.toSeconds() + "s");
    }

    /** Observations of owners not looked at for long are of objects nobody asks about any more. */
    private void forgetOld(Instant now) {
        if (seen.size() > 1024) {
            seen.values().removeIf(s -> Duration.between(s.since(), now).compareTo(staleAfter.multipliedBy(10)) > 0);
        }
    }

    /** The first heartbeat, by this replica's clock as every later one (the server set the file's time). */
    private void heartbeat(Path file) {
        try {
            Files.setLastModifiedTime(file, FileTime.from(clock.instant()));
        } catch (IOException e) {
            log.warn("{}: the first heartbeat did not reach the share: {}", file, e.toString());
        }
    }

    /**
     * Links a complete record to {@code file}; false when the name exists with another record (a rival won). The
     * record is a {@link RecordFile#claimBytes claim}: its temporary file is named after this replica, so that a
     * crash between writing and removing it leaves nothing for good ({@link InterruptedWrites}).
     */
    private static boolean link(Path file, OwnerRecord record) {
        try {
            if (RecordFile.claimBytes(file, record.format().getBytes(StandardCharsets.UTF_8))) {
                return true;
            }
            // a retransmitted link that had succeeded answers EEXIST too: the record says whose it is
            return readToken(file).map(record.token()::equals).orElse(false);
        } catch (IOException e) {
            throw new CsiException.Internal("cannot write the owner record " + file + ": " + e, e);
        }
    }

    /** The token in {@code file}; empty when it is gone or does not read. */
    static Optional<String> readToken(Path file) {
        try {
            return Optional.of(OwnerRecord.parse(Files.readString(file, StandardCharsets.UTF_8)).token());
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException | IllegalArgumentException e) {
            log.debug("owner record {} does not read: {}", file, e.toString());
            return Optional.empty();
        }
    }

    /** Removes the records of the generations before {@code generation}: their owners find them gone. */
    private static void removeOlder(Path dir, String key, long generation) {
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, key + ".*")) {
            for (Path f : files) {
                long g = generation(f.getFileName().toString(), key);
                if (g > 0 && g < generation) {
                    Files.deleteIfExists(f);
                }
            }
        } catch (IOException e) {
            // a leftover of an older generation never wins over the newer one; the next take-over removes it
            log.warn("could not remove the older owner records of {}: {}", key, e.toString());
        }
    }

    /** The generation in a record's file name, 0 for a name that is not one. */
    private static long generation(String fileName, String key) {
        String suffix = fileName.substring(Math.min(fileName.length(), key.length() + 1));
        if (!fileName.startsWith(key + ".") || suffix.isEmpty() || suffix.length() > 18
                || !suffix.chars().allMatch(Character::isDigit)) {
            return 0;
        }
        return Long.parseLong(suffix);
    }

    /** The file-name stem of a subject's records. */
    static String key(String subject) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(
                    subject.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
