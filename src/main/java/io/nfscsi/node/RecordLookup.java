package io.nfscsi.node;

import io.nfscsi.concurrent.BoundedIo;
import io.nfscsi.concurrent.Deadline;
import io.nfscsi.error.CsiException;
import io.nfscsi.fs.RecordFile;
import io.nfscsi.fs.SafePaths;
import io.nfscsi.mount.MountException;
import io.nfscsi.mount.Mounter;
import io.nfscsi.volume.VolumeId;
import io.nfscsi.volume.VolumeRecordFormat;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads, at publish time, the mount options and mode that a volume has now, from its record on the share: the
 * {@code volume_context} a node gets is the PersistentVolume's, fixed at CreateVolume, while ControllerModifyVolume
 * changes the record. The share is mounted read-only at a private directory under the node's state directory for
 * as long as one read of the record takes, then unmounted. Only for volume IDs in this driver's format: static and
 * csi-driver-nfs volumes have no record.
 *
 * <p>A record that cannot be read (the share does not mount, no record, a damaged one, the deadline) is not a
 * failed publish: the volume is published with its context, as before any modify, and a warning names the volume
 * and why.
 */
final class RecordLookup {

    private static final Logger log = LoggerFactory.getLogger(RecordLookup.class);
    /** Below the node's state directory; nothing else is ever mounted there. */
    static final String DIRECTORY = "record-lookups";

    /** What the record says the volume has now. */
    record Settings(List<String> mountOptions, Optional<Integer> mountPermissions) {}

    private final Mounter mounter;
    private final BoundedIo io;
    private final Path dir;

    RecordLookup(Mounter mounter, BoundedIo io, Path stateDir) {
        this.mounter = mounter;
        this.io = io;
        this.dir = stateDir.resolve(DIRECTORY);
        removeLeftovers();
    }

    /**
     * The volume's settings from its record; empty, with a warning, when they cannot be read.
     *
     * @param options  the options to mount the share with (the publish's, read-only)
     * @param deadline the publish's; the lookup takes at most half of what remains, so the publish keeps the rest
     */
    Optional<Settings> read(VolumeId id, List<String> options, Deadline deadline) {
        long half = Math.max(0, deadline.timeRemaining(TimeUnit.NANOSECONDS) / 2);
        Deadline forLookup = deadline.minimum(Deadline.after(half, TimeUnit.NANOSECONDS));
        Path at = dir.resolve(UUID.randomUUID().toString());
        try {
            Files.createDirectories(dir);
            Files.createDirectory(at);
        } catch (IOException e) {
            return warn(id, "cannot create " + at + ": " + e);
        }
        boolean mounted = false;
        try {
            mounter.mount(id.shareSource().format(), at, "nfs", options, forLookup);
            mounted = true;
            Optional<Properties> record = io.run("reading the record of volume " + id.name(), forLookup,
                    () -> readRecord(at, id.name()));
            if (record.isEmpty()) {
                return warn(id, "it has no record on " + id.shareSource());
            }
            Optional<List<String>> recorded = VolumeRecordFormat.currentMountOptions(record.get());
            if (recorded.isEmpty()) {
                return warn(id, "its record holds no mount options that parse");
            }
            return Optional.of(new Settings(recorded.get(), VolumeRecordFormat.currentMountPermissions(record.get())));
        } catch (MountException e) {
            return warn(id, e.getMessage());
        } catch (CsiException e) {
            return warn(id, e.getMessage());
        } finally {
            if (mounted || mounter.table().isMountPoint(at)) {
                unmount(at, deadline);
            }
            removeDirectory(at);
        }
    }

    private static Optional<Properties> readRecord(Path root, String name) throws MountException {
        String relative = VolumeRecordFormat.relativePath(name);
        Path parent = SafePaths.resolveUnder(root, relative.substring(0, relative.lastIndexOf('/')));
        Path file = parent.resolve(relative.substring(relative.lastIndexOf('/') + 1));
        try {
            if (!Files.exists(file, LinkOption.NOFOLLOW_LINKS)) {
                return Optional.empty();
            }
            if (!Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) {
                throw new MountException(MountException.Kind.FAILED, "the record " + relative
                        + " is not a regular file; not read");
            }
            return RecordFile.read(file);
        } catch (RecordFile.DamagedException e) {
            throw new MountException(MountException.Kind.FAILED, "the record " + relative + " is damaged");
        } catch (IOException e) {
            throw new MountException(MountException.Kind.FAILED, "reading the record " + relative + ": " + e);
        }
    }

    private static Optional<Settings> warn(VolumeId id, String why) {
        log.warn("volume {}: cannot read its record ({}); publishing with its volume_context, which lacks any "
                + "change a ControllerModifyVolume made", id.format(), why);
        return Optional.empty();
    }

    private void unmount(Path at, Deadline deadline) {
        // the publish's deadline, or a few seconds when it is spent: the share must not stay mounted here
        Deadline d = deadline.isExpired() ? Deadline.after(10, TimeUnit.SECONDS) : deadline;
        try {
            mounter.unmount(at, d);
        } catch (MountException e) {
            log.warn("unmounting the record lookup at {}: {}; the next start of the driver retries", at,
                    e.getMessage());
        }
    }

    private static void removeDirectory(Path at) {
        try {
            Files.deleteIfExists(at);
        } catch (IOException e) {
            log.warn("cannot remove {}: {}", at, e.toString());
        }
    }

    /** Unmounts and removes what a driver killed during a lookup left behind. */
    private void removeLeftovers() {
        if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
            for (Path at : entries) {
                if (mounter.table().isMountPoint(at)) {
                    unmount(at, Deadline.after(10, TimeUnit.SECONDS));
                }
                removeDirectory(at);
            }
        } catch (IOException e) {
            log.warn("cleaning {}: {}", dir, e.toString());
        }
    }
}
