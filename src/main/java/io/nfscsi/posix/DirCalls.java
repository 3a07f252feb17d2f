package io.nfscsi.posix;

import java.lang.foreign.Arena;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The Linux calls that archiving and restoring make, through {@code java.lang.foreign}, each relative to an open
 * directory descriptor and naming one directory entry: {@code openat}, {@code statx}, {@code getdents64},
 * {@code mkdirat}, {@code symlinkat}, {@code linkat}... Java's file API cannot do this: it resolves whole paths
 * (following any symbolic link in a parent component), has no handle-relative {@code readlink}, {@code mkdir} or
 * {@code chown}, and reports neither numeric owners nor inode numbers through {@link java.nio.file.SecureDirectoryStream}.
 * A name never contains a slash, and every call that could follow a final symbolic link is made with
 * {@code O_NOFOLLOW} or {@code AT_SYMLINK_NOFOLLOW}, so no link in the tree is ever followed.
 *
 * <p>An instance owns native scratch memory and belongs to the thread that created it. 64-bit Linux only (glibc
 * 2.30 or newer, for {@code getdents64}); names are byte strings, as the kernel has them.
 */
public final class DirCalls implements AutoCloseable {

    public static final int S_IFMT = 0170000;
    public static final int S_IFREG = 0100000;
    public static final int S_IFDIR = 0040000;
    public static final int S_IFLNK = 0120000;

    /** arm, arm64 and powerpc number a few open(2) flags differently from the generic (x86, s390, riscv) ones. */
    private static final boolean ARM_FLAGS = switch (System.getProperty("os.arch")) {
        case "aarch64", "arm", "ppc64", "ppc64le" -> true;
        default -> false;
    };
    private static final int O_RDONLY = 0;
    private static final int O_WRONLY = 1;
    private static final int O_CREAT = 0100;
    private static final int O_EXCL = 0200;
    private static final int O_NOCTTY = 0400;
    private static final int O_NONBLOCK = 04000;
    private static final int O_CLOEXEC = 02000000;
    private static final int O_DIRECTORY = ARM_FLAGS ? 040000 : 0200000;
    private static final int O_NOFOLLOW = ARM_FLAGS ? 0100000 : 0400000;
    private static final int AT_FDCWD = -100;
    private static final int AT_SYMLINK_NOFOLLOW = 0x100;
    private static final int AT_EMPTY_PATH = 0x1000;
    private static final int AT_STATX_DONT_SYNC = 0x4000;
    private static final int AT_STATX_FORCE_SYNC = 0x2000;
    private static final int STATX_BASIC_STATS = 0x7ff;
    private static final long UTIME_OMIT = (1L << 30) - 2;

    /** struct statx is the same on every architecture; these are its byte offsets. */
    private static final int STATX_SIZE = 256;
    private static final int STX_NLINK = 16;
    private static final int STX_UID = 20;
    private static final int STX_GID = 24;
    private static final int STX_MODE = 28;
    private static final int STX_INO = 32;
    private static final int STX_SIZE_FIELD = 40;
    private static final int STX_BLOCKS = 48;
    private static final int STX_CTIME = 96;
    private static final int STX_MTIME = 112;
    private static final int STX_DEV_MAJOR = 136;
    private static final int STX_DEV_MINOR = 140;

    /** struct linux_dirent64: u64 d_ino, s64 d_off, u16 d_reclen, u8 d_type, then the NUL-terminated name. */
    private static final int DIRENT_RECLEN = 16;
    private static final int DIRENT_TYPE = 18;
    private static final int DIRENT_NAME = 19;
    private static final int DIRENTS_SIZE = 64 * 1024;

    private static final ValueLayout.OfInt I = ValueLayout.JAVA_INT;
    private static final ValueLayout.OfLong L = ValueLayout.JAVA_LONG;
    private static final MemoryLayout P = ValueLayout.ADDRESS;

