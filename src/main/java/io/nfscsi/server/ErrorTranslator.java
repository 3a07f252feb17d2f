package io.nfscsi.server;

import com.google.protobuf.Any;
import com.google.rpc.RetryInfo;
import io.grpc.ForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import io.nfscsi.error.CsiException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one place where an exception thrown by a service becomes a gRPC status. A {@link CsiException} carries its
 * code; anything else is a bug or an environment fault and becomes INTERNAL with a logged stack trace, never the
 * UNKNOWN that grpc-java would otherwise send.
 */
public final class ErrorTranslator implements ServerInterceptor {

    private static final Logger log = LoggerFactory.getLogger(ErrorTranslator.class);

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
                                                       ServerCallHandler<Q, R> next) {
        ServerCall.Listener<Q> delegate = next.startCall(call, headers);
        return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(delegate) {
            @Override
            public void onMessage(Q message) {
                try {
                    super.onMessage(message);
                } catch (RuntimeException e) {
                    close(call, e);
                }
            }

            @Override
            public void onHalfClose() {
                try {
                    super.onHalfClose();
                } catch (RuntimeException e) {
                    close(call, e);
                }
            }
        };
    }

    private static void close(ServerCall<?, ?> call, RuntimeException e) {
        Status status = toStatus(call.getMethodDescriptor().getBareMethodName(), e);
        call.close(status, trailers(status, e));
    }

    /**
     * The trailers for {@code e}: for a RESOURCE_EXHAUSTED with a retry hint, a {@code google.rpc.Status} (in
     * {@code grpc-status-details-bin}, where {@code StatusProto.fromThrowable} finds it) whose details hold a
     * {@code google.rpc.RetryInfo}; otherwise none.
     */
    static Metadata trailers(Status status, Throwable e) {
        if (e instanceof CsiException.ResourceExhausted re && re.retryAfter().isPresent()) {
            java.time.Duration after = re.retryAfter().get();
            var details = com.google.rpc.Status.newBuilder()
                    .setCode(status.getCode().value())
                    .setMessage(status.getDescription())
                    .addDetails(Any.pack(RetryInfo.newBuilder().setRetryDelay(com.google.protobuf.Duration.newBuilder()
                            .setSeconds(after.getSeconds()).setNanos(after.getNano())).build()))
                    .build();
            return StatusProto.toStatusRuntimeException(details).getTrailers();
        }
        return new Metadata();
    }

    /** The status for {@code e}, logging faults that are the driver's own. */
    static Status toStatus(String method, Throwable e) {
        if (e instanceof CsiException ce) {
            if (!ce.callerFault() && ce.getCause() != null) {
                log.error("{}: {}", method, ce.getMessage(), ce.getCause());
            }
            return Status.fromCode(ce.code()).withDescription(ce.getMessage());
        }
        if (e instanceof StatusRuntimeException sre) {
            return sre.getStatus();
        }
        log.error("{}: unexpected failure", method, e);
        return Status.INTERNAL.withDescription("internal error in " + method + ": " + e);
    }
}
