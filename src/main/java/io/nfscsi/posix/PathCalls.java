package io.nfscsi.posix;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.Arrays;

/**
 * The system calls made by path that Java's file API lacks or gets wrong for us: {@code statvfs} (capacity and
 * inodes), {@code chmod} with setuid, setgid and sticky bits, {@code lchown} (both ids in one call, where the JDK
 * makes two), {@code utimensat} (the JDK opens a file, an NFS OPEN and CLOSE, to set its times) and
 * {@code umount2}. Paths reach the kernel with the bytes the JDK holds for them, also for names that are not valid
 * in the platform encoding.
 */
public final class PathCalls {

    /** umount2(2) flags. */
    public static final int MNT_FORCE = 1;
    public static final int MNT_DETACH = 2;
    /** Refuse to unmount through a symbolic link: a pod could plant one at a target path. */
    public static final int UMOUNT_NOFOLLOW = 8;

    private static final int AT_FDCWD = -100;
    private static final int AT_SYMLINK_NOFOLLOW = 0x100;

    private static final ValueLayout.OfInt I = ValueLayout.JAVA_INT;
    private static final ValueLayout P = ValueLayout.ADDRESS;
    private static final MethodHandle STATVFS = Libc.downcall("statvfs", FunctionDescriptor.of(I, P, P));
    private static final MethodHandle CHMOD = Libc.downcall("chmod", FunctionDescriptor.of(I, P, I));
    private static final MethodHandle LCHOWN = Libc.downcall("lchown", FunctionDescriptor.of(I, P, I, I));
    private static final MethodHandle UTIMENSAT = Libc.downcall("utimensat", FunctionDescriptor.of(I, I, P, P, I));
    private static final MethodHandle STATX = Libc.downcall("statx", FunctionDescriptor.of(I, I, P, I, I, P));
    private static final MethodHandle UMOUNT2 = Libc.downcall("umount2", FunctionDescriptor.of(I, P, I));

    /**
     * glibc's struct statvfs on 64-bit Linux: eleven 8-byte fields (f_bsize, f_frsize, f_blocks, f_bfree,
     * f_bavail, f_files, f_ffree, f_favail, f_fsid, f_flag, f_namemax) then six ints of padding.
     */
    private static final long STATVFS_SIZE = 11 * 8 + 6 * 4;
    /** struct timespec[2] on 64-bit Linux: {tv_sec, tv_nsec} for access, then for modification. */
    private static final long TIMESPECS_SIZE = 4 * 8;

    /** The effective uid and gid, which own what this process creates (where no setgid directory says otherwise). */
    public static final int EUID = id("geteuid");
    public static final int EGID = id("getegid");

    /** Whether a path's string form holds exactly its bytes, as long as it has no replacement character. */
    private static final boolean UTF8_NAMES =
            Charset.forName(System.getProperty("sun.jnu.encoding", "UTF-8")).equals(StandardCharsets.UTF_8);

    private PathCalls() {}

    private static int id(String call) {
        try {
            return (int) Libc.infallible(call, FunctionDescriptor.of(I)).invokeExact();
        } catch (Throwable t) {
            throw Libc.downcallFailed(call, t);
        }
    }

