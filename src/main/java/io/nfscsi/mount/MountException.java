package io.nfscsi.mount;

/** A mount, unmount or file-system call that failed, with its cause classified once. */
public final class MountException extends Exception {

    /** What went wrong, as far as the caller needs to decide a gRPC code. */
    public enum Kind {
        /** The server refused the client (export rules, Kerberos, root squash on the mount itself). */
        ACCESS_DENIED,
        /** The deadline expired; the process tree was killed. */
        TIMED_OUT,
        /** The path does not exist. */
        NO_SUCH_PATH,
        /** The file handle is stale: the export changed under a mounted client. */
        STALE,
        /** Anything else; the message carries the tool's own words. */
        FAILED
    }

    private final Kind kind;

    public MountException(Kind kind, String message) {
        super(message);
        this.kind = kind;
    }

    public Kind kind() {
        return kind;
    }

    /**
     * The gRPC failure for this kind, the one mapping used by every caller: a deadline is DEADLINE_EXCEEDED, a
     * refusal by the server PERMISSION_DENIED, anything else INTERNAL with the tool's own words.
     *
     * @param doing what was being done, e.g. "mounting 10.0.0.1:/export at target_path /var/lib/..."
     */
    public io.nfscsi.error.CsiException toCsi(String doing) {
        String message = doing + ": " + getMessage();
        return switch (kind) {
            case TIMED_OUT -> new io.nfscsi.error.CsiException.DeadlineExceeded(message);
            case ACCESS_DENIED -> new io.nfscsi.error.CsiException.PermissionDenied(message);
            case NO_SUCH_PATH, STALE, FAILED -> new io.nfscsi.error.CsiException.Internal(message);
        };
    }
}