    private static final MethodHandle OPENAT = downcall("openat", FunctionDescriptor.of(I, I, P, I, I),
            Linker.Option.firstVariadicArg(3));
    private static final MethodHandle CLOSE = downcall("close", FunctionDescriptor.of(I, I));
    private static final MethodHandle STATX = downcall("statx", FunctionDescriptor.of(I, I, P, I, I, P));
    private static final MethodHandle GETDENTS64 = downcall("getdents64", FunctionDescriptor.of(L, I, P, L));
    private static final MethodHandle READLINKAT = downcall("readlinkat", FunctionDescriptor.of(L, I, P, P, L));
    private static final MethodHandle READ = downcall("read", FunctionDescriptor.of(L, I, P, L));
    private static final MethodHandle WRITE = downcall("write", FunctionDescriptor.of(L, I, P, L));
    private static final MethodHandle MKDIRAT = downcall("mkdirat", FunctionDescriptor.of(I, I, P, I));
    private static final MethodHandle SYMLINKAT = downcall("symlinkat", FunctionDescriptor.of(I, P, I, P));
    private static final MethodHandle LINKAT = downcall("linkat", FunctionDescriptor.of(I, I, P, I, P, I));
    private static final MethodHandle UNLINKAT = downcall("unlinkat", FunctionDescriptor.of(I, I, P, I));
    private static final MethodHandle FCHOWNAT = downcall("fchownat", FunctionDescriptor.of(I, I, P, I, I, I));
    private static final MethodHandle FCHOWN = downcall("fchown", FunctionDescriptor.of(I, I, I, I));
    private static final MethodHandle FCHMOD = downcall("fchmod", FunctionDescriptor.of(I, I, I));
    private static final MethodHandle UTIMENSAT = downcall("utimensat", FunctionDescriptor.of(I, I, P, P, I));
    private static final MethodHandle FUTIMENS = downcall("futimens", FunctionDescriptor.of(I, I, P));

    /**
     * What statx reported about one entry; {@code dev} combines the major and minor device numbers; {@code blocks}
     * is the space allocated to it, in 512-byte units (st_blocks).
     */
    public record Stat(int mode, long uid, long gid, long size, long mtimeSeconds, int mtimeNanos, long dev, long ino,
                long nlink, long blocks) {
        public int type() {
            return mode & S_IFMT;
        }

        public int permissions() {
            return mode & 07777;
        }

        public boolean isDirectory() {
            return type() == S_IFDIR;
        }

        public boolean isRegular() {
            return type() == S_IFREG;
        }

        public boolean isSymlink() {
            return type() == S_IFLNK;
        }

        public boolean sameFile(Stat other) {
            return dev == other.dev && ino == other.ino;
        }
    }

    private final Arena arena = Arena.ofConfined();
    private final MemorySegment state = Libc.errnoState(arena);
    private final MemorySegment statx = arena.allocate(STATX_SIZE, 8);
    private final MemorySegment times = arena.allocate(4 * 8L, 8);
    private final MemorySegment empty = arena.allocate(1);
    private MemorySegment name1 = arena.allocate(256);
    private MemorySegment name2 = arena.allocate(256);
    private MemorySegment dirents;
    private MemorySegment io;

    private static MethodHandle downcall(String name, FunctionDescriptor fd, Linker.Option... options) {
        return Libc.downcall(name, fd, options);
    }

    private int errno() {
        return Libc.errno(state);
    }

    private static RuntimeException downcallFailed(Throwable t) {
        return Libc.downcallFailed("native call", t);
    }

    /** {@code s} as a NUL-terminated string in the first (or, for {@code second}, the second) scratch buffer. */
    private MemorySegment cString(byte[] s, boolean second) {
        MemorySegment buf = second ? name2 : name1;
        if (buf.byteSize() < s.length + 1L) {
            buf = arena.allocate(Math.max(s.length + 1L, buf.byteSize() * 2));
            if (second) {
                name2 = buf;
            } else {
                name1 = buf;
            }
        }
        MemorySegment.copy(s, 0, buf, ValueLayout.JAVA_BYTE, 0, s.length);
        buf.set(ValueLayout.JAVA_BYTE, s.length, (byte) 0);
        return buf;
    }