    /** statvfs(3) of {@code path}. */
    public static FsStats statvfs(Path path) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = Libc.errnoState(arena);
            MemorySegment buf = arena.allocate(STATVFS_SIZE, 8);
            int rc;
            try {
                rc = (int) STATVFS.invokeExact(state, cString(arena, path), buf);
            } catch (Throwable t) {
                throw Libc.downcallFailed("statvfs", t);
            }
            check(rc, state, "statvfs", path);
            long frsize = buf.get(ValueLayout.JAVA_LONG, 8);
            long blocks = buf.get(ValueLayout.JAVA_LONG, 16);
            long bfree = buf.get(ValueLayout.JAVA_LONG, 24);
            long bavail = buf.get(ValueLayout.JAVA_LONG, 32);
            long files = buf.get(ValueLayout.JAVA_LONG, 40);
            long ffree = buf.get(ValueLayout.JAVA_LONG, 48);
            return new FsStats(blocks * frsize, bavail * frsize, (blocks - bfree) * frsize,
                    files, ffree, files - ffree);
        }
    }

    /** statx(2) flags and mask bits: see {@link #liveMountId}. */
    private static final int AT_STATX_FORCE_SYNC = 0x2000;
    private static final int STATX_TYPE = 0x1;
    private static final int STATX_MODE = 0x2;
    private static final int STATX_MNT_ID = 0x1000;
    /** struct statx is 256 bytes; stx_mask is at 0 and stx_mnt_id at 144. */
    private static final long STATX_SIZE = 256;
    private static final long STATX_MNT_ID_OFFSET = 144;

    /**
     * The ID of the mount that {@code path} lies on (as in /proc/self/mountinfo), asking the file system to check
     * its attributes with their source first ({@code AT_STATX_FORCE_SYNC}): on NFS that is one GETATTR round trip
     * to the server, which blocks while the server does not answer and fails with ESTALE for a replaced export.
     * A final symbolic link is not followed. Returns -1 where the kernel does not report mount IDs (before 5.8).
     */
    public static long liveMountId(Path path) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = Libc.errnoState(arena);
            MemorySegment buf = arena.allocate(STATX_SIZE, 8);
            int rc;
            try {
                // mode is asked for: NFS revalidates only for attributes that can change on the server
                rc = (int) STATX.invokeExact(state, AT_FDCWD, cString(arena, path),
                        AT_SYMLINK_NOFOLLOW | AT_STATX_FORCE_SYNC, STATX_TYPE | STATX_MODE | STATX_MNT_ID, buf);
            } catch (Throwable t) {
                throw Libc.downcallFailed("statx", t);
            }
            check(rc, state, "statx", path);
            int mask = buf.get(ValueLayout.JAVA_INT, 0);
            return (mask & STATX_MNT_ID) != 0 ? buf.get(ValueLayout.JAVA_LONG, STATX_MNT_ID_OFFSET) : -1;
        }
    }

    /** chmod(2) with all twelve mode bits; follows a final symbolic link, as chmod does. */
    public static void chmod(Path path, int mode) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = Libc.errnoState(arena);
            int rc;
            try {
                rc = (int) CHMOD.invokeExact(state, cString(arena, path), mode & 07777);
            } catch (Throwable t) {
                throw Libc.downcallFailed("chmod", t);
            }
            check(rc, state, "chmod", path);
        }
    }

    /** lchown(2): sets both ids with one call; a symbolic link gets them itself. */
    public static void lchown(Path path, int uid, int gid) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = Libc.errnoState(arena);
            int rc;
            try {
                rc = (int) LCHOWN.invokeExact(state, cString(arena, path), uid, gid);
            } catch (Throwable t) {
                throw Libc.downcallFailed("lchown", t);
            }
            check(rc, state, "lchown", path);
        }
    }

    /** utimensat(2) with {@code AT_SYMLINK_NOFOLLOW}: a symbolic link gets the times itself. */
    public static void setTimes(Path path, FileTime accessed, FileTime modified) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = Libc.errnoState(arena);
            MemorySegment times = arena.allocate(TIMESPECS_SIZE, 8);
            put(times, 0, accessed.toInstant());
            put(times, 16, modified.toInstant());
            int rc;
            try {
                rc = (int) UTIMENSAT.invokeExact(state, AT_FDCWD, cString(arena, path), times, AT_SYMLINK_NOFOLLOW);
            } catch (Throwable t) {
                throw Libc.downcallFailed("utimensat", t);
            }
            check(rc, state, "utimensat", path);
        }
    }

    /**
     * umount2(2). Used instead of the umount command, which stats the target and can hang on a dead server even
     * with {@code MNT_DETACH}; the system call itself returns at once.
     */
    public static void umount2(Path target, int flags) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = Libc.errnoState(arena);
            int rc;
            try {
                rc = (int) UMOUNT2.invokeExact(state, cString(arena, target), flags);
            } catch (Throwable t) {
                throw Libc.downcallFailed("umount2", t);
            }
            check(rc, state, "umount2", target);
        }
    }

    private static void put(MemorySegment times, long offset, Instant instant) {
        times.set(ValueLayout.JAVA_LONG, offset, instant.getEpochSecond());
        times.set(ValueLayout.JAVA_LONG, offset + 8, instant.getNano());
    }

    private static void check(int rc, MemorySegment state, String call, Path path) throws ErrnoException {
        if (rc != 0) {
            throw new ErrnoException(call, path, Libc.errno(state));
        }
    }

    /** The path as the NUL-terminated bytes the JDK itself would hand to the kernel. */
    private static MemorySegment cString(Arena arena, Path path) {
        String text = path.toString();
        if (UTF8_NAMES && text.indexOf('\uFFFD') < 0) {
            return arena.allocateFrom(text);
        }
        byte[] bytes = nativeBytes(path);
        MemorySegment segment = arena.allocate(bytes.length + 1L);
        MemorySegment.copy(bytes, 0, segment, ValueLayout.JAVA_BYTE, 0, bytes.length);
        return segment;
    }

    /**
     * The raw bytes of an absolute path, recovered from its URI, which escapes every byte that is not plain ASCII
     * (the only public API that exposes them; it also stats the path, hence only for names that need it).
     */
    static byte[] nativeBytes(Path path) {
        String raw = path.toAbsolutePath().toUri().getRawPath();
        int end = raw.length();
        if (end > 1 && raw.charAt(end - 1) == '/') {
            end--; // added for a directory; a trailing slash would make the kernel follow a final link
        }
        byte[] out = new byte[end];
        int n = 0;
        for (int i = 0; i < end; i++) {
            char c = raw.charAt(i);
            if (c == '%') {
                out[n++] = (byte) Integer.parseInt(raw, i + 1, i + 3, 16);
                i += 2;
            } else {
                out[n++] = (byte) c;
            }
        }
        return Arrays.copyOf(out, n);
    }
}
