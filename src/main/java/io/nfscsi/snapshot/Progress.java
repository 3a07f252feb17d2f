package io.nfscsi.snapshot;

/**
 * Told how far an archive or a restore has got: at least every few thousand entries and every 64 MiB of file
 * data, and once at the end. Called on the working thread; it should return quickly (log a line, update a gauge).
 */
@FunctionalInterface
public interface Progress {

    /** A progress that ignores what it is told. */
    Progress NONE = (entries, bytes) -> { };

    /**
     * @param entries entries archived or restored so far (files, directories, links)
     * @param bytes   bytes of file content so far, uncompressed
     */
    void update(long entries, long bytes);
}
