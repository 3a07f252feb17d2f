package io.nfscsi.mount;

import io.grpc.Context;
import io.nfscsi.error.CsiException;
import java.time.Duration;
import java.util.Optional;

/**
 * A mount, unmount or file-system call that failed, with its cause classified once. The message never holds the
 * mount options (they may come from a secret): it names the command (the caller's {@link #toCsi} adds the source
 * and target) and quotes the tool's own words with every option that was passed replaced by its position.
 */
public final class MountException extends Exception {

    /** What went wrong, as far as the caller needs to decide a gRPC code; {@link #toCsi} is the one mapping. */
    public enum Kind {
        /** The server refused the client (export rules, Kerberos, root squash on the mount itself). */
        ACCESS_DENIED,
        /**
         * The deadline expired; the process tree was killed. Whose deadline it was (the caller's or the driver's own
         * {@code --mount-timeout}) is decided by {@link #toCsi}.
         */
        TIMED_OUT,
        /** The server did not answer or could not be reached: refused connection, no route, a network timeout. */
        UNREACHABLE,
        /** The path does not exist: on the server (no such export or directory) or locally. */
        NO_SUCH_PATH,
        /** The file handle is stale: the export changed under a mounted client. */
        STALE,
        /** mount(8) or the kernel rejected a mount option. */
        BAD_OPTION,
        /** The server or its file system is out of space (ENOSPC, EDQUOT). */
        NO_SPACE,
        /** The file system is read-only (EROFS): an export or mount that does not take writes. */
        READ_ONLY,
        /**
         * A bounded resource of the driver is full (mount processes, threads blocked in the kernel); the call was not
         * started. {@link MountException#retryAfter} says when a retry may find room.
         */
        BUSY,
        /** Anything else; the message carries the tool's own words. */
        FAILED
    }

    private final Kind kind;
    private final Duration retryAfter;

    public MountException(Kind kind, String message) {
        this(kind, message, null);
    }

    /** A {@link Kind#BUSY} failure with a hint when to try again. */
    public static MountException busy(String message, Duration retryAfter) {
        return new MountException(Kind.BUSY, message, retryAfter);
    }

    private MountException(Kind kind, String message, Duration retryAfter) {
        super(message);
        this.kind = kind;
        this.retryAfter = retryAfter;
    }

    public Kind kind() {
        return kind;
    }

    /** For {@link Kind#BUSY}: how long until a retry may find room. */
    public Optional<Duration> retryAfter() {
        return Optional.ofNullable(retryAfter);
    }

    /**
     * The gRPC failure for this kind, the one mapping used by every caller.
     *
     * <ul>
     *   <li>{@code TIMED_OUT}: DEADLINE_EXCEEDED when the current call's own deadline has expired; otherwise the
     *       driver's cap ({@code --mount-timeout}, a health-check budget) expired while the caller still had time,
     *       which means the server did not answer: UNAVAILABLE. Work outside a call (a background job) has no
     *       caller deadline, so it is UNAVAILABLE too.</li>
     *   <li>{@code UNREACHABLE}: UNAVAILABLE. {@code ACCESS_DENIED}: PERMISSION_DENIED. {@code NO_SUCH_PATH}:
     *       NOT_FOUND. {@code BAD_OPTION}: INVALID_ARGUMENT. {@code STALE}, {@code READ_ONLY}: FAILED_PRECONDITION
     *       (the server's state must change first). {@code NO_SPACE}, {@code BUSY}: RESOURCE_EXHAUSTED, {@code BUSY}
     *       with a retry hint.</li>
     *   <li>{@code FAILED}: INTERNAL with the tool's own words.</li>
     * </ul>
     *
     * @param doing what was being done, e.g. "mounting 10.0.0.1:/export at target_path /var/lib/..."
     */
    public CsiException toCsi(String doing) {
        String message = doing + ": " + getMessage();
        return switch (kind) {
            case TIMED_OUT -> callerDeadlineExpired()
                    ? new CsiException.DeadlineExceeded(message)
                    : new CsiException.Unavailable(message + " (the server did not answer in time)", null);
            case UNREACHABLE -> new CsiException.Unavailable(message, null);
            case ACCESS_DENIED -> new CsiException.PermissionDenied(message);
            case NO_SUCH_PATH -> new CsiException.NotFound(message);
            case BAD_OPTION -> new CsiException.InvalidArgument(message);
            case STALE, READ_ONLY -> new CsiException.FailedPrecondition(message);
            case NO_SPACE -> new CsiException.ResourceExhausted(message);
            case BUSY -> new CsiException.ResourceExhausted(message, retryAfter);
            case FAILED -> new CsiException.Internal(message);
        };
    }

    /** Whether the gRPC call this thread serves has a deadline and it has passed. */
    private static boolean callerDeadlineExpired() {
        io.grpc.Deadline caller = Context.current().getDeadline();
        return caller != null && caller.isExpired();
    }
}
