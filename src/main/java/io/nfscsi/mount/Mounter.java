package io.nfscsi.mount;

import io.nfscsi.concurrent.Deadline;
import io.nfscsi.posix.FsStats;
import java.nio.file.Path;
import java.util.List;

/** Mounts and unmounts file systems. Every call is bounded by a deadline; none outlives it. */
public interface Mounter {

    /**
     * Mounts {@code source} of type {@code fsType} at {@code target} with {@code options}.
     *
     * @throws MountException kind {@code TIMED_OUT} when the deadline expired (the mount is killed and the target
     *                        left unmounted), {@code ACCESS_DENIED} when the server refused us, else {@code FAILED}
     */
    void mount(String source, Path target, String fsType, List<String> options, Deadline deadline)
            throws MountException;

    /**
     * Unmounts the top mount at {@code target}, forcing, and lazily detaching when forcing fails (a server that is
     * gone). Returns once {@code target} is no longer the mount point it was.
     */
    void unmount(Path target, Deadline deadline) throws MountException;

    /** The current mount table. */
    MountTable table();

    /**
     * statvfs(3) of a mounted path. It blocks in the kernel while the path's NFS server does not answer, so callers
     * run it through {@link BoundedIo}; a replaced export answers {@code STALE}.
     */
    default FsStats statfs(Path path) throws MountException {
        return Posix.statvfs(path);
    }

    /**
     * The ID of the mount at {@code path} (as in the mount table), after the file system checked the path's
     * attributes with their source: for NFS one round trip to the server, so it blocks, like {@link #statfs}, while
     * the server does not answer, and answers {@code STALE} for a replaced export; -1 on a kernel that does not
     * report mount IDs.
     */
    default long liveMountId(Path path) throws MountException {
        return Posix.liveMountId(path);
    }
}