    private MemorySegment io(int length) {
        if (io == null || io.byteSize() < length) {
            io = arena.allocate(Math.max(length, 1 << 20), 4096);
        }
        return io;
    }

    /** Opens a trusted directory by path (a final symbolic link is followed: the caller chose the path). */
    public int openTrustedDir(Path dir) throws ErrnoException {
        return openAt(AT_FDCWD, dir.toString().getBytes(StandardCharsets.UTF_8),
                O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0, dir);
    }

    /** Opens the directory {@code name} in {@code dirFd}; ELOOP if it is a symbolic link, ENOTDIR if not a directory. */
    public int openDir(int dirFd, byte[] name, Object shown) throws ErrnoException {
        return openAt(dirFd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0, shown);
    }

    /**
     * Opens {@code name} for reading. Non-blocking and without a controlling terminal, so that an entry swapped for
     * a FIFO or a device since it was looked at neither blocks nor takes over the process; callers check with
     * {@link #fstat} what they opened.
     */
    public int openRead(int dirFd, byte[] name, Object shown) throws ErrnoException {
        return openAt(dirFd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC, 0, shown);
    }

    /** Creates {@code name}, which must not exist (not even as a dangling symbolic link), for writing, mode 0600. */
    public int createFile(int dirFd, byte[] name, Object shown) throws ErrnoException {
        return openAt(dirFd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC, 0600, shown);
    }

    private int openAt(int dirFd, byte[] name, int flags, int mode, Object shown) throws ErrnoException {
        int fd;
        try {
            fd = (int) OPENAT.invokeExact(state, dirFd, cString(name, false), flags, mode);
        } catch (Throwable t) {
            throw downcallFailed(t);
        }
        if (fd < 0) {
            throw new ErrnoException("open", shown, errno());
        }
        return fd;
    }

    /** Closes {@code fd}; for a written file on NFS this is where a failed write-back is reported. */
    public void close(int fd, Object shown) throws ErrnoException {
        int rc;
        try {
            rc = (int) CLOSE.invokeExact(state, fd);
        } catch (Throwable t) {
            throw downcallFailed(t);
        }
        if (rc != 0) {
            throw new ErrnoException("close", shown, errno());
        }
    }

    /** Closes a descriptor that was only read, or on a path that is already failing. */
    public void closeQuietly(int fd) {
        if (fd < 0) {
            return;
        }
        try {
            int ignored = (int) CLOSE.invokeExact(state, fd);
        } catch (Throwable t) {
            throw downcallFailed(t);
        }
    }

    /** The attributes of {@code name} itself, not of what it links to. */
    public Stat stat(int dirFd, byte[] name, Object shown) throws ErrnoException {
        return statx(dirFd, cString(name, false), AT_SYMLINK_NOFOLLOW, shown);
    }

    /**
     * As {@link #stat}, but what the kernel has cached, without asking a network file system's server
     * ({@code AT_STATX_DONT_SYNC}): the name is still looked up as any path is (on NFS, checked against the server
     * when its directory changed), but the attributes may be as old as the client's attribute cache. Right for what
     * never changes while the name points to the same file: its inode number and type.
     */
    public Stat statCached(int dirFd, byte[] name, Object shown) throws ErrnoException {
        return statx(dirFd, cString(name, false), AT_SYMLINK_NOFOLLOW | AT_STATX_DONT_SYNC, shown);
    }

    /** The attributes of an open file. */
    public Stat fstat(int fd, Object shown) throws ErrnoException {
        return statx(fd, empty, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW, shown);
    }

    /**
     * What changes whenever a directory's entries change (an entry created, removed or renamed in or out of it):
     * its inode number, size, link count, modification and change times.
     */
    public record Version(long ino, long size, long nlink, long mtimeSeconds, int mtimeNanos, long ctimeSeconds,
                          int ctimeNanos) {
        /** The later of the modification and change times, in nanoseconds since the epoch. */
        public long latestNanos() {
            return Math.max(mtimeSeconds * 1_000_000_000L + mtimeNanos, ctimeSeconds * 1_000_000_000L + ctimeNanos);
        }
    }

