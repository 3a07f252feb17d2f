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
}
