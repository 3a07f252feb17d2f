package io.nfscsi.controller;

import io.nfscsi.concurrent.Deadline;
import io.nfscsi.concurrent.TreeWorkPool;
import io.nfscsi.controller.SharePool.Lease;
import io.nfscsi.controller.SharePool.ShareKey;
import io.nfscsi.controller.VolumeRecords.Record;
import io.nfscsi.error.CsiException;
import io.nfscsi.fs.SafePaths;
import io.nfscsi.fs.TreeCopier;
import io.nfscsi.fs.TreeDeleter;
import io.nfscsi.posix.FsStats;
import io.nfscsi.snapshot.Restorer;
import io.nfscsi.volume.SnapshotId;
import java.io.BufferedInputStream;
import java.io.InputStream;
import io.nfscsi.mount.MountException;
import io.nfscsi.mount.Posix;
import io.nfscsi.volume.MountOptions;
import io.nfscsi.volume.MutableParameters;
import io.nfscsi.volume.NfsSource;
import io.nfscsi.volume.OnDelete;
import io.nfscsi.volume.VolumeId;
import io.nfscsi.volume.VolumeParameters;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Clock;
import java.time.Duration;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Dynamic provisioning on NFS shares: each volume is a directory below a share, described by a record on the
 * share ({@link VolumeRecords}). Every method works through a pooled mount of the share ({@link SharePool}) and
 * touches nothing outside the volume's directory, its record and, on delete, the empty parents it leaves.
 */
final class Provisioner {

    private static final Logger log = LoggerFactory.getLogger(Provisioner.class);
    /** Archive names end with this UTC timestamp, e.g. {@code archived-team-a-data-20261125T231500Z}. */
    static final DateTimeFormatter ARCHIVE_TIME =
            DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'").withZone(ZoneOffset.UTC);
    static final String ARCHIVE_PREFIX = "archived-";

    /** What CreateVolume returns. */
    record Created(VolumeId id, long capacityBytes, Map<String, String> volumeContext) {}

    /** A volume as ListVolumes and ControllerGetVolume show it. */
    record Listed(VolumeId id, long capacityBytes, Map<String, String> volumeContext, boolean abnormal,
                  String message) {}

    private final SharePool pool;
    private final Clock clock;
    private final OnDelete defaultOnDelete;
    private final Duration mountTimeout;
    private final TreeWorkPool treeWork;
    private final Jobs jobs;
    /** Fences fills and deletes against other controller replicas. */
    private final Owners owners;
    /**
     * The volume records ListVolumes has read, kept while their files stay the same; also what it reports while a
     * share is unreachable. Not kept on restart.
     */
    private final RecordDirectory<Listed> volumeRecords =
            new RecordDirectory<>(VolumeRecords.DIRECTORY, "volume", Provisioner::recorded);
    private Snapshots snapshots;

    Provisioner(SharePool pool, Clock clock, OnDelete defaultOnDelete, Duration mountTimeout,
                TreeWorkPool treeWork, Jobs jobs) {
        this(pool, clock, defaultOnDelete, mountTimeout, treeWork, jobs, Owners.ofThisHost(clock));
    }

    Provisioner(SharePool pool, Clock clock, OnDelete defaultOnDelete, Duration mountTimeout,
                TreeWorkPool treeWork, Jobs jobs, Owners owners) {
        this.owners = owners;
        this.pool = pool;
        this.clock = clock;
        this.defaultOnDelete = defaultOnDelete;
        this.mountTimeout = mountTimeout;
        this.treeWork = treeWork;
        this.jobs = jobs;
    }

    /** Restores read snapshot archives through this; set once, before the first call. */
    void useSnapshots(Snapshots snapshots) {
        this.snapshots = snapshots;
    }

    /**
     * Creates the volume's directory and record, or finds them from an earlier call with the same name. A volume
     * filled from a snapshot or another volume is filled by a background job that outlives this call: a call whose
     * deadline comes first is ABORTED ("still filling"), and the provisioner's retry joins the same job.
     *
     * @throws CsiException.AlreadyExists when {@code name} exists with other parameters, another capacity or
     *                                    another content source, or when its directory holds another volume or
     *                                    exists without belonging to any
     * @throws CsiException.NotFound      when the content source does not exist
     * @throws CsiException.OutOfRange    when the capacity is smaller than the content source's
     */
    Created create(String name, VolumeParameters params, List<String> mountFlags, long capacityBytes,
                   ContentSource source, Deadline deadline) {
        return create(name, params, MutableParameters.NONE, mountFlags, capacityBytes, source, deadline);
    }