    /**
     * The {@link Version} of an open directory, asked of a network file system's server rather than taken from the
     * client's attribute cache ({@code AT_STATX_FORCE_SYNC}).
     */
    public Version versionFresh(int fd, Object shown) throws ErrnoException {
        int rc;
        try {
            rc = (int) STATX.invokeExact(state, fd, empty, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW | AT_STATX_FORCE_SYNC,
                    STATX_BASIC_STATS, statx);
        } catch (Throwable t) {
            throw downcallFailed(t);
        }
        if (rc != 0) {
            throw new ErrnoException("statx", shown, errno());
        }
        return new Version(statx.get(L, STX_INO), statx.get(L, STX_SIZE_FIELD),
                Integer.toUnsignedLong(statx.get(I, STX_NLINK)), statx.get(L, STX_MTIME), statx.get(I, STX_MTIME + 8),
                statx.get(L, STX_CTIME), statx.get(I, STX_CTIME + 8));
    }

    private Stat statx(int dirFd, MemorySegment name, int flags, Object shown) throws ErrnoException {
        int rc;
        try {
            rc = (int) STATX.invokeExact(state, dirFd, name, flags, STATX_BASIC_STATS, statx);
        } catch (Throwable t) {
            throw downcallFailed(t);
        }
        if (rc != 0) {
            throw new ErrnoException("statx", shown, errno());
        }
        long dev = (Integer.toUnsignedLong(statx.get(I, STX_DEV_MAJOR)) << 32)
                | Integer.toUnsignedLong(statx.get(I, STX_DEV_MINOR));
        return new Stat(Short.toUnsignedInt(statx.get(ValueLayout.JAVA_SHORT, STX_MODE)),
                Integer.toUnsignedLong(statx.get(I, STX_UID)), Integer.toUnsignedLong(statx.get(I, STX_GID)),
                statx.get(L, STX_SIZE_FIELD), statx.get(L, STX_MTIME), statx.get(I, STX_MTIME + 8), dev,
                statx.get(L, STX_INO), Integer.toUnsignedLong(statx.get(I, STX_NLINK)), statx.get(L, STX_BLOCKS));
    }

    /** {@code d_type} of a directory, of a symbolic link, and of an entry whose type the file system did not say. */
    public static final int DT_DIR = 4;
    public static final int DT_LNK = 10;
    public static final int DT_UNKNOWN = 0;

    /** One entry of a directory: its name and {@code d_type} ({@link #DT_UNKNOWN} when the file system says none). */
    public record Dirent(byte[] name, int type) {}

    /** The names in an open directory, without "." and "..", in the order the file system returns them. */
    public List<byte[]> list(int dirFd, Object shown) throws ErrnoException {
        List<byte[]> names = new ArrayList<>();
        for (Dirent d : entries(dirFd, shown)) {
            names.add(d.name());
        }
        return names;
    }

    /** As {@link #list}, with each entry's type, which getdents reports at no extra cost. */
    public List<Dirent> entries(int dirFd, Object shown) throws ErrnoException {
        List<Dirent> names = new ArrayList<>();
        forEachEntry(dirFd, shown, names::add);
        return names;
    }

    /** What {@link #forEachEntry} hands each entry to; it may make other calls of this instance meanwhile. */
    @FunctionalInterface
    public interface EntryVisitor {
        void visit(Dirent entry) throws ErrnoException;
    }

