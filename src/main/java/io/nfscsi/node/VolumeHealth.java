package io.nfscsi.node;

import io.grpc.Deadline;
import io.nfscsi.error.CsiException;
import io.nfscsi.mount.BoundedIo;
import io.nfscsi.mount.MountEntry;
import io.nfscsi.mount.MountException;
import io.nfscsi.mount.Mounter;
import io.nfscsi.mount.Posix;
import java.nio.file.Files;
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
    record Report(Optional<Posix.FsStats> usage, boolean abnormal, String message) {}

    private final Mounter mounter;
    private final BoundedIo io;
    private final Clock clock;
    /** Paths whose stat is still blocked, with when it started. */
    private final Map<Path, Instant> blocked = new ConcurrentHashMap<>();

    VolumeHealth(Mounter mounter, BoundedIo io, Clock clock) {
        this.mounter = mounter;
        this.io = io;
        this.clock = clock;
    }

    Report check(Path volumePath, Deadline deadline) {
        Optional<MountEntry> mount = mounter.table().at(volumePath);
        if (mount.isEmpty()) {
            if (!Files.exists(volumePath, LinkOption.NOFOLLOW_LINKS)) {
                throw new CsiException.NotFound("volume_path " + volumePath + " does not exist");
            }
            return new Report(Optional.empty(), true, "volume_path " + volumePath + " is not a mount point");
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
            Posix.FsStats stats = io.run("statvfs " + volumePath, deadline, () -> {
                try {
                    return Posix.statvfs(volumePath);
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
                case NO_SUCH_PATH -> throw new CsiException.NotFound("volume_path " + volumePath + " does not exist");
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