    /**
     * As {@link #create(String, VolumeParameters, List, long, ContentSource, Deadline)}, with CreateVolume's
     * {@code mutable_parameters}: they take precedence over the parameters of the same meaning, and their
     * {@code mountOptions} over the capabilities' mount flags. The record keeps the effective values, so a repeated
     * CreateVolume with other mutable parameters is ALREADY_EXISTS, as one with other parameters is.
     */
    Created create(String name, VolumeParameters asked, MutableParameters mutable, List<String> mountFlags,
                   long capacityBytes, ContentSource source, Deadline deadline) {
        VolumeParameters params = asked.with(mutable);
        List<String> flags = MountOptions.merge(mountFlags, List.of(), false);
        List<String> options = mutable.mountOptions().map(m -> MountOptions.overlay(flags, m)).orElse(flags);
        VolumeId id = VolumeId.create(params.server(), params.share(), params.subDir(), name, params.onDelete());
        Created created = new Created(id, capacityBytes, params.volumeContext(options));
        ShareKey key = new ShareKey(params.shareSource(), options);
        Optional<Jobs.Job> pending = jobs.find(fillKey(name));
        if (pending.isPresent() && !pending.get().tag.equals(source.key())) {
            throw new CsiException.AlreadyExists("volume " + name + " is being filled from "
                    + ContentSource.describe(pending.get().tag) + ", not from " + ContentSource.describe(source.key()));
        }
        if (pending.isEmpty()) {
            Ownership hold;
            try (Lease lease = pool.acquire(key, mountDeadline(deadline))) {
                Optional<Record> existing = lease.io("reading the record of volume " + name, deadline,
                        root -> VolumeRecords.read(root, name));
                if (existing.isPresent()) {
                    lease.io("checking volume " + name + " against its record", deadline, root -> {
                        requireSame(root, existing.get(), name, params, options, capacityBytes, source);
                        return SafePaths.createDirectories(root, params.subDir());
                    });
                    return created;
                }
                checkSource(source, capacityBytes, deadline);
                if (source instanceof ContentSource.None) {
                    makeEmpty(lease, name, params, options, capacityBytes, deadline);
                    log.info("created volume {} at {}/{}", id.format(), params.shareSource(), params.subDir());
                    return created;
                }
                lease.io("claiming " + params.subDir() + " for volume " + name, deadline,
                        root -> claim(root, name, params.subDir(), source));
                // another replica filling this volume: ABORTED, naming it, and nothing touched
                hold = owners.acquire(lease, Owners.volume(name), deadline);
            }
            pending = Optional.of(jobs.start(fillKey(name),
                    source instanceof ContentSource.FromSnapshot ? "restore" : "clone", name,
                    "filling volume " + name + " from " + describe(source),
                    source.key(), j -> fill(key, name, params, options, capacityBytes, source, hold, j)));
        }
        Jobs.Job job = pending.get();
        if (!jobs.await(job, deadline)) {
            throw new CsiException.Aborted("volume " + name + " is still being filled from " + describe(source)
                    + ": " + job.entries.get() + " entries so far; the retry continues where this call left off");
        }
        return created;
    }

    /** The key of the fill job of the volume {@code name}: the one DeleteVolume cancels. */
    static String fillKey(String name) {
        return "volume\0" + name;
    }

    /** A repeated CreateVolume must ask for what the record says was made, content source included. */
    private static void requireSame(Path root, Record r, String name, VolumeParameters params, List<String> options,
                                    long capacityBytes, ContentSource source) {
        if (!r.complete()) {
            // a damaged record cannot tell; unless the directory asked for is another volume's, answer as for the
            // same request rather than fail every retry
            Optional<SubDirClaims.Claim> claim = SubDirClaims.read(root, params.subDir());
            if (claim.isPresent() && !claim.get().name().equals(name)) {
                throw new CsiException.AlreadyExists("parameters.subDir " + params.subDir()
                        + " is the directory of volume " + claim.get().name() + ", not of " + name);
            }
            log.warn("volume {}: its record is damaged; answering CreateVolume from the request", name);
            return;
        }
        if (!r.parameters().equals(params.canonical()) || !r.mountOptions().equals(options)) {
            throw new CsiException.AlreadyExists("volume " + name + " exists with other parameters: "
                    + r.parameters() + " " + r.mountOptions() + "; asked for " + params.canonical() + " " + options);
        }
        if (r.capacityBytes() != capacityBytes) {
            throw new CsiException.AlreadyExists("volume " + name + " exists with capacity " + r.capacityBytes()
                    + " bytes; asked for " + capacityBytes);
        }
        if (!r.contentSource().equals(source.key())) {
            throw new CsiException.AlreadyExists("volume " + name + " exists from "
                    + ContentSource.describe(r.contentSource()) + "; asked for "
                    + ContentSource.describe(source.key()));
        }
    }

    /**
     * Claims {@code subDir} for the volume, so that no other volume can have it (see {@link SubDirClaims}).
     *
     * @return true when this call made the claim, false when an earlier call for this volume had
     * @throws CsiException.AlreadyExists when another volume holds the directory, or when it exists and belongs
     *                                    to no volume (unless it is a csi-driver-nfs volume of this very name)
     */
    private boolean claim(Path root, String name, String subDir, ContentSource source) {
        SubDirClaims.ensureIndexed(root);
        Optional<SubDirClaims.Claim> previous = SubDirClaims.claim(root, subDir, name, source.key());
        if (previous.isPresent()) {
            SubDirClaims.Claim c = previous.get();
            if (!c.name().equals(name)) {
                throw new CsiException.AlreadyExists("parameters.subDir " + subDir + " is the directory of volume "
                        + c.name() + ": two volumes never share a directory (deleting one would delete the other's "
                        + "data); choose another subDir");
            }
            if (!c.contentSource().equals(source.key())) {
                throw new CsiException.AlreadyExists("volume " + name + " is being created from "
                        + ContentSource.describe(c.contentSource()) + "; asked for "
                        + ContentSource.describe(source.key()));
            }
            return false;
        }
        if (Files.exists(SafePaths.resolveUnder(root, subDir), LinkOption.NOFOLLOW_LINKS)) {
            if (source instanceof ContentSource.None && subDir.equals(name)) {
                // csi-driver-nfs names a volume's directory after the PV: this is a volume it made under this name
                log.info("volume {}: adopting the existing directory {}, which has no record: csi-driver-nfs made "
                        + "it for a volume of this name", name, subDir);
                return true;
            }
            SubDirClaims.release(root, subDir, name);
            throw new CsiException.AlreadyExists("parameters.subDir " + subDir + " already exists and belongs to no "
                    + "volume of this driver: it is never reused for a new volume (deleting the new volume would "
                    + "delete what is there); move it away or choose another subDir");
        }
        return true;
    }

