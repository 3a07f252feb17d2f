package io.nfscsi.server;

import io.grpc.ForwardingServerCall;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.nfscsi.metrics.DriverMetrics;
import java.util.function.LongSupplier;

/**
 * Counts every call and times it, by method and the gRPC code of its reply ({@code nfs_csi_rpc_handled_total},
 * {@code nfs_csi_rpc_duration_seconds}). It sits beside {@link RequestLog}, after the {@link ErrorTranslator}, so it
 * sees the code the caller receives.
 */
public final class RpcMetrics implements ServerInterceptor {

    private final DriverMetrics metrics;
    private final LongSupplier nanoTime;

    public RpcMetrics(DriverMetrics metrics) {
        this(metrics, System::nanoTime);
    }

    RpcMetrics(DriverMetrics metrics, LongSupplier nanoTime) {
        this.metrics = metrics;
        this.nanoTime = nanoTime;
    }

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
                                                       ServerCallHandler<Q, R> next) {
        long start = nanoTime.getAsLong();
        String method = call.getMethodDescriptor().getBareMethodName();
        return next.startCall(new ForwardingServerCall.SimpleForwardingServerCall<>(call) {
            @Override
            public void close(Status status, Metadata trailers) {
                metrics.rpc(method, status.getCode().name(), nanoTime.getAsLong() - start);
                super.close(status, trailers);
            }
        }, headers);
    }
}
