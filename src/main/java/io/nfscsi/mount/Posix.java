package io.nfscsi.mount;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.nio.file.Path;

/**
 * The few libc calls that Java's file API lacks or gets wrong for us, through {@code java.lang.foreign}:
 * {@code statvfs} (capacity and inodes) and {@code chmod} with setuid, setgid and sticky bits. Each may block on an
 * unresponsive NFS server, so callers run them through {@link BoundedIo}.
 */
public final class Posix {

    /** errno values we classify (Linux, all architectures). */
    static final int ENOENT = 2;
    static final int ENOTDIR = 20;
    static final int ESTALE = 116;
    static final int EACCES = 13;
    static final int EINVAL = 22;
    static final int EBUSY = 16;
    static final int EPERM = 1;
    static final int ENOSPC = 28;
    static final int EROFS = 30;
    static final int EDQUOT = 122;

    /** umount2(2) flags. */
    public static final int MNT_FORCE = 1;
    public static final int MNT_DETACH = 2;
    /** Refuse to unmount through a symbolic link: a pod could plant one at a target path. */
    public static final int UMOUNT_NOFOLLOW = 8;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final StructLayout CAPTURE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO =
            CAPTURE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final MethodHandle STATVFS = downcall("statvfs",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.ADDRESS));
    private static final MethodHandle CHMOD = downcall("chmod",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT));
    private static final MethodHandle UMOUNT2 = downcall("umount2",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT));

    /**
     * glibc's struct statvfs on 64-bit Linux: eleven 8-byte fields (f_bsize, f_frsize, f_blocks, f_bfree,
     * f_bavail, f_files, f_ffree, f_favail, f_fsid, f_flag, f_namemax) then six ints of padding.
     */
    private static final long STATVFS_SIZE = 11 * 8 + 6 * 4;

    /** What statvfs reports, in bytes and inodes. */
    public record FsStats(long totalBytes, long availableBytes, long usedBytes,
                          long totalInodes, long freeInodes, long usedInodes) {}

    private Posix() {}

    private static MethodHandle downcall(String name, FunctionDescriptor fd) {
        return LINKER.downcallHandle(LINKER.defaultLookup().find(name).orElseThrow(
                () -> new IllegalStateException("libc has no " + name)), fd, Linker.Option.captureCallState("errno"));
    }

    /** statvfs(3) of {@code path}. */
    public static FsStats statvfs(Path path) throws MountException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURE);
            MemorySegment buf = arena.allocate(STATVFS_SIZE, 8);
            int rc = (int) STATVFS.invokeExact(state, arena.allocateFrom(path.toString()), buf);
            if (rc != 0) {
                throw failure("statvfs", path, (int) ERRNO.get(state, 0L));
            }
            long frsize = buf.get(ValueLayout.JAVA_LONG, 8);
            long blocks = buf.get(ValueLayout.JAVA_LONG, 16);
            long bfree = buf.get(ValueLayout.JAVA_LONG, 24);
            long bavail = buf.get(ValueLayout.JAVA_LONG, 32);
            long files = buf.get(ValueLayout.JAVA_LONG, 40);
            long ffree = buf.get(ValueLayout.JAVA_LONG, 48);
            return new FsStats(blocks * frsize, bavail * frsize, (blocks - bfree) * frsize,
                    files, ffree, files - ffree);
        } catch (MountException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("statvfs downcall failed", t);
        }
    }

    /** chmod(2): sets all twelve mode bits of {@code path}, following a final symlink as chmod does. */
    public static void chmod(Path path, int mode) throws MountException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURE);
            int rc = (int) CHMOD.invokeExact(state, arena.allocateFrom(path.toString()), mode & 07777);
            if (rc != 0) {
                throw failure("chmod", path, (int) ERRNO.get(state, 0L));
            }
        } catch (MountException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("chmod downcall failed", t);
        }
    }

    /**
     * umount2(2). Used instead of the umount command, which stats the target and can hang on a dead server even
     * with {@code MNT_DETACH}; the system call itself returns at once.
     *
     * @throws MountException {@code FAILED} with "busy" for EBUSY, {@code NO_SUCH_PATH} when the target is absent
     *                        or is not a mount point (EINVAL)
     */
    public static void umount2(Path target, int flags) throws MountException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURE);
            int rc = (int) UMOUNT2.invokeExact(state, arena.allocateFrom(target.toString()), flags);
            if (rc != 0) {
                int errno = (int) ERRNO.get(state, 0L);
                if (errno == EINVAL) {
                    throw new MountException(MountException.Kind.NO_SUCH_PATH, target + " is not a mount point");
                }
                if (errno == EBUSY) {
                    throw new MountException(MountException.Kind.FAILED, "umount2 " + target + ": busy");
                }
                throw failure("umount2", target, errno);
            }
        } catch (MountException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("umount2 downcall failed", t);
        }
    }

    private static MountException failure(String call, Path path, int errno) {
        MountException.Kind kind = switch (errno) {
            case ENOENT, ENOTDIR -> MountException.Kind.NO_SUCH_PATH;
            case ESTALE -> MountException.Kind.STALE;
            case EACCES, EPERM -> MountException.Kind.ACCESS_DENIED;
            case ENOSPC, EDQUOT -> MountException.Kind.NO_SPACE;
            case EROFS -> MountException.Kind.READ_ONLY;
            default -> MountException.Kind.FAILED;
        };
        return new MountException(kind, call + " " + path + " failed: errno " + errno);
    }
}