    /**
     * Makes an empty volume: claims its directory, makes it, applies the permissions and writes the record, in one
     * call on the share: one hand-off to a thread of bounded I/O instead of three or four (bench/provision-cycle).
     * On failure removes what this call made and the claim it made. A call abandoned at its deadline leaves at most
     * the claim and the directory, never the record ({@link io.nfscsi.fs.RecordFile} does not place a record once
     * its writer is interrupted): the retry finds its own claim and completes the volume.
     */
    private void makeEmpty(Lease lease, String name, VolumeParameters params, List<String> options,
                           long capacityBytes, Deadline deadline) {
        AtomicBoolean claimedNow = new AtomicBoolean();
        AtomicBoolean made = new AtomicBoolean();
        Record record = record(name, params, options, capacityBytes, ContentSource.NONE);
        try {
            lease.io("creating volume " + name + " in " + params.subDir(), deadline, root -> {
                claimedNow.set(claim(root, name, params.subDir(), ContentSource.NONE));
                made.set(SafePaths.createDirectories(root, params.subDir()));
                if (params.mountPermissions() > 0) {
                    chmodUnder(root, params.subDir(), params.mountPermissions());
                }
                if (Thread.currentThread().isInterrupted()) {
                    throw new InterruptedIOException("not writing the record of volume " + name
                            + ": its caller gave up (deadline)");
                }
                VolumeRecords.write(root, record);
                return null;
            });
        } catch (CsiException.AlreadyExists e) {
            throw e; // the claim said no: nothing was made
        } catch (RuntimeException e) {
            boolean remove = made.get();
            if (remove || claimedNow.get()) {
                try {
                    lease.io("removing what CreateVolume " + name + " made", deadline, root -> {
                        if (remove) {
                            TreeDeleter.delete(root, Path.of(params.subDir()), treeWork, deadline);
                            TreeDeleter.removeEmptyParents(root, Path.of(params.subDir()));
                        }
                        SubDirClaims.release(root, params.subDir(), name);
                        return null;
                    });
                } catch (RuntimeException cleanup) {
                    // a share that stopped answering: the retry finds the claim and the directory and completes them
                    e.addSuppressed(cleanup);
                }
            }
            throw e;
        }
    }

    /**
     * The background work of a restore or clone, while this replica owns the volume ({@code hold}): the volume is
     * built in a staging directory of this hold's own ({@link Staging}) and renamed into place when complete; the
     * record is written last, so it marks a complete volume. A failed or cancelled fill removes what it wrote and
     * the claim; a fill that lost its hold to another replica stops and removes nothing.
     */
    private void fill(ShareKey key, String name, VolumeParameters params, List<String> options, long capacityBytes,
                      ContentSource source, Ownership hold, Jobs.Job job) throws IOException {
        Deadline forever = Deadline.after(30, TimeUnit.DAYS);
        job.guardWith(hold::check);
        try (hold; Lease lease = pool.acquire(key, Deadline.after(2, TimeUnit.MINUTES))) {
            Path root = lease.root();
            Path staging = Staging.of(hold);
            boolean placed = false;
            try {
                Staging.removeOthers(root, hold, treeWork, forever);
                // the directory is claimed by this volume: one without a record is what an interrupted fill left
                if (Files.exists(SafePaths.resolveUnder(root, params.subDir()), LinkOption.NOFOLLOW_LINKS)) {
                    log.info("volume {}: removing what an interrupted fill left in {}", name, params.subDir());
                    TreeDeleter.delete(root, Path.of(params.subDir()), treeWork, forever);
                }
                SafePaths.createDirectories(root, staging.toString());
                Path dir = SafePaths.resolveUnder(root, staging.toString());
                switch (source) {
                    case ContentSource.FromSnapshot(SnapshotId snapshot) -> restore(snapshot, dir, job);
                    case ContentSource.FromVolume(VolumeId volume) -> {
                        try (Lease from = leaseFor(volume, Deadline.after(2, TimeUnit.MINUTES))) {
                            var r = TreeCopier.copy(SafePaths.resolveUnder(from.root(), volume.subDir()), dir,
                                    treeWork, forever, job::progress);
                            log.info("volume {}: cloned {} files, {} directories, {} links, {} bytes ({} skipped)",
                                    name, r.files(), r.directories(), r.symlinks(), r.bytes(), r.skipped());
                        }
                    }
                    case ContentSource.None none -> { }
                }
                place(root, staging, params.subDir(), hold);
                placed = true;
                finish(lease, name, params, options, capacityBytes, source, job, forever);
            } catch (IOException | RuntimeException e) {
                boolean cancelled = job.isCancelled();
                Thread.interrupted(); // a cancel interrupts this thread; the clean-up below must still run
                if (hold.lost() || !hold.confirm()) {
                    // the volume's directory and claim are the new owner's now: only this job's own staging
                    // directory, which no other job ever writes, is removed
                    Staging.remove(root, staging, treeWork, forever,
                            "volume " + name + ": removing " + staging + ", the partial work of a job that lost it");
                    throw hold.lostOrUnconfirmed(e);
                }
                Staging.remove(root, staging, treeWork, forever,
                        "volume " + name + ": removing " + staging + ", the partial work of a failed fill");
                if (placed) {
                    TreeDeleter.delete(root, Path.of(params.subDir()), treeWork, forever);
                }
                TreeDeleter.removeEmptyParents(root, Path.of(params.subDir()));
                SubDirClaims.release(root, params.subDir(), name);
                if (cancelled) {
                    throw new Jobs.CancelledException(job.what);
                }
                throw e;
            }
        }
    }

