package io.nfscsi.error;

import io.grpc.Status;
import java.time.Duration;
import java.util.Optional;

/**
 * A failure whose gRPC status code is decided where it is thrown. The message is sent to the caller as the status
 * description, so it names the field or object and what was wrong, and never carries a secret.
 */
public abstract sealed class CsiException extends RuntimeException
        permits CsiException.InvalidArgument, CsiException.NotFound, CsiException.AlreadyExists,
                CsiException.Aborted, CsiException.DeadlineExceeded, CsiException.PermissionDenied,
                CsiException.FailedPrecondition, CsiException.OutOfRange, CsiException.ResourceExhausted,
                CsiException.Unimplemented, CsiException.Unavailable, CsiException.Internal {

    private CsiException(String message, Throwable cause) {
        super(message, cause);
    }

    /** The gRPC code this failure is reported with. */
    public abstract Status.Code code();

    /** Whether the caller caused it (logged as a warning) rather than the driver or its environment (an error). */
    public boolean callerFault() {
        return true;
    }

    public static final class InvalidArgument extends CsiException {
        public InvalidArgument(String message) { super(message, null); }
        @Override public Status.Code code() { return Status.Code.INVALID_ARGUMENT; }
    }

    public static final class NotFound extends CsiException {
        public NotFound(String message) { super(message, null); }
        @Override public Status.Code code() { return Status.Code.NOT_FOUND; }
    }

    public static final class AlreadyExists extends CsiException {
        public AlreadyExists(String message) { super(message, null); }
        @Override public Status.Code code() { return Status.Code.ALREADY_EXISTS; }
    }

    /** Another call for the same volume or name is in flight, or a paging token is stale. */
    public static final class Aborted extends CsiException {
        public Aborted(String message) { super(message, null); }
        @Override public Status.Code code() { return Status.Code.ABORTED; }
    }

    public static final class DeadlineExceeded extends CsiException {
        public DeadlineExceeded(String message) { super(message, null); }
        @Override public Status.Code code() { return Status.Code.DEADLINE_EXCEEDED; }
        @Override public boolean callerFault() { return false; }
    }

    public static final class PermissionDenied extends CsiException {
        public PermissionDenied(String message) { super(message, null); }
        @Override public Status.Code code() { return Status.Code.PERMISSION_DENIED; }
    }

    public static final class FailedPrecondition extends CsiException {
        public FailedPrecondition(String message) { super(message, null); }
        @Override public Status.Code code() { return Status.Code.FAILED_PRECONDITION; }
    }

    public static final class OutOfRange extends CsiException {
        public OutOfRange(String message) { super(message, null); }
        @Override public Status.Code code() { return Status.Code.OUT_OF_RANGE; }
    }

    /**
     * A bounded resource is full: the driver's own (mount processes, threads blocked in the kernel) or the server's
     * (no space). With {@link #retryAfter()} the status carries a {@code google.rpc.RetryInfo} and the message ends
     * with "retry after Ns".
     */
    public static final class ResourceExhausted extends CsiException {
        private final Duration retryAfter;

        public ResourceExhausted(String message) {
            super(message, null);
            this.retryAfter = null;
        }

        /** @param retryAfter when a retry may find room, rounded up to whole seconds in the message */
        public ResourceExhausted(String message, Duration retryAfter) {
            super(retryAfter == null ? message : message + "; retry after " + seconds(retryAfter) + "s", null);
            this.retryAfter = retryAfter;
        }

        /** When a retry may find room, if the failure is one that time cures. */
        public Optional<Duration> retryAfter() { return Optional.ofNullable(retryAfter); }

        private static long seconds(Duration d) {
            return Math.max(1, d.plusNanos(999_999_999).toSeconds());
        }

        @Override public Status.Code code() { return Status.Code.RESOURCE_EXHAUSTED; }
        @Override public boolean callerFault() { return false; }
    }

    public static final class Unimplemented extends CsiException {
        public Unimplemented(String message) { super(message, null); }
        @Override public Status.Code code() { return Status.Code.UNIMPLEMENTED; }
    }

    public static final class Unavailable extends CsiException {
        public Unavailable(String message, Throwable cause) { super(message, cause); }
        @Override public Status.Code code() { return Status.Code.UNAVAILABLE; }
        @Override public boolean callerFault() { return false; }
    }

    /** A fault of the driver or its environment; the cause, if any, is logged but not sent to the caller. */
    public static final class Internal extends CsiException {
        public Internal(String message) { super(message, null); }
        public Internal(String message, Throwable cause) { super(message, cause); }
        @Override public Status.Code code() { return Status.Code.INTERNAL; }
        @Override public boolean callerFault() { return false; }
    }
}
