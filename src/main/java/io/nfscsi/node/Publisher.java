package io.nfscsi.node;

import io.grpc.Deadline;
import io.nfscsi.error.CsiException;
import io.nfscsi.mount.BoundedIo;
import io.nfscsi.mount.MountEntry;
import io.nfscsi.mount.MountException;
import io.nfscsi.mount.Mounter;
import io.nfscsi.mount.Posix;
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
 * creates only the target's last component and removes only that, and only when it is an empty directory.
 */
final class Publisher {

    private static final Logger log = LoggerFactory.getLogger(Publisher.class);
    private static final int MAX_STACKED_UNMOUNTS = 8;

    /** What to mount where, already validated. */
    record Publication(String volumeId, Path target, io.nfscsi.volume.NfsSource source, List<String> options,
                       boolean readOnly, int mountPermissions) {}

    private final Mounter mounter;
    private final BoundedIo io;

    Publisher(Mounter mounter, BoundedIo io) {
        this.mounter = mounter;
        this.io = io;
    }

    void publish(Publication p, Deadline deadline) {
        Optional<MountEntry> existing = mounter.table().at(p.target());
        if (existing.isPresent()) {
            MountEntry e = existing.get();
            if (e.isNfs() && p.source().matchesPath(e.source()) && e.readOnly() == p.readOnly()) {
                if (!p.source().matches(e.source())) {
                    // NFSv4 shows the host name of the server's first mount (client trunking); same export
                    log.info("volume {} already published at {} (the kernel names the server {})", p.volumeId(),
                            p.target(), e.source());
                } else {
                    log.info("volume {} already published at {}", p.volumeId(), p.target());
                }
                return;
            }
            throw new CsiException.AlreadyExists("target_path " + p.target() + " already has " + e.source()
                    + " (" + e.fsType() + ", " + (e.readOnly() ? "ro" : "rw") + ") mounted; asked for "
                    + p.source() + (p.readOnly() ? " read-only" : " read-write"));
        }
        boolean created = createTarget(p.target());
        try {
            mounter.mount(p.source().format(), p.target(), "nfs", p.options(), deadline);
        } catch (MountException e) {
            if (created) {
                removeEmptyDirectory(p.target());
            }
            throw e.toCsi("mounting " + p.source() + " at target_path " + p.target());
        }
        if (p.mountPermissions() > 0 && !p.readOnly()) {
            try {
                applyPermissions(p.target(), p.mountPermissions(), deadline);
            } catch (CsiException e) {
                // leave no half-done publish behind: a retry must redo the chmod, not find a matching mount
                unpublish(p.volumeId(), p.target(), deadline);
                throw e;
            }
        }
    }

    void unpublish(String volumeId, Path target, Deadline deadline) {
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
        removeTarget(target);
        log.info("volume {} unpublished from {}", volumeId, target);
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
