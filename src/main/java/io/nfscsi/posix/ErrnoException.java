package io.nfscsi.posix;

import java.io.IOException;
import java.util.Map;

/** A failed system call: {@link #errno()} tells callers what happened without reading the message. */
public final class ErrnoException extends IOException {

    public static final int EPERM = 1;
    public static final int ENOENT = 2;
    public static final int EACCES = 13;
    public static final int EBUSY = 16;
    public static final int EEXIST = 17;
    public static final int ENOTDIR = 20;
    public static final int EINVAL = 22;
    public static final int ENOSPC = 28;
    public static final int EROFS = 30;
    public static final int ELOOP = 40;
    public static final int ESTALE = 116;
    public static final int EDQUOT = 122;

    private static final Map<Integer, String> NAMES = Map.ofEntries(
            Map.entry(1, "operation not permitted (EPERM)"), Map.entry(2, "no such file or directory (ENOENT)"),
            Map.entry(5, "input/output error (EIO)"), Map.entry(9, "bad file descriptor (EBADF)"),
            Map.entry(12, "out of memory (ENOMEM)"), Map.entry(13, "permission denied (EACCES)"),
            Map.entry(16, "device or resource busy (EBUSY)"),
            Map.entry(17, "file exists (EEXIST)"), Map.entry(20, "not a directory (ENOTDIR)"),
            Map.entry(21, "is a directory (EISDIR)"), Map.entry(22, "invalid argument (EINVAL)"),
            Map.entry(24, "too many open files (EMFILE)"), Map.entry(27, "file too large (EFBIG)"),
            Map.entry(28, "no space left on device (ENOSPC)"), Map.entry(30, "read-only file system (EROFS)"),
            Map.entry(31, "too many links (EMLINK)"), Map.entry(36, "file name too long (ENAMETOOLONG)"),
            Map.entry(40, "a symbolic link, not followed (ELOOP)"), Map.entry(95, "not supported (EOPNOTSUPP)"),
            Map.entry(116, "stale file handle (ESTALE)"), Map.entry(122, "disk quota exceeded (EDQUOT)"));

    private final int errno;

    ErrnoException(String call, Object shown, int errno) {
        super(call + " " + shown + ": " + NAMES.getOrDefault(errno, "errno " + errno));
        this.errno = errno;
    }

    public int errno() {
        return errno;
    }
}
