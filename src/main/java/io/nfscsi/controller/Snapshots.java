package io.nfscsi.controller;

import io.nfscsi.concurrent.Deadline;
import io.nfscsi.concurrent.TreeWorkPool;
import io.nfscsi.controller.SharePool.Lease;
import io.nfscsi.controller.SharePool.ShareKey;
import io.nfscsi.error.CsiException;
import io.nfscsi.fs.RecordFile;
import io.nfscsi.fs.SafePaths;
import io.nfscsi.fs.TreeDeleter;
import io.nfscsi.snapshot.Archiver;
import io.nfscsi.snapshot.Compression;
import io.nfscsi.volume.NfsSource;
import io.nfscsi.volume.SnapshotId;
import io.nfscsi.volume.VolumeId;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Snapshots as archives of volume directories: {@code <share>/<snapshot name>/<archive>.tar.gz}, csi-driver-nfs's
 * layout, with a record of the source and state at {@code <share>/.nfs-csi/snapshots/<name>.properties}.
 * Archiving runs as a background {@link Jobs job}: CreateSnapshot answers {@code ready_to_use: false} at once and
 * true once the archive is complete. The archive is written under a hidden temporary name and renamed when
 * complete, so after a crash the share holds either a finished snapshot or a partial file that the next call
 * removes before starting again.
 */
final class Snapshots {

    private static final Logger log = LoggerFactory.getLogger(Snapshots.class);
    static final String RECORDS = VolumeId.METADATA_DIRECTORY + "/snapshots";
    private static final String PARTIAL = ".partial-";

    /** A snapshot as the CSI calls report it. */
    record Status(SnapshotId id, String sourceVolumeId, long sizeBytes, Instant created, boolean ready) {}

    /** The VolumeSnapshotClass parameters. */
    record Parameters(Optional<NfsSource> share, List<String> mountOptions, Compression compression) {}

    private final SharePool pool;
    private final Provisioner provisioner;
    private final Jobs jobs;
    private final Clock clock;
    private final TreeWorkPool treeWork;
    /** Fences archive jobs and deletes against other controller replicas. */
    private final Owners owners;
    /** The snapshot records ListSnapshots has read, kept while their files stay the same; not kept on restart. */
    private final RecordDirectory<Recorded> records = new RecordDirectory<>(RECORDS, "snapshot", Snapshots::recorded);

    Snapshots(SharePool pool, Provisioner provisioner, Jobs jobs, Clock clock, TreeWorkPool treeWork) {
        this(pool, provisioner, jobs, clock, treeWork, Owners.ofThisHost(clock));
    }

    Snapshots(SharePool pool, Provisioner provisioner, Jobs jobs, Clock clock, TreeWorkPool treeWork,
              Owners owners) {
        this.owners = owners;
        this.pool = pool;
        this.provisioner = provisioner;
        this.jobs = jobs;
        this.clock = clock;
        this.treeWork = treeWork;
    }

