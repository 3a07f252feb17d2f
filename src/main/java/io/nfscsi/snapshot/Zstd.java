package io.nfscsi.snapshot;

import com.github.luben.zstd.ZstdInputStream;
import com.github.luben.zstd.ZstdOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;

/**
 * Zstandard through zstd-jni, kept in its own class so that its native library is loaded only when zstd is used:
 * when the library cannot be loaded (no build for this platform, or a temporary directory mounted noexec), gzip
 * and plain archives still work, and zstd fails at use with a message saying why.
 */
final class Zstd {

    private Zstd() {}

    /** Compresses on the calling thread: no zstd worker threads, which would escape the tree work pool's cap. */
    static OutputStream compress(OutputStream out) throws IOException {
        try {
            return new ZstdOutputStream(out);
        } catch (LinkageError e) {
            throw unavailable(e);
        }
    }

    static InputStream decompress(InputStream in) throws IOException {
        try {
            return new ZstdInputStream(in);
        } catch (LinkageError e) {
            throw unavailable(e);
        }
    }

    private static IOException unavailable(LinkageError e) {
        return new IOException("zstd is unavailable: zstd-jni's native library could not be loaded ("
                + e.getClass().getSimpleName() + ": " + e.getMessage() + "); use gzip", e);
    }
}