    /**
     * Renames the complete staging directory to the volume's directory, once this replica has confirmed on the
     * share that it still owns the volume. A directory already there (another owner's finished volume) makes the
     * rename fail rather than be replaced, unless it is empty.
     */
    private static void place(Path root, Path staging, String subDir, Ownership hold) throws IOException {
        if (!hold.confirm()) {
            throw hold.lostOrUnconfirmed(null);
        }
        Path parent = Path.of(subDir).getParent();
        if (parent != null) {
            SafePaths.createDirectories(root, parent.toString());
        }
        Files.move(SafePaths.resolveUnder(root, staging.toString()), SafePaths.resolveUnder(root, subDir),
                StandardCopyOption.ATOMIC_MOVE);
    }

    private void restore(SnapshotId snapshot, Path dir, Jobs.Job job) throws IOException {
        Path[] archive = new Path[1];
        try (Lease _ = snapshots.leaseArchive(snapshot, Deadline.after(2, TimeUnit.MINUTES), archive);
             CountingInputStream read = new CountingInputStream(Files.newInputStream(archive[0],
                     LinkOption.NOFOLLOW_LINKS));
             InputStream in = new BufferedInputStream(read, 1 << 20)) {
            // the archive's size is the one total known before a fill ends: its progress has a percentage
            job.expect(Files.size(archive[0]), read::getByteCount);
            var r = Restorer.restore(in, dir, treeWork, job::progress);
            log.info("restored {} entries, {} bytes from {}", r.entries(), r.bytes(), archive[0]);
        } catch (Restorer.RejectedException e) {
            throw new CsiException.FailedPrecondition("snapshot " + snapshot.format() + " cannot be restored: "
                    + e.getMessage());
        }
    }

    /**
     * Applies the permissions and writes the record: the volume is complete. Within a job the record is written
     * only if the job has not been cancelled (its volume deleted meanwhile).
     */
    private void finish(Lease lease, String name, VolumeParameters params, List<String> options, long capacityBytes,
                        ContentSource source, Jobs.Job job, Deadline deadline) {
        if (params.mountPermissions() > 0) {
            chmod(lease, params.subDir(), params.mountPermissions(), deadline);
        }
        Record record = record(name, params, options, capacityBytes, source);
        if (job == null) {
            lease.io("writing the record of volume " + name, deadline, root -> {
                VolumeRecords.write(root, record);
                return null;
            });
        } else {
            job.commit(() -> VolumeRecords.write(lease.root(), record));
        }
    }

    /** The content source exists, and fits in {@code capacityBytes}. */
    private void checkSource(ContentSource source, long capacityBytes, Deadline deadline) {
        long sourceBytes = switch (source) {
            case ContentSource.FromVolume(VolumeId volume) -> requireSource(volume, deadline);
            case ContentSource.FromSnapshot(SnapshotId snapshot) -> {
                var status = snapshots.get(snapshot, deadline).orElseThrow(() -> new CsiException.NotFound(
                        "snapshot " + snapshot.format() + " does not exist"));
                if (!status.ready()) {
                    throw new CsiException.Unavailable("snapshot " + snapshot.format() + " is not ready yet", null);
                }
                yield snapshots.sourceCapacityOf(snapshot, deadline);
            }
            case ContentSource.None none -> 0;
        };
        if (capacityBytes > 0 && sourceBytes > capacityBytes) {
            throw new CsiException.OutOfRange("capacity_range " + capacityBytes + " bytes is smaller than the source's "
                    + sourceBytes + " bytes");
        }
    }

    private static String describe(ContentSource source) {
        return switch (source) {
            case ContentSource.FromSnapshot(SnapshotId s) -> "snapshot " + s.format();
            case ContentSource.FromVolume(VolumeId v) -> "volume " + v.format();
            case ContentSource.None none -> "nothing";
        };
    }

