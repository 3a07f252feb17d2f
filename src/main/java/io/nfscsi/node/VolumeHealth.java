package io.nfscsi.node;

import io.nfscsi.concurrent.Deadline;
import io.nfscsi.error.CsiException;
import io.nfscsi.concurrent.BoundedIo;
import io.nfscsi.mount.MountEntry;
import io.nfscsi.mount.MountException;
import io.nfscsi.mount.MountTable;
import io.nfscsi.mount.Mounter;
import io.nfscsi.posix.FsStats;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.LinkOption;
import io.nfscsi.volume.RequestFields;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Usage and condition of a published volume. The condition is checked on every call: one call that the file
 * system answers from its source ({@link Mounter#liveMountId}: for NFS one GETATTR round trip to the server, which
 * also tells a replaced export and which mount is at the path). Usage (a statvfs, for NFS an FSSTAT, which a server
 * may compute at some cost) is read when {@link StatsCache} has none for that mount. Both block in the kernel while
 * the server does not answer, so they run on {@link BoundedIo}'s platform threads under the caller's deadline; when
 * one overstays, or an earlier one for the same path was abandoned and is still blocked, the answer is an abnormal
 * condition rather than a blocked call, and no usage.
 *
 * <p>The mount table is read again only when the live mount ID at the path is not the one the last read showed
 * there, or when a check fails: a call on an unchanged mount reads neither {@code /proc/self/mountinfo} nor usage.
 */
final class VolumeHealth {

    /** The outcome: usage when the volume answered, and the volume's condition. */
    record Report(Optional<FsStats> usage, boolean abnormal, String message) {}

    /** What the platform thread found: the mount at the path, its usage, and whether that was read just now. */
    private record Live(long mountId, FsStats stats, boolean read) {}

    private final Mounter mounter;
    private final BoundedIo io;
    private final PublishedTargets targets;
    private final Clock clock;
    private final StatsCache usage;
    /** The mount table as last read; replaced when a live mount ID disagrees with it. */
    private volatile MountTable table;
    /** Paths whose check was abandoned at its deadline and is still blocked, with when it started. */
    private final Map<Path, Instant> blocked = new ConcurrentHashMap<>();

    VolumeHealth(Mounter mounter, BoundedIo io, PublishedTargets targets, Clock clock, StatsCache usage) {
        this.mounter = mounter;
        this.io = io;
        this.targets = targets;
        this.clock = clock;
        this.usage = usage;
    }

    /**
     * The spec's "Volume does not exist" for NodeGetVolumeStats is about the volume "on the specified volume_path":
     * a path that is not absolute, does not exist, or is not where this volume is published is NOT_FOUND. Only a
     * missing field is INVALID_ARGUMENT (checked by the caller).
     */
    static Path volumePath(String volumeId, String value) {
        boolean dots = false;
        for (String segment : value.split("/")) {
            dots |= segment.equals(".") || segment.equals("..");
        }
        if (!value.startsWith("/") || value.indexOf('\0') >= 0 || dots) {
            throw notFound(volumeId, "volume_path \"" + value.replace("\0", "\\0")
                    + "\" is not an absolute path without . or .. (kubelet's target path)");
        }
        RequestFields.pathTooLong(value).ifPresent(why -> {
            throw notFound(volumeId, "volume_path " + why);
        });
        try {
            return Path.of(value).normalize();
        } catch (InvalidPathException e) {
            throw notFound(volumeId, "volume_path \"" + value + "\" is not a valid path");
        }
    }

    private static CsiException.NotFound notFound(String volumeId, String why) {
        return new CsiException.NotFound("volume " + volumeId + " does not exist on the specified volume_path: " + why);
    }

    /**
     * Usage and condition of {@code volumeId} at {@code volumePath}.
     *
     * @throws CsiException.NotFound unless {@code volumePath} is a mount point where the records place this volume,
     *                               or an NFS mount point that no record places any volume at (a target published
     *                               before this driver kept records)
     */
    Report check(String volumeId, Path volumePath, Deadline deadline) {
        Instant since = blocked.get(volumePath);
        if (since != null) {
            MountEntry mount = verified(volumeId, volumePath, freshTable());
            usage.forget(volumePath);
            return new Report(Optional.empty(), true, "an earlier check of " + volumePath + " has been blocked for "
                    + Duration.between(since, clock.instant()).toSeconds() + "s: NFS server " + mount.source()
                    + " is not responding");
        }
        Live live;
        try {
            // one platform-thread call: the live check, then usage unless kept for the mount it found
            live = blocking("statx", volumePath, deadline, () -> {
                long id = mounter.liveMountId(volumePath);
                Optional<FsStats> kept = usage.get(volumePath, id);
                return kept.isPresent() ? new Live(id, kept.get(), false)
                        : new Live(id, mounter.statfs(volumePath), true);
            });
        } catch (MountException e) {
            return failed(volumeId, volumePath, e);
        }
        MountTable known = table;
        Optional<MountEntry> there = known == null ? Optional.empty() : known.at(volumePath);
        if (live.mountId() < 0 || there.isEmpty() || there.get().mountId() != live.mountId()) {
            known = freshTable();
        }
        MountEntry mount = verified(volumeId, volumePath, known);
        if (live.read()) {
            usage.put(volumePath, live.mountId(), live.stats());
        }
        FsStats stats = live.stats();
        return new Report(Optional.of(stats), false, "volume is mounted from " + mount.source() + " and responding");
    }

    /** Drops what is kept about {@code path}: the node published or unpublished there. */
    void forget(Path path) {
        usage.forget(path);
        table = null;
    }

    private MountTable freshTable() {
        MountTable t = mounter.table();
        table = t;
        return t;
    }

    /**
     * The mount at {@code volumePath} in {@code table}, checked to be where this volume is published.
     *
     * @throws CsiException.NotFound otherwise
     */
    private MountEntry verified(String volumeId, Path volumePath, MountTable table) {
        Optional<MountEntry> mount = table.at(volumePath);
        if (mount.isEmpty()) {
            // not a mount point, so the lstat cannot block on a dead server
            throw notFound(volumeId, Files.exists(volumePath, LinkOption.NOFOLLOW_LINKS)
                    ? volumePath + " is not a mount point" : volumePath + " does not exist");
        }
        Optional<PublishedTargets.Holder> holder = targets.holderAt(volumePath);
        if (holder.isPresent() && !holder.get().volumeId().equals(volumeId)) {
            throw notFound(volumeId, volumePath + " is where volume " + holder.get().volumeId() + " is published");
        }
        if (holder.isPresent() && !holder.get().publication().mountedIn(table)) {
            throw notFound(volumeId, volumePath + " no longer has " + holder.get().publication().source()
                    + " mounted");
        }
        if (holder.isEmpty() && !mount.get().isNfs()) {
            throw notFound(volumeId, volumePath + " is not an NFS mount point");
        }
        return mount.get();
    }

    /** The report for a check that failed; the mount table is read again to say whether the volume is there. */
    private Report failed(String volumeId, Path volumePath, MountException e) {
        usage.forget(volumePath);
        MountEntry mount = verified(volumeId, volumePath, freshTable());
        return switch (e.kind()) {
            case NO_SUCH_PATH -> throw notFound(volumeId, volumePath + " does not exist");
            case TIMED_OUT -> new Report(Optional.empty(), true, "NFS server " + mount.source()
                    + " did not answer a check of " + volumePath + " before the deadline");
            case STALE -> new Report(Optional.empty(), true, "stale NFS file handle at " + volumePath
                    + ": the export of " + mount.source() + " changed; the pod must be restarted");
            default -> new Report(Optional.empty(), true, e.getMessage());
        };
    }

    /**
     * Runs {@code call} on {@code path} on a platform thread under {@code deadline}. A call abandoned at its deadline
     * marks the path blocked until it returns, so that later checks answer at once.
     */
    private <T> T blocking(String what, Path path, Deadline deadline, BoundedIo.Call<T> call) throws MountException {
        Instant started = clock.instant();
        AtomicBoolean returned = new AtomicBoolean();
        try {
            return io.run(what + " " + path, deadline, () -> {
                try {
                    return call.call();
                } finally {
                    returned.set(true);
                    blocked.remove(path, started);
                }
            });
        } catch (MountException e) {
            if (e.kind() == MountException.Kind.TIMED_OUT) {
                blocked.put(path, started);
                if (returned.get()) { // it returned just now: nothing is left blocked
                    blocked.remove(path, started);
                }
            }
            throw e;
        }
    }
}
