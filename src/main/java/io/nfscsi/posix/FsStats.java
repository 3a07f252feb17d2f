package io.nfscsi.posix;

/** What statvfs reports about a file system, in bytes and inodes. */
public record FsStats(long totalBytes, long availableBytes, long usedBytes,
                      long totalInodes, long freeInodes, long usedInodes) {}
