package io.nfscsi.node;

import io.nfscsi.concurrent.Deadline;
import io.nfscsi.csi.v1.Csi.VolumeCapability.AccessMode.Mode;
import io.nfscsi.error.CsiException;
import io.nfscsi.concurrent.BoundedIo;
import io.nfscsi.mount.MountEntry;
import io.nfscsi.mount.MountException;
import io.nfscsi.mount.Mounter;
import io.nfscsi.mount.Posix;
import io.nfscsi.volume.NfsSource;
import java.io.IOException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Mounts an NFS export at a target path and takes it away again. It touches the target path and nothing else: it
 * creates only the target's last component and removes only that, and only when it is an empty directory. It keeps
 * {@link PublishedTargets} in step, so that the access-mode rules hold across target paths and restarts.
 *
 * <p>The spec's rules for a second NodePublishVolume of a volume on this node: at the same target with the same
 * arguments, OK; at the same target with other arguments (export, read-only flag, access mode), ALREADY_EXISTS ("Volume
 * published but is incompatible"); at another target, OK for SINGLE_NODE_MULTI_WRITER and the MULTI_NODE modes and
 * FAILED_PRECONDITION for the modes that allow one publication per node (see {@link
 * PublishedTargets.Publication#exclusive}), whichever of the two publications has it.
 */
final class Publisher {

    private static final Logger log = LoggerFactory.getLogger(Publisher.class);
    private static final int MAX_STACKED_UNMOUNTS = 8;

    /** What to mount where, already validated. */
    record Request(String volumeId, Path target, NfsSource source, List<String> options, boolean readOnly,
                   int mountPermissions, Mode mode) {

        PublishedTargets.Publication record() {
            return new PublishedTargets.Publication(target, mode, readOnly, source);
        }
    }

    private final Mounter mounter;
    private final BoundedIo io;
    private final PublishedTargets targets;

    Publisher(Mounter mounter, BoundedIo io, PublishedTargets targets) {
        this.mounter = mounter;
        this.io = io;
        this.targets = targets;
    }

    /**
     * Publishes {@code p}; the caller holds the volume's lock.
     *
     * @param deadline      for the mount and the chmod
     * @param probeDeadline for the stat of a target that is already mounted (the stale-handle check)
     */
    void publish(Request p, Deadline deadline, Deadline probeDeadline) {
        Optional<MountEntry> existing = mounter.table().at(p.target());
        if (existing.isPresent()) {
            republish(p, existing.get(), deadline, probeDeadline);
            return;
        }
        refuseSecondTarget(p);
        // recorded before mounting: a crash after the mount must not leave a publication that nobody knows of
        targets.put(p.volumeId(), p.record());
        boolean created = false;
        try {
            created = createTarget(p.target());
            mountAndApplyPermissions(p, deadline);
        } catch (RuntimeException e) {
            targets.remove(p.volumeId(), p.target());
            if (created) {
                removeEmptyDirectory(p.target());
            }
            throw e;
        }
        log.info("volume {} published at {} ({}, {})", p.volumeId(), p.target(), p.mode(),
                p.readOnly() ? "read-only" : "read-write");
    }

    /** The target is a mount point already: the same publication (OK), a stale one (repaired), or a conflict. */
    private void republish(Request p, MountEntry e, Deadline deadline, Deadline probeDeadline) {
        if (!(e.isNfs() && p.source().matchesPath(e.source()) && e.readOnly() == p.readOnly())) {
            throw new CsiException.AlreadyExists("target_path " + p.target() + " already has " + e.source()
                    + " (" + e.fsType() + ", " + (e.readOnly() ? "ro" : "rw") + ") mounted; asked for "
                    + p.source() + (p.readOnly() ? " read-only" : " read-write"));
        }
        Optional<PublishedTargets.Holder> holder = targets.holderAt(p.target());
        if (holder.isPresent() && !holder.get().volumeId().equals(p.volumeId())) {
            throw new CsiException.AlreadyExists("target_path " + p.target() + " already holds volume "
                    + holder.get().volumeId() + "; asked for volume " + p.volumeId());
        }
        if (holder.isPresent() && holder.get().publication().mode() != p.mode()) {
            throw new CsiException.AlreadyExists("volume " + p.volumeId() + " is already published at target_path "
                    + p.target() + " with access mode " + holder.get().publication().mode() + "; asked for "
                    + p.mode());
        }
        if (stale(p.target(), probeDeadline)) {
            log.warn("volume {} at {} answers with a stale file handle (the export {} was replaced on the server):"
                    + " unmounting it and mounting it again", p.volumeId(), p.target(), p.source());
            unmountAll(p.target(), deadline);
            try {
                mountAndApplyPermissions(p, deadline);
            } catch (RuntimeException ex) {
                targets.remove(p.volumeId(), p.target());
                removeEmptyDirectory(p.target());
                throw ex;
            }
            log.info("volume {} mounted again at {}", p.volumeId(), p.target());
        } else if (!p.source().matches(e.source())) {
            // NFSv4 shows the host name of the server's first mount (client trunking); same export
            log.info("volume {} already published at {} (the kernel names the server {})", p.volumeId(),
                    p.target(), e.source());
        } else {
            log.info("volume {} already published at {}", p.volumeId(), p.target());
        }
        if (holder.isEmpty() || !holder.get().publication().equals(p.record())) {
            // a target mounted before this driver kept records, or by a run whose record was lost: adopt it
            targets.put(p.volumeId(), p.record());
        }
    }

    /** FAILED_PRECONDITION when the volume is published at another target and either access mode forbids two. */
    private void refuseSecondTarget(Request p) {
        List<PublishedTargets.Publication> others = targets.of(p.volumeId()).stream()
                .filter(o -> !o.target().equals(p.target())).toList();
        if (others.isEmpty()) {
            return;
        }
        Optional<PublishedTargets.Publication> exclusive = others.stream()
                .filter(o -> PublishedTargets.Publication.exclusive(o.mode())).findFirst();
        if (exclusive.isPresent()) {
            throw new CsiException.FailedPrecondition("volume " + p.volumeId() + " is already published on this node"
                    + " at target_path " + exclusive.get().target() + " with access mode " + exclusive.get().mode()
                    + ", which allows one target path per node; unpublish it there before publishing it at "
                    + p.target());
        }
        if (PublishedTargets.Publication.exclusive(p.mode())) {
            throw new CsiException.FailedPrecondition("volume " + p.volumeId() + " is already published on this node"
                    + " at target_path " + others.getFirst().target() + "; access mode " + p.mode()
                    + " allows one target path per node, so it cannot also be published at " + p.target());
        }
    }

    /**
     * Whether the mounted target answers a stat with ESTALE. A target whose server does not answer before {@code
     * deadline} is not stale: a new mount would hang the same way, and unmounting would take the files away from a
     * pod that may still have them open, so it is left as it is.
     */
    private boolean stale(Path target, Deadline deadline) {
        try {
            io.run("statvfs " + target, deadline, () -> mounter.statfs(target));
            return false;
        } catch (MountException e) {
            if (e.kind() == MountException.Kind.STALE) {
                return true;
            }
            log.warn("checking {} for a stale file handle: {}; leaving the mount as it is", target, e.getMessage());
            return false;
        }
    }

    private void mountAndApplyPermissions(Request p, Deadline deadline) {
        try {
            mounter.mount(p.source().format(), p.target(), "nfs", p.options(), deadline);
        } catch (MountException e) {
            throw e.toCsi("mounting " + p.source() + " at target_path " + p.target());
        }
        if (p.mountPermissions() > 0 && !p.readOnly()) {
            try {
                applyPermissions(p.target(), p.mountPermissions(), deadline);
            } catch (CsiException e) {
                // leave no half-done publish behind: a retry must redo the chmod, not find a matching mount
                unmountAll(p.target(), deadline);
                throw e;
            }
        }
    }

    /**
     * Unpublishes {@code volumeId} from {@code target}; the caller holds the volume's lock.
     *
     * @throws CsiException.NotFound when the records show another volume mounted at {@code target}: that mount is
     *                               not this call's to take away
     */
    void unpublish(String volumeId, Path target, Deadline deadline) {
        Optional<PublishedTargets.Holder> holder = targets.holderAt(target);
        if (holder.isPresent() && !holder.get().volumeId().equals(volumeId)
                && holder.get().publication().mountedIn(mounter.table())) {
            throw new CsiException.NotFound("volume " + volumeId + " is not published at target_path " + target
                    + " (volume " + holder.get().volumeId() + " is)");
        }
        unmountAll(target, deadline);
        targets.remove(volumeId, target);
        removeTarget(target);
        log.info("volume {} unpublished from {}", volumeId, target);
    }

    private void unmountAll(Path target, Deadline deadline) {
        for (int i = 0; i < MAX_STACKED_UNMOUNTS && mounter.table().isMountPoint(target); i++) {
            try {
                mounter.unmount(target, deadline);
            } catch (MountException e) {
                throw e.toCsi("unmounting target_path " + target);
            }
        }
        if (mounter.table().isMountPoint(target)) {
            throw new CsiException.Internal("target_path " + target + " is still a mount point after "
                    + MAX_STACKED_UNMOUNTS + " unmounts");
        }
    }

    /** Creates the target directory; its parent must exist, as kubelet guarantees. Returns whether it made it. */
    private static boolean createTarget(Path target) {
        try {
            Files.createDirectory(target);
            return true;
        } catch (FileAlreadyExistsException e) {
            if (!Files.isDirectory(target, LinkOption.NOFOLLOW_LINKS)) {
                throw new CsiException.FailedPrecondition("target_path " + target + " exists and is not a directory");
            }
            return false;
        } catch (NoSuchFileException e) {
            throw new CsiException.FailedPrecondition("the parent directory of target_path " + target
                    + " does not exist");
        } catch (IOException e) {
            throw new CsiException.Internal("cannot create target_path " + target + ": " + e, e);
        }
    }

    private static void removeTarget(Path target) {
        try {
            if (Files.isDirectory(target, LinkOption.NOFOLLOW_LINKS)) {
                Files.deleteIfExists(target);
            } else if (Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
                throw new CsiException.FailedPrecondition("target_path " + target
                        + " is not a directory; left in place");
            }
        } catch (DirectoryNotEmptyException e) {
            throw new CsiException.FailedPrecondition("target_path " + target
                    + " is not empty after unmount; it is not ours to delete");
        } catch (IOException e) {
            throw new CsiException.Internal("cannot remove target_path " + target + ": " + e, e);
        }
    }

    private static void removeEmptyDirectory(Path target) {
        try {
            Files.deleteIfExists(target);
        } catch (IOException e) {
            log.warn("could not remove {} after a failed mount: {}", target, e.toString());
        }
    }

    private void applyPermissions(Path root, int mode, Deadline deadline) {
        try {
            io.run("chmod " + root, deadline, () -> {
                int current = currentMode(root);
                if (current != mode) {
                    Posix.chmod(root, mode);
                    log.info("chmod {} {} (was {})", Integer.toOctalString(mode), root, Integer.toOctalString(current));
                }
                return null;
            });
        } catch (MountException e) {
            throw e.toCsi("applying mountPermissions " + Integer.toOctalString(mode) + " to " + root);
        }
    }

    private static int currentMode(Path p) throws MountException {
        try {
            return (Integer) Files.getAttribute(p, "unix:mode", LinkOption.NOFOLLOW_LINKS) & 07777;
        } catch (IOException e) {
            throw new MountException(MountException.Kind.FAILED, "stat " + p + ": " + e);
        }
    }
}
