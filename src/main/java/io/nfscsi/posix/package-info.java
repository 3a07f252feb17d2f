/**
 * Every native call of the driver, through {@code java.lang.foreign}: one linker and one errno capture
 * ({@link io.nfscsi.posix.Libc}), calls by path ({@link io.nfscsi.posix.PathCalls}: statvfs, chmod, lchown,
 * utimensat, umount2) and calls relative to an open directory descriptor ({@link io.nfscsi.posix.DirCalls}: openat,
 * statx, getdents64, read, write...). A failed call throws {@link io.nfscsi.posix.ErrnoException}; what an errno
 * means to the driver is decided by the caller's layer. Calls may block on an unresponsive NFS server: callers run
 * them on platform threads, under a deadline.
 */
package io.nfscsi.posix;