    /** The source volume's recorded capacity (0 when unknown); NOT_FOUND when its directory is missing. */
    long requireSource(VolumeId source, Deadline deadline) {
        VolumeTarget t = locate(source, List.of(), deadline);
        try (Lease lease = t.lease) {
            requireExists(lease, source, t.record, deadline);
            return t.record.map(Record::capacityBytes).orElse(0L);
        }
    }

    /** A lease on the volume's share, mounted with the options the volume was made with. */
    Lease leaseFor(VolumeId volume, Deadline deadline) {
        return locate(volume, List.of(), deadline).lease;
    }

    /**
     * Deletes, retains or archives the volume as its record (else its ID, else the default) says. Absent: OK. A
     * fill still running for the volume is cancelled first, and never writes its record afterwards. A directory
     * that belongs to another volume (its claim, or this name's record, says so) is left alone: the ID does not
     * name a volume that exists.
     *
     * @throws CsiException.Aborted when the volume's fill is still stopping at the deadline
     */
    void delete(VolumeId id, List<String> fallbackOptions, Deadline deadline) {
        String name = id.volumeName();
        if (!jobs.cancel(fillKey(name), deadline)) {
            throw new CsiException.Aborted("volume " + id.format() + " is being filled; the fill is stopping, "
                    + "and the retry deletes the volume");
        }
        for (String tag : List.of(new ContentSource.FromVolume(id).key(), Snapshots.sourceTag(id))) {
            Optional<Jobs.Job> reading = jobs.runningWithTag(tag);
            if (reading.isPresent()) {
                throw new CsiException.Aborted("volume " + id.format() + " is being read by a job in progress ("
                        + reading.get().what + "); the retry deletes it once that job is done");
            }
        }
        VolumeTarget t;
        try {
            t = locate(id, fallbackOptions, deadline);
        } catch (CsiException.NotFound e) {
            // the server has no such export: nothing of the volume can exist, and the spec answers OK for that
            log.warn("DeleteVolume {}: its share does not exist ({}); nothing to delete", id.format(), e.getMessage());
            return;
        }
        try (Lease lease = t.lease; Ownership hold = owners.acquire(lease, Owners.volume(name), deadline)) {
            // what the volume is, and its removal, each in one call on the share: each call is a hand-off to a
            // thread of bounded I/O (bench/provision-cycle)
            Optional<Boolean> exists = lease.io("checking who owns " + id.subDir(), deadline, root -> {
                // a fill that another replica left behind when it stopped, or crashed
                Staging.removeOthers(root, hold, treeWork, deadline);
                SubDirClaims.ensureIndexed(root);
                Optional<String> other = otherOwner(root, id, t.record);
                if (other.isPresent()) {
                    log.warn("DeleteVolume {}: {}; nothing deleted", id.format(), other.get());
                    return Optional.empty();
                }
                return Optional.of(Files.exists(SafePaths.resolveUnder(root, id.subDir()), LinkOption.NOFOLLOW_LINKS));
            });
            if (exists.isEmpty()) {
                return;
            }
            // what the volume has now: a ControllerModifyVolume may have changed what it was created with
            OnDelete policy = t.record.map(r -> r.current().onDelete())
                    .orElse(id.onDelete() != null ? id.onDelete() : defaultOnDelete);
            lease.io("deleting volume " + id.format(), deadline, root -> {
                switch (policy) {
                    case DELETE -> {
                        if (exists.get()) {
                            deleteTree(root, id, name, deadline);
                        }
                        TreeDeleter.removeEmptyParents(root, Path.of(id.subDir()));
                    }
                    case RETAIN -> log.info("retained volume {} at {}/{}", id.format(), id.shareSource(), id.subDir());
                    case ARCHIVE -> {
                        if (exists.get()) {
                            archive(root, id);
                        }
                    }
                }
                if (Thread.currentThread().isInterrupted()) {
                    return null; // the caller gave up at its deadline: its retry removes the record and the claim
                }
                if (!id.name().isEmpty()) {
                    VolumeRecords.delete(root, id.name());
                }
                // last, so that a directory still being deleted is never claimed by a new volume
                SubDirClaims.release(root, id.subDir(), name);
                // here rather than on the caller's thread: the owner record is on the share
                hold.close();
                return null;
            });
        }
    }

    private void deleteTree(Path root, VolumeId id, String name, Deadline deadline) {
        Jobs.Job tracked = jobs.track("delete", name, "deleting volume " + id.format());
        String outcome = "failed";
        try {
            var result = TreeDeleter.delete(root, Path.of(id.subDir()), treeWork, deadline, tracked::follow);
            outcome = "ok";
            log.info("deleted volume {}: {} files, {} directories", id.format(), result.files(),
                    result.directories());
        } catch (CsiException.DeadlineExceeded e) {
            outcome = "unfinished"; // the retry carries on where this one stopped
            throw e;
        } finally {
            jobs.end(tracked, outcome);
        }
    }

    /**
     * Why the volume's directory is not this volume's, if it is not: another volume's claim holds it, or this
     * name's record names another directory (an ID that was made up, or one from another share layout).
     */
    private static Optional<String> otherOwner(Path root, VolumeId id, Optional<Record> record) {
        Optional<SubDirClaims.Claim> claim = SubDirClaims.read(root, id.subDir());
        if (claim.isPresent() && !claim.get().name().equals(id.volumeName())) {
            return Optional.of("the directory " + id.subDir() + " belongs to volume " + claim.get().name());
        }
        if (record.isPresent() && !record.get().subDir().isEmpty() && !record.get().subDir().equals(id.subDir())) {
            return Optional.of("the record of volume " + id.name() + " names the directory " + record.get().subDir()
                    + ", not " + id.subDir());
        }
        return Optional.empty();
    }

