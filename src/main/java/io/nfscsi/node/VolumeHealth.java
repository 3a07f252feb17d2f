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
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Usage and condition of a published volume. A stat of an NFS mount whose server has gone blocks in the kernel,
 * so it runs under a deadline; when it overstays, or an earlier one for the same path is still blocked, the
 * answer is an abnormal condition rather than a blocked call.
 */
final class VolumeHealth {

    /** The outcome: usage when the stat succeeded, and the volume's condition. */
    record Report(Optional<FsStats> usage, boolean abnormal, String message) {}

    private final Mounter mounter;
    private final BoundedIo io;
    private final PublishedTargets targets;
    private final Clock clock;
    /** Paths whose stat is still blocked, with when it started. */
    private final Map<Path, Instant> blocked = new ConcurrentHashMap<>();

    VolumeHealth(Mounter mounter, BoundedIo io, PublishedTargets targets, Clock clock) {
        this.mounter = mounter;
        this.io = io;
        this.targets = targets;
        this.clock = clock;
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
        MountTable table = mounter.table();
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
        Instant since = blocked.get(volumePath);
        if (since != null) {
            return new Report(Optional.empty(), true, "an earlier stat of " + volumePath + " has been blocked for "
                    + Duration.between(since, clock.instant()).toSeconds() + "s: NFS server "
                    + mount.get().source() + " is not responding");
        }
        Instant started = clock.instant();
        blocked.put(volumePath, started);
        boolean returned = false;
        try {
            FsStats stats = io.run("statvfs " + volumePath, deadline, () -> {
                try {
                    return mounter.statfs(volumePath);
                } finally {
                    blocked.remove(volumePath, started);
                }
            });
            returned = true;
            return new Report(Optional.of(stats), false, "volume is mounted from " + mount.get().source()
                    + " and responding");
        } catch (MountException e) {
            returned = e.kind() != MountException.Kind.TIMED_OUT;
            return switch (e.kind()) {
                case NO_SUCH_PATH -> throw notFound(volumeId, volumePath + " does not exist");
                case TIMED_OUT -> new Report(Optional.empty(), true, "NFS server " + mount.get().source()
                        + " did not answer a stat of " + volumePath + " before the deadline");
                case STALE -> new Report(Optional.empty(), true, "stale NFS file handle at " + volumePath
                        + ": the export of " + mount.get().source() + " changed; the pod must be restarted");
                default -> new Report(Optional.empty(), true, e.getMessage());
            };
        } finally {
            if (returned) {
                blocked.remove(volumePath, started);
            }
        }
    }
}
