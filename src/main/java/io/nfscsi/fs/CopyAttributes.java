package io.nfscsi.fs;

import io.nfscsi.posix.PathCalls;
import java.io.IOException;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.Map;

/**
 * The owner, mode and times that a copied entry takes from its source, read once by path and set with one system
 * call each ({@link PathCalls}): over NFS each call is a round trip, and the JDK spends more (two calls for uid and
 * gid, an OPEN and CLOSE to set times) and cannot express setuid, setgid and sticky bits.
 *
 * @param mode     all of {@code st_mode}: the type bits, the twelve permission bits
 */
record CopyAttributes(int mode, int uid, int gid, FileTime accessed, FileTime modified) {

    /** What is read by path for every entry, and the key that ties it to what the handle saw. */
    static final String UNIX_ATTRIBUTES = "unix:mode,uid,gid,nlink,fileKey,lastAccessTime,lastModifiedTime";

    private static final int S_IFMT = 0170000;

    /** From the map read with {@link #UNIX_ATTRIBUTES}. */
    static CopyAttributes of(Map<String, Object> attrs) {
        return new CopyAttributes((Integer) attrs.get("mode"), (Integer) attrs.get("uid"), (Integer) attrs.get("gid"),
                (FileTime) attrs.get("lastAccessTime"), (FileTime) attrs.get("lastModifiedTime"));
    }

    /**
     * Gives {@code target} these attributes: owner first, since a chown clears setuid and setgid bits; times last.
     * Owner and times never follow a final symbolic link; the mode ({@code hasMode}) does, so it is only for files
     * and directories the copy created. The owner of an entry this copy {@code created} is ours, and is left alone
     * when it should be.
     */
    void applyTo(Path target, boolean hasMode, boolean created) throws IOException {
        if (!created || uid != PathCalls.EUID || gid != PathCalls.EGID) {
            PathCalls.lchown(target, uid, gid);
        }
        if (hasMode) {
            PathCalls.chmod(target, mode);
        }
        PathCalls.setTimes(target, accessed, modified);
    }

    /** What a special file is, for the log line that says it was skipped. */
    String kind() {
        return switch (mode & S_IFMT) {
            case 0010000 -> "FIFO";
            case 0020000 -> "character device";
            case 0060000 -> "block device";
            case 0140000 -> "socket";
            default -> "file of type " + Integer.toOctalString(mode & S_IFMT);
        };
    }
}