    /**
     * Why the volume does not exist, if it does not. One rule for ControllerGetVolume, ValidateVolumeCapabilities
     * and ControllerExpandVolume: its directory must exist and not be another volume's, and a volume in our ID
     * format must have its record (written when CreateVolume completed, removed by DeleteVolume). A csi-driver-nfs
     * volume has no record: its directory alone says that it exists.
     */
    private static Optional<String> absence(Path root, VolumeId id, Optional<Record> record) {
        Optional<String> other = otherOwner(root, id, record);
        if (other.isPresent()) {
            return other;
        }
        if (!id.legacy() && record.isEmpty()) {
            return Optional.of("it has no record on " + id.shareSource() + " (deleted, or never completed)");
        }
        if (!Files.exists(SafePaths.resolveUnder(root, id.subDir()), LinkOption.NOFOLLOW_LINKS)) {
            return Optional.of("no directory " + id.subDir() + " on " + id.shareSource());
        }
        return Optional.empty();
    }

    private static void requireExists(Lease lease, VolumeId id, Optional<Record> record, Deadline deadline) {
        Optional<String> why = lease.io("looking for volume " + id.format(), deadline,
                root -> absence(root, id, record));
        if (why.isPresent()) {
            throw new CsiException.NotFound("volume " + id.format() + " does not exist: " + why.get());
        }
    }