    /**
     * As {@link #entries}, one batch of getdents at a time, without holding the whole directory: for directories
     * of millions of entries.
     */
    public void forEachEntry(int dirFd, Object shown, EntryVisitor visitor) throws ErrnoException {
        if (dirents == null) {
            dirents = arena.allocate(DIRENTS_SIZE, 8);
        }
        MemorySegment batch = dirents;
        dirents = null; // a visitor that lists another directory meanwhile gets a buffer of its own
        try {
            while (true) {
                long n;
                try {
                    n = (long) GETDENTS64.invokeExact(state, dirFd, batch, (long) DIRENTS_SIZE);
                } catch (Throwable t) {
                    throw downcallFailed(t);
                }
                if (n < 0) {
                    throw new ErrnoException("getdents64", shown, errno());
                }
                if (n == 0) {
                    return;
                }
                for (long at = 0; at < n; ) {
                    int reclen = Short.toUnsignedInt(batch.get(ValueLayout.JAVA_SHORT, at + DIRENT_RECLEN));
                    long start = at + DIRENT_NAME;
                    long end = start;
                    while (batch.get(ValueLayout.JAVA_BYTE, end) != 0) {
                        end++;
                    }
                    int length = (int) (end - start);
                    boolean dots = (length == 1 || length == 2) && batch.get(ValueLayout.JAVA_BYTE, start) == '.'
                            && (length == 1 || batch.get(ValueLayout.JAVA_BYTE, start + 1) == '.');
                    if (!dots) {
                        visitor.visit(new Dirent(batch.asSlice(start, length).toArray(ValueLayout.JAVA_BYTE),
                                Byte.toUnsignedInt(batch.get(ValueLayout.JAVA_BYTE, at + DIRENT_TYPE))));
                    }
                    at += reclen;
                }
            }
        } finally {
            dirents = batch;
        }
    }

    /** The target of the symbolic link {@code name}, as bytes. */
    public byte[] readlink(int dirFd, byte[] name, Object shown) throws ErrnoException {
        long size = 4096;
        while (true) {
            MemorySegment buf = io((int) size);
            long n;
            try {
                n = (long) READLINKAT.invokeExact(state, dirFd, cString(name, false), buf, size);
            } catch (Throwable t) {
                throw downcallFailed(t);
            }
            if (n < 0) {
                throw new ErrnoException("readlink", shown, errno());
            }
            if (n < size) {
                return buf.asSlice(0, n).toArray(ValueLayout.JAVA_BYTE);
            }
            size *= 2; // possibly truncated: a target longer than PATH_MAX, which some file systems allow
        }
    }

    /** Reads up to {@code length} bytes; 0 at the end of the file. */
    public int read(int fd, byte[] dst, int offset, int length, Object shown) throws ErrnoException {
        MemorySegment buf = io(length);
        long n;
        try {
            n = (long) READ.invokeExact(state, fd, buf, (long) length);
        } catch (Throwable t) {
            throw downcallFailed(t);
        }
        if (n < 0) {
            throw new ErrnoException("read", shown, errno());
        }
        MemorySegment.copy(buf, ValueLayout.JAVA_BYTE, 0, dst, offset, (int) n);
        return (int) n;
    }

    public void writeFully(int fd, byte[] src, int offset, int length, Object shown) throws ErrnoException {
        MemorySegment buf = io(length);
        MemorySegment.copy(src, offset, buf, ValueLayout.JAVA_BYTE, 0, length);
        long done = 0;
        while (done < length) {
            long n;
            try {
                n = (long) WRITE.invokeExact(state, fd, buf.asSlice(done), length - done);
            } catch (Throwable t) {
                throw downcallFailed(t);
            }
            if (n < 0) {
                throw new ErrnoException("write", shown, errno());
            }
            done += n;
        }
    }

    public void mkdir(int dirFd, byte[] name, int mode, Object shown) throws ErrnoException {
        int rc;
        try {
            rc = (int) MKDIRAT.invokeExact(state, dirFd, cString(name, false), mode);
        } catch (Throwable t) {
            throw downcallFailed(t);
        }
        if (rc != 0) {
            throw new ErrnoException("mkdir", shown, errno());
        }
    }

    /** Creates the symbolic link {@code name} pointing to {@code target}, which is stored, never resolved. */
    public void symlink(byte[] target, int dirFd, byte[] name, Object shown) throws ErrnoException {
        int rc;
        try {
            rc = (int) SYMLINKAT.invokeExact(state, cString(target, true), dirFd, cString(name, false));
        } catch (Throwable t) {
            throw downcallFailed(t);
        }
        if (rc != 0) {
            throw new ErrnoException("symlink", shown, errno());
        }
    }

