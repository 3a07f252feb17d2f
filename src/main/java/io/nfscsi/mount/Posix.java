package io.nfscsi.mount;

import io.nfscsi.posix.ErrnoException;
import io.nfscsi.posix.FsStats;
import io.nfscsi.posix.PathCalls;
import java.nio.file.Path;

/**
 * The native calls that the mount layer makes ({@link PathCalls}), with their errno classified once into a
 * {@link MountException.Kind}. Each may block on an unresponsive NFS server, so callers run them through
 * {@link io.nfscsi.concurrent.BoundedIo}.
 */
public final class Posix {

    /** umount2(2) flags. */
    public static final int MNT_FORCE = PathCalls.MNT_FORCE;
    public static final int MNT_DETACH = PathCalls.MNT_DETACH;
    /** Refuse to unmount through a symbolic link: a pod could plant one at a target path. */
    public static final int UMOUNT_NOFOLLOW = PathCalls.UMOUNT_NOFOLLOW;

    private Posix() {}

    /** statvfs(3) of {@code path}. */
    public static FsStats statvfs(Path path) throws MountException {
        try {
            return PathCalls.statvfs(path);
        } catch (ErrnoException e) {
            throw failure(e);
        }
    }

    /** {@link PathCalls#liveMountId}: one round trip to an NFS server, the mount ID of {@code path}. */
    public static long liveMountId(Path path) throws MountException {
        try {
            return PathCalls.liveMountId(path);
        } catch (ErrnoException e) {
            throw failure(e);
        }
    }

    /** chmod(2): sets all twelve mode bits of {@code path}, following a final symlink as chmod does. */
    public static void chmod(Path path, int mode) throws MountException {
        try {
            PathCalls.chmod(path, mode);
        } catch (ErrnoException e) {
            throw failure(e);
        }
    }

    /**
     * umount2(2), which returns at once where the umount command stats the target and can hang on a dead server.
     *
     * @throws MountException {@code FAILED} with "busy" for EBUSY, {@code NO_SUCH_PATH} when the target is absent
     *                        or is not a mount point (EINVAL)
     */
    public static void umount2(Path target, int flags) throws MountException {
        try {
            PathCalls.umount2(target, flags);
        } catch (ErrnoException e) {
            if (e.errno() == ErrnoException.EINVAL) {
                throw new MountException(MountException.Kind.NO_SUCH_PATH, target + " is not a mount point");
            }
            if (e.errno() == ErrnoException.EBUSY) {
                throw new MountException(MountException.Kind.FAILED, "umount2 " + target + ": busy");
            }
            throw failure(e);
        }
    }

    private static MountException failure(ErrnoException e) {
        MountException.Kind kind = switch (e.errno()) {
            case ErrnoException.ENOENT, ErrnoException.ENOTDIR -> MountException.Kind.NO_SUCH_PATH;
            case ErrnoException.ESTALE -> MountException.Kind.STALE;
            case ErrnoException.EACCES, ErrnoException.EPERM -> MountException.Kind.ACCESS_DENIED;
            case ErrnoException.ENOSPC, ErrnoException.EDQUOT -> MountException.Kind.NO_SPACE;
            case ErrnoException.EROFS -> MountException.Kind.READ_ONLY;
            default -> MountException.Kind.FAILED;
        };
        return new MountException(kind, e.getMessage());
    }
}