    /**
     * Starts the snapshot or reports on it.
     *
     * @throws CsiException.AlreadyExists when {@code name} exists for another source volume
     */
    Status create(String name, VolumeId source, Parameters params, Deadline deadline) {
        NfsSource share = params.share().orElse(source.shareSource());
        String archive = archiveBase(source);
        SnapshotId id;
        try {
            id = SnapshotId.create(share.server(), share.path(), name, archive);
        } catch (VolumeId.InvalidException e) {
            if (!source.name().isEmpty()) {
                throw e;
            }
            // a csi-driver-nfs ID names its archive after its subDir, which may be longer than a name may be
            throw new CsiException.InvalidArgument("source_volume_id: a csi-driver-nfs volume's snapshot archive is "
                    + "named after its subDir, and this subDir is too long for a name: the " + e.getMessage());
        }
        ShareKey key = new ShareKey(share, params.mountOptions());
        try (Lease lease = pool.acquire(key, provisioner.mountDeadline(deadline))) {
            Optional<Properties> record = lease.io("reading the record of snapshot " + name, deadline,
                    root -> readRecord(root, name));
            if (record.isPresent() && !record.get().getProperty("source").equals(source.format())) {
                throw new CsiException.AlreadyExists("snapshot " + name + " exists for source volume "
                        + record.get().getProperty("source") + ", not " + source.format());
            }
            Optional<Status> done = lease.io("claiming the directory of snapshot " + name, deadline, root -> {
                Path dir = SafePaths.resolveUnder(root, name);
                claimDirectory(root, dir, name, source);
                Optional<Path> finished = finishedArchive(dir, archive);
                if (finished.isPresent()) {
                    return Optional.of(status(id, record, finished.get()));
                }
                if (record.isEmpty() && Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)
                        && hasOtherArchive(dir, archive)) {
                    throw new CsiException.AlreadyExists("snapshot " + name
                            + " exists with an archive of another volume");
                }
                return Optional.empty();
            });
            if (done.isPresent()) {
                return done.get();
            }
            Optional<Jobs.Job> running = jobs.running(jobKey(id));
            Instant started;
            if (running.isPresent()) {
                started = running.get().started;
            } else {
                long sourceCapacity = provisioner.requireSource(source, deadline);
                // another replica archiving this snapshot: ABORTED, naming it, and nothing touched
                Ownership hold = owners.acquire(lease, Owners.snapshot(name), deadline);
                started = record.map(r -> Instant.parse(r.getProperty("created"))).orElse(clock.instant());
                Properties fresh = new Properties();
                fresh.setProperty("source", source.format());
                fresh.setProperty("archive", archive);
                fresh.setProperty("compression", params.compression().name());
                fresh.setProperty("created", started.toString());
                fresh.setProperty("sourceCapacity", Long.toString(sourceCapacity));
                try {
                    lease.io("writing the record of snapshot " + name, deadline, root -> {
                        writeRecord(root, name, fresh);
                        return null;
                    });
                } catch (RuntimeException e) {
                    hold.close();
                    throw e;
                }
                Jobs.Job job = jobs.start(jobKey(id), "snapshot", name, "snapshot " + name + " of " + source.format(),
                        sourceTag(source),
                        j -> archive(key, source, id, params.compression(), hold, j));
                if (jobs.await(job, Deadline.after(Math.min(2000,
                        Math.max(0, deadline.timeRemaining(TimeUnit.MILLISECONDS) - 1000)), TimeUnit.MILLISECONDS))) {
                    return lease.io("reading the archive of snapshot " + name, deadline,
                            root -> finishedArchive(SafePaths.resolveUnder(root, name), archive)
                                    .map(f -> status(id, Optional.of(fresh), f)))
                            .orElseThrow(() -> new CsiException.Internal("snapshot " + name
                                    + " finished without an archive"));
                }
            }
            return new Status(id, source.format(), 0, started, false);
        }
    }

    /**
     * The background work, while this replica owns the snapshot ({@code hold}): archive the source's directory into
     * a hidden temporary file named after the hold, then rename it. Partial archives of earlier owners are removed
     * first; a job that lost its hold to another replica stops and removes nothing.
     */
    private void archive(ShareKey key, VolumeId source, SnapshotId id, Compression compression, Ownership hold,
                         Jobs.Job job) throws IOException {
        job.guardWith(hold::check);
        try (hold;
             Lease target = pool.acquire(key, Deadline.after(2, TimeUnit.MINUTES));
             Lease from = provisioner.leaseFor(source, Deadline.after(2, TimeUnit.MINUTES))) {
            SafePaths.createDirectories(target.root(), id.name());
            Path dir = SafePaths.resolveUnder(target.root(), id.name());
            removePartials(dir);
            Path sourceDir = SafePaths.resolveUnder(from.root(), source.subDir());
            Path temp = dir.resolve("." + id.archive() + PARTIAL + hold.token());
            Path done = dir.resolve(id.archive() + compression.suffix());
            try (FileChannel channel = FileChannel.open(temp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE,
                    LinkOption.NOFOLLOW_LINKS);
                 OutputStream out = new BufferedOutputStream(Channels.newOutputStream(channel), 1 << 20)) {
                Archiver.Result r = Archiver.archive(sourceDir, out, compression, treeWork, job::progress);
                out.flush();
                channel.force(true);
                log.info("snapshot {}: archived {} entries, {} bytes ({} skipped)", id.name(), r.entries(), r.bytes(),
                        r.skipped());
            } catch (IOException | RuntimeException e) {
                if (hold.lost() || !hold.confirm()) {
                    throw hold.lostOrUnconfirmed(e);
                }
                Files.deleteIfExists(temp);
                throw e;
            }
            // the archive appears only if the snapshot was not deleted meanwhile (DeleteSnapshot cancels this job),
            // and only while this replica still owns it
            if (!hold.confirm()) {
                throw hold.lostOrUnconfirmed(null);
            }
            try {
                job.commit(() -> {
                    try {
                        Files.move(temp, done, StandardCopyOption.ATOMIC_MOVE);
                        Properties record = readRecord(target.root(), id.name()).orElseGet(Properties::new);
                        record.setProperty("size", Long.toString(Files.size(done)));
                        writeRecord(target.root(), id.name(), record);
                    } catch (IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                });
            } catch (Jobs.CancelledException e) {
                Files.deleteIfExists(temp);
                throw e;
            } catch (CsiException.Aborted e) {
                // the hold was lost or not confirmed (the job's guard): the partial is the new owner's to remove
                throw e;
            } catch (java.io.UncheckedIOException e) {
                Files.deleteIfExists(temp);
                throw e.getCause();
            }
        }
    }

    /**
     * Deletes the snapshot's directory and record; an absent snapshot is fine. An archive job still running for
     * it is cancelled first, and never writes its archive or record afterwards.
     *
     * @throws CsiException.Aborted when the archive job is still stopping at the deadline
     */
    void delete(SnapshotId id, List<String> fallbackOptions, Deadline deadline) {
        if (!jobs.cancel(jobKey(id), deadline)) {
            throw new CsiException.Aborted("snapshot " + id.format() + " is being archived; the archiving is "
                    + "stopping, and the retry deletes the snapshot");
        }
        NfsSource share = id.shareSource();
        ShareKey key = pool.anyMounted(share).orElse(new ShareKey(share, fallbackOptions));
        Lease lease;
        try {
            lease = pool.acquireWithSecretOptions(key, provisioner.mountDeadline(deadline));
        } catch (CsiException.NotFound e) {
            // the server has no such export: the snapshot cannot exist, and the spec answers OK for that
            log.warn("DeleteSnapshot {}: its share does not exist ({}); nothing to delete", id.format(),
                    e.getMessage());
            return;
        }
        try (lease; Ownership _ = owners.acquire(lease, Owners.snapshot(id.name()), deadline)) {
            Optional<SubDirClaims.Claim> claim = lease.io("reading the claim on " + id.name(), deadline,
                    root -> SubDirClaims.read(root, id.name()));
            boolean ours = claim.isPresent() ? claim.get().name().equals(owner(id.name()))
                    : lease.io("looking into " + id.name(), deadline,
                            root -> holdsOnlyArchives(SafePaths.resolveUnder(root, id.name())));
            if (ours) {
                lease.io("deleting snapshot " + id.format(), deadline, root -> {
                    TreeDeleter.delete(root, Path.of(id.name()), treeWork, deadline);
                    SubDirClaims.release(root, id.name(), owner(id.name()));
                    return null;
                });
                log.info("deleted snapshot {}", id.format());
            } else {
                // a snapshot ID can name any directory of the share: never delete a volume through one
                log.warn("DeleteSnapshot {}: {} is not a snapshot's directory ({}); left alone", id.format(),
                        id.name(), claim.map(c -> "it belongs to " + c.name()).orElse("it holds more than archives"));
            }
            lease.io("removing the record of snapshot " + id.format(), deadline, root -> {
                deleteRecord(root, id.name());
                return null;
            });
        }
    }

    /** The tag of an archive job: DeleteVolume of its source waits for it. */
    static String sourceTag(VolumeId source) {
        return "snapshot-of:" + source.format();
    }

    /** The owner a snapshot's directory is claimed for in {@link SubDirClaims}; no volume name has a blank. */
    static String owner(String snapshotName) {
        return "snapshot " + snapshotName;
    }

    /**
     * Claims the snapshot's directory, so that no volume is ever made there and DeleteSnapshot knows it is one.
     *
     * @throws CsiException.AlreadyExists when the directory is a volume's, or holds more than snapshot archives
     */
    private static void claimDirectory(Path root, Path dir, String name, VolumeId source) {
        SubDirClaims.ensureIndexed(root);
        Optional<SubDirClaims.Claim> existing = SubDirClaims.read(root, name);
        if (existing.isEmpty() && !holdsOnlyArchives(dir)) {
            throw new CsiException.AlreadyExists("snapshot " + name + ": the directory " + name
                    + " exists on the share and is not a snapshot's; choose another snapshot name");
        }
        Optional<SubDirClaims.Claim> other = existing.isPresent() ? existing
                : SubDirClaims.claim(root, name, owner(name), sourceTag(source));
        if (other.isPresent() && !other.get().name().equals(owner(name))) {
            throw new CsiException.AlreadyExists("snapshot " + name + ": the directory " + name
                    + " on the share belongs to " + other.get().name());
        }
    }

    /** Whether {@code dir} is absent or holds only regular files that are snapshot archives or partial ones. */
    static boolean holdsOnlyArchives(Path dir) {
        if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
            return !Files.exists(dir, LinkOption.NOFOLLOW_LINKS);
        }
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
            for (Path e : entries) {
                String n = e.getFileName().toString();
                if (!Files.isRegularFile(e, LinkOption.NOFOLLOW_LINKS) || !(n.contains(".tar") || n.contains(PARTIAL))) {
                    return false;
                }
            }
            return true;
        } catch (IOException e) {
            throw new CsiException.Internal("reading snapshot directory " + dir + ": " + e, e);
        }
    }

    /** The snapshot if its archive or a record of it exists. */
    Optional<Status> get(SnapshotId id, Deadline deadline) {
        NfsSource share = id.shareSource();
        ShareKey key = pool.anyMounted(share).orElse(new ShareKey(share, List.of()));
        try (Lease lease = pool.acquire(key, deadline)) {
            return lease.io("reading snapshot " + id.format(), deadline, root -> statusOn(root, id));
        }
    }

    /**
     * A page of the snapshots recorded on the known shares ({@link SharePool#known}), in {@link
     * RecordDirectory.Position} order: at most {@code maxEntries} (0: all) after {@code after}, of those whose source
     * is {@code sourceVolumeId} when that is not empty. Only the records the page looks at are read (a record read
     * before, only when its file was replaced: {@link RecordDirectory}); each archive is looked at live. A record
     * that does not read, or names no archive, is skipped and logged; so is a share that cannot be mounted.
     */
    RecordDirectory.Page<Status> list(Optional<RecordDirectory.Position> after, int maxEntries, String sourceVolumeId,
                                      Deadline deadline) {
        return records.page(pool, SharePool.halfOfRemaining(deadline, java.time.Duration.ofMinutes(2)), after,
                maxEntries, "listing the snapshots", (on, r) -> {
                    if (!sourceVolumeId.isEmpty() && !r.source().equals(sourceVolumeId)) {
                        return Optional.empty();
                    }
                    Optional<Path> finished = finishedArchive(on.root().resolve(r.id().name()), r.id().archive());
                    if (finished.isEmpty()) {
                        return Optional.of(new Status(r.id(), r.source(), 0, r.created(), false));
                    }
                    try {
                        return Optional.of(new Status(r.id(), r.source(), Files.size(finished.get()), r.created(),
                                true));
                    } catch (IOException e) {
                        // deleted since it was found: so is the snapshot
                        return Optional.empty();
                    }
                }, (share, r, e) -> Optional.empty(),
                (share, e) -> log.warn("ListSnapshots: share {} is skipped: {}", share, e.getMessage()));
    }

    /** A snapshot record as the list shows it, but for its archive, which is looked at on every listing. */
    private record Recorded(SnapshotId id, String source, Instant created) {}

    private static Recorded recorded(NfsSource share, String name, Properties r) {
        String archive = r.getProperty("archive");
        if (archive == null) {
            throw new IllegalArgumentException("the record names no archive");
        }
        String created = r.getProperty("created");
        if (created == null) {
            throw new IllegalArgumentException("the record has no creation time");
        }
        return new Recorded(SnapshotId.create(share.server(), share.path(), name, archive),
                r.getProperty("source", ""), Instant.parse(created));
    }

    /** Opens the finished archive of a snapshot for a restore; NOT_FOUND when it has none (yet). */
    Lease leaseArchive(SnapshotId id, Deadline deadline, Path[] archive) {
        NfsSource share = id.shareSource();
        ShareKey key = pool.anyMounted(share).orElse(new ShareKey(share, List.of()));
        Lease lease = pool.acquire(key, deadline);
        Optional<Path> file;
        try {
            file = lease.io("looking for the archive of snapshot " + id.format(), deadline,
                    root -> finishedArchive(SafePaths.resolveUnder(root, id.name()), id.archive()));
        } catch (RuntimeException e) {
            lease.close();
            throw e;
        }
        if (file.isEmpty()) {
            lease.close();
            throw new CsiException.NotFound("snapshot " + id.format() + " has no finished archive");
        }
        archive[0] = file.get();
        return lease;
    }

    /** The source volume's capacity when the snapshot was taken; 0 when unknown (csi-driver-nfs snapshots). */
    long sourceCapacityOf(SnapshotId id, Deadline deadline) {
        NfsSource share = id.shareSource();
        ShareKey key = pool.anyMounted(share).orElse(new ShareKey(share, List.of()));
        try (Lease lease = pool.acquire(key, deadline)) {
            return lease.io("reading the record of snapshot " + id.format(), deadline,
                    root -> readRecord(root, id.name())).map(r -> r.getProperty("sourceCapacity", "0"))
                    .map(Long::parseLong).orElse(0L);
        }
    }

    private Optional<Status> statusOn(Path root, SnapshotId id) {
        Optional<Properties> record = readRecord(root, id.name());
        Path dir = root.resolve(id.name());
        Optional<Path> finished = finishedArchive(dir, id.archive());
        if (finished.isPresent()) {
            return Optional.of(status(id, record, finished.get()));
        }
        return record.map(r -> new Status(id, r.getProperty("source", ""), 0,
                Instant.parse(r.getProperty("created")), false));
    }

    private Status status(SnapshotId id, Optional<Properties> record, Path archive) {
        try {
            Instant created = record.map(r -> Instant.parse(r.getProperty("created")))
                    .orElse(Files.getLastModifiedTime(archive).toInstant());
            return new Status(id, record.map(r -> r.getProperty("source", "")).orElse(""), Files.size(archive),
                    created, true);
        } catch (IOException e) {
            throw new CsiException.Internal("reading snapshot archive " + archive + ": " + e, e);
        }
    }

    /** The complete archive of {@code base} in the snapshot directory, in whichever format is there. */
    static Optional<Path> finishedArchive(Path dir, String base) {
        for (Compression c : Compression.values()) {
            Path p = dir.resolve(base + c.suffix());
            if (Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
                return Optional.of(p);
            }
        }
        return Optional.empty();
    }

    private static boolean hasOtherArchive(Path dir, String base) {
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
            for (Path e : entries) {
                String n = e.getFileName().toString();
                if (!n.startsWith(".") && n.contains(".tar") && !n.startsWith(base + ".tar")) {
                    return true;
                }
            }
            return false;
        } catch (IOException e) {
            throw new CsiException.Internal("reading snapshot directory " + dir + ": " + e, e);
        }
    }

    private static void removePartials(Path dir) throws IOException {
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir, ".*" + PARTIAL + "*")) {
            for (Path p : entries) {
                log.info("removing the partial archive {} of an interrupted snapshot", p);
                Files.deleteIfExists(p);
            }
        }
    }

    /** The archive's base name: the source volume's name, else its subDir (csi-driver-nfs's choice). */
    static String archiveBase(VolumeId source) {
        return source.name().isEmpty() ? source.subDir().replace('/', '-') : source.name();
    }

    static String jobKey(SnapshotId id) {
        return "snapshot\0" + id.server() + "\0" + id.share() + "\0" + id.name();
    }

    // ---- records ----

    static Optional<Properties> readRecord(Path root, String name) {
        Path file = recordFile(root, name);
        try {
            return RecordFile.read(file);
        } catch (IOException e) {
            throw new CsiException.Internal("cannot read snapshot record " + file + ": " + e, e);
        }
    }

    static void writeRecord(Path root, String name, Properties record) {
        try {
            RecordFile.write(recordFile(root, name), record, "nfs-csi snapshot record");
        } catch (IOException e) {
            throw new CsiException.Internal("cannot write snapshot record of " + name + ": " + e, e);
        }
    }

    private static Path recordFile(Path root, String name) {
        return root.resolve(RECORDS).resolve(name + ".properties");
    }

    private static void deleteRecord(Path root, String name) {
        try {
            RecordFile.delete(recordFile(root, name));
        } catch (IOException e) {
            throw new CsiException.Internal("cannot delete snapshot record of " + name + ": " + e, e);
        }
    }
}
