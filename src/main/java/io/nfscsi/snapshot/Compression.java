package io.nfscsi.snapshot;

import io.nfscsi.concurrent.TreeWorkPool;
import io.nfscsi.error.CsiException;
import java.io.IOException;
import java.io.OutputStream;
import java.util.Locale;

/** How a snapshot's tar archive is compressed; the file name's suffix says which. */
public enum Compression {
    /** Multi-member gzip, compressed on the pool's compressing threads: what csi-driver-nfs writes and reads. */
    GZIP(".tar.gz"),
    /**
     * Zstandard, on the archiving thread (zstd's own worker threads would be native threads outside the pool's
     * cap; one thread of zstd outruns NFS anyway); needs zstd-jni's native library. csi-driver-nfs cannot restore it.
     */
    ZSTD(".tar.zst"),
    /** Plain tar. */
    NONE(".tar");

    private final String suffix;

    Compression(String suffix) {
        this.suffix = suffix;
    }

    /** The archive file name's suffix: ".tar.gz", ".tar.zst" or ".tar". */
    public String suffix() {
        return suffix;
    }

    /**
     * Reads a parameter value: "gzip" (also when null or empty), "zstd" or "none", in any case.
     *
     * @param field the parameter's name, for the error message
     * @throws CsiException.InvalidArgument for any other value
     */
    public static Compression parse(String field, String value) {
        if (value == null || value.isEmpty()) {
            return GZIP;
        }
        return switch (value.toLowerCase(Locale.ROOT)) {
            case "gzip" -> GZIP;
            case "zstd" -> ZSTD;
            case "none" -> NONE;
            default -> throw new CsiException.InvalidArgument(
                    field + ": \"" + value + "\" is not a compression; expected gzip, zstd or none");
        };
    }

    /** A stream that compresses into {@code out}; closing it finishes the compressed stream and closes {@code out}. */
    OutputStream compress(OutputStream out, TreeWorkPool pool) throws IOException {
        return switch (this) {
            case GZIP -> new ParallelGzipOutputStream(out, pool, ParallelGzipOutputStream.DEFAULT_BLOCK_SIZE,
                    ParallelGzipOutputStream.DEFAULT_LEVEL);
            case ZSTD -> Zstd.compress(out);
            case NONE -> out;
        };
    }
}