    /** Hard-links {@code name} to the existing {@code target}; a target that is a symbolic link is linked itself. */
    public void link(int targetDirFd, byte[] target, int dirFd, byte[] name, Object shown) throws ErrnoException {
        int rc;
        try {
            rc = (int) LINKAT.invokeExact(state, targetDirFd, cString(target, true), dirFd, cString(name, false), 0);
        } catch (Throwable t) {
            throw downcallFailed(t);
        }
        if (rc != 0) {
            throw new ErrnoException("link", shown, errno());
        }
    }

    /** Removes a non-directory (a symbolic link is removed as a link). */
    public void unlink(int dirFd, byte[] name, Object shown) throws ErrnoException {
        int rc;
        try {
            rc = (int) UNLINKAT.invokeExact(state, dirFd, cString(name, false), 0);
        } catch (Throwable t) {
            throw downcallFailed(t);
        }
        if (rc != 0) {
            throw new ErrnoException("unlink", shown, errno());
        }
    }

    /** Sets the owner of {@code name} itself (a symbolic link's own owner). */
    public void chown(int dirFd, byte[] name, long uid, long gid, Object shown) throws ErrnoException {
        int rc;
        try {
            rc = (int) FCHOWNAT.invokeExact(state, dirFd, cString(name, false), (int) uid, (int) gid,
                    AT_SYMLINK_NOFOLLOW);
        } catch (Throwable t) {
            throw downcallFailed(t);
        }
        if (rc != 0) {
            throw new ErrnoException("chown", shown, errno());
        }
    }

    public void fchown(int fd, long uid, long gid, Object shown) throws ErrnoException {
        int rc;
        try {
            rc = (int) FCHOWN.invokeExact(state, fd, (int) uid, (int) gid);
        } catch (Throwable t) {
            throw downcallFailed(t);
        }
        if (rc != 0) {
            throw new ErrnoException("chown", shown, errno());
        }
    }

    /** Sets all twelve permission bits, setuid, setgid and sticky included. */
    public void fchmod(int fd, int mode, Object shown) throws ErrnoException {
        int rc;
        try {
            rc = (int) FCHMOD.invokeExact(state, fd, mode & 07777);
        } catch (Throwable t) {
            throw downcallFailed(t);
        }
        if (rc != 0) {
            throw new ErrnoException("chmod", shown, errno());
        }
    }

    /** Sets the modification time of {@code name} itself (a symbolic link's own); the access time is left alone. */
    public void setMtime(int dirFd, byte[] name, long seconds, int nanos, Object shown) throws ErrnoException {
        setTimes(seconds, nanos);
        int rc;
        try {
            rc = (int) UTIMENSAT.invokeExact(state, dirFd, cString(name, false), times, AT_SYMLINK_NOFOLLOW);
        } catch (Throwable t) {
            throw downcallFailed(t);
        }
        if (rc != 0) {
            throw new ErrnoException("utimensat", shown, errno());
        }
    }

    /** Sets the modification time of an open file; the access time is left alone. */
    public void setMtime(int fd, long seconds, int nanos, Object shown) throws ErrnoException {
        setTimes(seconds, nanos);
        int rc;
        try {
            rc = (int) FUTIMENS.invokeExact(state, fd, times);
        } catch (Throwable t) {
            throw downcallFailed(t);
        }
        if (rc != 0) {
            throw new ErrnoException("futimens", shown, errno());
        }
    }

    /** struct timespec[2]: the access time (left alone), then the modification time. */
    private void setTimes(long seconds, int nanos) {
        times.set(L, 0, 0);
        times.set(L, 8, UTIME_OMIT);
        times.set(L, 16, seconds);
        times.set(L, 24, nanos);
    }

    @Override
    public void close() {
        arena.close();
    }
}