    private void archive(Path root, VolumeId id) {
        String name = ARCHIVE_PREFIX + id.subDir().replace('/', '-') + "-" + ARCHIVE_TIME.format(clock.instant());
        Path source = SafePaths.resolveUnder(root, id.subDir());
        Path target = root.resolve(name);
        try {
            Files.move(source, target, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new CsiException.Internal("archiving " + id.subDir() + " as " + name + ": " + e, e);
        }
        TreeDeleter.removeEmptyParents(root, Path.of(id.subDir()));
        log.info("archived volume {} as {}/{}", id.format(), id.shareSource(), name);
    }

    /** Records the new capacity; the volume must exist. */
    long expand(VolumeId id, long requiredBytes, Deadline deadline) {
        VolumeTarget t = locate(id, List.of(), deadline);
        try (Lease lease = t.lease) {
            requireExists(lease, id, t.record, deadline);
            long granted = Math.max(requiredBytes, t.record.map(Record::capacityBytes).orElse(0L));
            if (t.record.isPresent() && t.record.get().complete()) {
                Record grown = t.record.get().withCapacity(granted);
                lease.io("writing the record of volume " + id.format(), deadline, root -> {
                    VolumeRecords.write(root, grown);
                    return null;
                });
            }
            return granted;
        }
    }

    /**
     * Applies a ControllerModifyVolume: chmods the volume's directory for {@code mountPermissions} (through the
     * share's lease, under the deadline, never through a symbolic link), then writes the new settings into the
     * record, where DeleteVolume, the controller's later mounts of the share and the node's publishes read them.
     * Asking for what the volume has already is OK and writes nothing. The caller holds the volume's lock.
     *
     * @throws CsiException.NotFound           when the volume does not exist
     * @throws CsiException.InvalidArgument    for a csi-driver-nfs volume: it has no record to keep the settings
     *                                         in, so it supports no mutable parameter
     * @throws CsiException.FailedPrecondition when the volume's record is damaged
     */
    void modify(VolumeId id, MutableParameters changes, Deadline deadline) {
        VolumeTarget t = locate(id, List.of(), deadline);
        try (Lease lease = t.lease) {
            requireExists(lease, id, t.record, deadline);
            if (changes.isEmpty()) {
                return;
            }
            if (t.record.isEmpty()) {
                throw new CsiException.InvalidArgument("volume " + id.format() + " was made by csi-driver-nfs and "
                        + "has no record of this driver to keep mutable parameters in: mutable_parameters are not "
                        + "supported for it; change its StorageClass or PersistentVolume instead");
            }
            Record record = t.record.get();
            if (!record.complete()) {
                throw new CsiException.FailedPrecondition("volume " + id.format() + ": its record on "
                        + id.shareSource() + " is damaged; it cannot take mutable parameters until it is repaired");
            }
            // the class's mountOptions on top of those the volume was created with, option by option
            MutableParameters.Settings now = changes.applyTo(record.current(), record.mountOptions());
            int mode = changes.mountPermissions().orElse(0);
            lease.io("modifying volume " + id.format(), deadline, root -> {
                if (mode > 0) {
                    SafePaths.chmodDirectory(root, id.subDir(), mode);
                }
                if (!now.equals(record.current())) {
                    if (Thread.currentThread().isInterrupted()) {
                        throw new InterruptedIOException("not writing the record of volume " + id.format()
                                + ": its caller gave up (deadline)");
                    }
                    VolumeRecords.write(root, record.withCurrent(now));
                }
                return null;
            });
            log.info("modified volume {}: mountOptions [{}], onDelete {}, mountPermissions {}", id.format(),
                    String.join(",", now.mountOptions()), now.onDelete() == null ? "-" : now.onDelete().value(),
                    Integer.toOctalString(now.mountPermissions()));
        }
    }

    /** The volume's context, for ValidateVolumeCapabilities; NOT_FOUND when the volume does not exist. */
    Map<String, String> existing(VolumeId id, Deadline deadline) {
        VolumeTarget t = locate(id, List.of(), deadline);
        try (Lease lease = t.lease) {
            requireExists(lease, id, t.record, deadline);
            return contextOf(id, t.record);
        }
    }

    /**
     * The volume with its condition. A volume that does not exist (see {@link #absence}) is NOT_FOUND; one that
     * exists but cannot be used is abnormal: its share is unreachable, or its directory was replaced by a file or
     * a symlink.
     */
    Listed get(VolumeId id, Deadline deadline) {
        VolumeTarget t;
        try {
            t = locate(id, List.of(), deadline);
        } catch (CsiException.Unavailable | CsiException.DeadlineExceeded | CsiException.Internal
                 | CsiException.PermissionDenied e) {
            return new Listed(id, 0, contextOf(id, Optional.empty()), true,
                    "share " + id.shareSource() + " is unreachable: " + e.getMessage());
        }
        try (Lease lease = t.lease) {
            boolean directory = lease.io("looking for volume " + id.format(), deadline, root -> {
                try {
                    Optional<String> why = absence(root, id, t.record);
                    if (why.isPresent()) {
                        throw new CsiException.NotFound("volume " + id.format() + " does not exist: " + why.get());
                    }
                    return Files.isDirectory(SafePaths.resolveUnder(root, id.subDir()), LinkOption.NOFOLLOW_LINKS);
                } catch (CsiException.FailedPrecondition symlinkOnTheWay) {
                    return false;
                }
            });
            return new Listed(id, t.record.map(Record::capacityBytes).orElse(0L), contextOf(id, t.record),
                    !directory, directory ? "directory present on " + id.shareSource()
                    : id.subDir() + " on " + id.shareSource() + " is no longer a directory (replaced by a file or "
                    + "a symlink)");
        }
    }

    /**
     * A page of the volumes with a record on the known shares ({@link SharePool#known}), in {@link
     * RecordDirectory.Position} order: at most {@code maxEntries} (0: all) after {@code after}. Only the records of
     * the page are read, and a record already read is read again only when its file was replaced
     * ({@link RecordDirectory}); each volume's condition (is its directory there) is looked at live. A record that
     * does not read is skipped and logged. A share that cannot be mounted is logged and skipped too, but the volumes
     * this controller last read on it stay in the list, abnormal, with the reason.
     */
    RecordDirectory.Page<Listed> list(Optional<RecordDirectory.Position> after, int maxEntries, Deadline deadline) {
        return volumeRecords.page(pool, SharePool.halfOfRemaining(deadline, mountTimeout), after, maxEntries,
                "listing the volumes", (on, v) -> {
                    boolean present = on.isDirectory(v.id().subDir());
                    return Optional.of(new Listed(v.id(), v.capacityBytes(), v.volumeContext(), !present,
                            present ? "directory present" : "directory " + v.id().subDir()
                                    + " is missing, or no longer a directory"));
                }, (share, v, e) -> Optional.of(new Listed(v.id(), v.capacityBytes(), v.volumeContext(), true,
                        "share " + share + " is unreachable: " + e.getMessage())),
                (share, e) -> log.warn("ListVolumes: share {} is skipped: {}; the volumes read on it before are "
                        + "reported abnormal", share, e.getMessage()));
    }

    /** Volume record files ListVolumes has read since start (one used again from memory is not counted). */
    long volumeRecordsRead() {
        return volumeRecords.filesRead();
    }

    /** A volume record as the list shows it, but for the condition, which is looked at on every listing. */
    private static Listed recorded(NfsSource share, String file, java.util.Properties p) {
        Record r = VolumeRecords.decode(p);
        VolumeId id = VolumeId.create(share.server(), share.path(), r.subDir(), r.name(), r.onDelete());
        return new Listed(id, r.capacityBytes(), contextOf(id, Optional.of(r)), false, "");
    }

    /** Bytes available on the share. */
    long capacity(NfsSource share, List<String> mountFlags, Deadline deadline) {
        List<String> options = MountOptions.merge(mountFlags, List.of(), false);
        try (Lease lease = pool.acquire(new ShareKey(share, options), mountDeadline(deadline))) {
            return lease.io("statvfs", deadline, root -> statvfs(root)).availableBytes();
        }
    }

    /**
     * Bytes available on the known shares, each file system counted once ({@link #distinctAvailable}). A share that
     * cannot be mounted or stat'ed is logged and left out.
     */
    long capacityOfKnown(Deadline deadline) {
        List<ShareStat> stats = new ArrayList<>();
        pool.eachKnownShare(SharePool.halfOfRemaining(deadline, mountTimeout), (share, lease, forShare) ->
                stats.add(lease.io("statvfs", forShare, root -> new ShareStat(share.server(),
                        Files.getAttribute(root, "unix:dev", LinkOption.NOFOLLOW_LINKS), statvfs(root)))),
                (share, e) -> log.warn("GetCapacity: share {} is left out of the capacity: {}", share, e.getMessage()));
        return distinctAvailable(stats);
    }

    /** A known share's file system as its pooled mount shows it. */
    record ShareStat(String server, Object device, FsStats fs) {}

    /**
     * The sum of the available bytes of distinct file systems. NFS reports no file-system ID to statvfs (f_fsid is
     * 0), so two shares are taken for one file system when their mounts have one device number (the client shares
     * a superblock between mounts of one server file system with the same options), or when they are on one server
     * and statvfs reports the same size, free and available bytes, and inode counts for both: two directories of
     * one export, mounted with other options. Two distinct file systems with every one of those counts equal are
     * counted once, which errs on the low side.
     */
    static long distinctAvailable(List<ShareStat> stats) {
        int n = stats.size();
        int[] group = new int[n];
        for (int i = 0; i < n; i++) {
            group[i] = i;
            for (int j = 0; j < i; j++) {
                if (sameFileSystem(stats.get(i), stats.get(j))) {
                    group[i] = group[j];
                    break;
                }
            }
        }
        long sum = 0;
        for (int i = 0; i < n; i++) {
            if (group[i] == i) {
                sum += stats.get(i).fs().availableBytes();
            }
        }
        return sum;
    }

    private static boolean sameFileSystem(ShareStat a, ShareStat b) {
        if (a.device().equals(b.device())) {
            return true;
        }
        FsStats x = a.fs();
        FsStats y = b.fs();
        return a.server().equalsIgnoreCase(b.server()) && x.totalBytes() == y.totalBytes()
                && x.usedBytes() == y.usedBytes() && x.availableBytes() == y.availableBytes()
                && x.totalInodes() == y.totalInodes() && x.freeInodes() == y.freeInodes();
    }

    /** The share mounted with the options the volume was made with, and the volume's record if it has one. */
    private record VolumeTarget(Lease lease, Optional<Record> record) {}

    private VolumeTarget locate(VolumeId id, List<String> fallbackOptions, Deadline deadline) {
        NfsSource share = id.shareSource();
        ShareKey probe = pool.anyMounted(share).orElse(new ShareKey(share, fallbackOptions));
        Lease lease = pool.acquireWithSecretOptions(probe, mountDeadline(deadline));
        Optional<Record> record;
        try {
            Lease leased = lease;
            record = id.name().isEmpty() ? Optional.empty() : leased.io("reading the record of volume " + id.name(),
                    deadline, root -> VolumeRecords.read(root, id.name()));
        } catch (RuntimeException e) {
            lease.close();
            throw e;
        }
        if (record.isPresent() && !record.get().current().mountOptions().equals(probe.options())) {
            // the record names the volume's mount options (the StorageClass's, or a modify's): use a mount made
            // with exactly those
            lease.close();
            lease = pool.acquire(new ShareKey(share, record.get().current().mountOptions()), mountDeadline(deadline));
        }
        return new VolumeTarget(lease, record);
    }

    private static Map<String, String> contextOf(VolumeId id, Optional<Record> record) {
        var context = new java.util.TreeMap<String, String>();
        context.put("server", id.server());
        context.put("share", id.share());
        context.put("subDir", id.subDir());
        record.ifPresent(r -> {
            if (!r.mountOptions().isEmpty()) {
                context.put("mountOptions", String.join(",", r.mountOptions()));
            }
            String perms = r.parameters().get("mountPermissions");
            if (perms != null && perms.matches("[0-7]{1,5}") && Integer.parseInt(perms, 8) > 0) {
                context.put("mountPermissions", perms);
            }
            if (r.onDelete() != null) {
                context.put("onDelete", r.onDelete().value());
            }
        });
        return context;
    }

    private static void chmod(Lease lease, String subDir, int mode, Deadline deadline) {
        lease.io("applying mountPermissions " + Integer.toOctalString(mode) + " to " + subDir, deadline, root -> {
            chmodUnder(root, subDir, mode);
            return null;
        });
    }

    /** {@code chmod} of the volume's directory, in a lease's {@link Lease#io}. */
    private static void chmodUnder(Path root, String subDir, int mode) {
        try {
            Posix.chmod(SafePaths.resolveUnder(root, subDir), mode);
        } catch (MountException e) {
            throw e.toCsi("applying mountPermissions " + Integer.toOctalString(mode) + " to " + subDir);
        }
    }

    /** The record of a volume complete now. */
    private Record record(String name, VolumeParameters params, List<String> options, long capacityBytes,
                          ContentSource source) {
        return new Record(name, params.subDir(), capacityBytes, params.canonical(), options, params.onDelete(),
                clock.instant(), source.key());
    }

    /** statvfs of a share's root, in a lease's {@link Lease#io}: an errno becomes the CSI code it stands for. */
    private static FsStats statvfs(Path root) {
        try {
            return Posix.statvfs(root);
        } catch (MountException e) {
            throw e.toCsi("reading the capacity of " + root);
        }
    }

    Deadline mountDeadline(Deadline deadline) {
        return deadline.minimum(Deadline.after(mountTimeout.toNanos(), TimeUnit.NANOSECONDS));
    }
}
