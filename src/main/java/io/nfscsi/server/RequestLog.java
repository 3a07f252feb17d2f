package io.nfscsi.server;

import com.google.protobuf.Message;
import io.grpc.ForwardingServerCall;
import io.grpc.ForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Logs one line per call when it ends: method, gRPC code, duration and the request with its secrets masked
 * ({@link SecretRedactor}). Calls that sidecars poll (Probe, capabilities, stats) are logged at debug level unless
 * they fail; failures the caller caused at warn, the driver's own faults at error.
 */
public final class RequestLog implements ServerInterceptor {

    private static final Set<String> POLLED = Set.of("Probe", "GetPluginInfo", "GetPluginCapabilities",
            "NodeGetCapabilities", "ControllerGetCapabilities", "NodeGetInfo", "NodeGetVolumeStats");
    private static final Set<Status.Code> DRIVER_FAULTS = Set.of(Status.Code.INTERNAL, Status.Code.UNKNOWN,
            Status.Code.DEADLINE_EXCEEDED, Status.Code.UNAVAILABLE, Status.Code.RESOURCE_EXHAUSTED,
            Status.Code.DATA_LOSS);

    private final Logger log;
    private final LongSupplier nanoTime;

    public RequestLog() {
        this(LoggerFactory.getLogger(RequestLog.class), System::nanoTime);
    }

    RequestLog(Logger log, LongSupplier nanoTime) {
        this.log = log;
        this.nanoTime = nanoTime;
    }

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
                                                       ServerCallHandler<Q, R> next) {
        long start = nanoTime.getAsLong();
        String method = call.getMethodDescriptor().getBareMethodName();
        Object[] request = new Object[1];
        ServerCall<Q, R> logging = new ForwardingServerCall.SimpleForwardingServerCall<>(call) {
            @Override
            public void close(Status status, Metadata trailers) {
                write(method, status, TimeUnit.NANOSECONDS.toMillis(nanoTime.getAsLong() - start), request[0]);
                super.close(status, trailers);
            }
        };
        return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(next.startCall(logging, headers)) {
            @Override
            public void onMessage(Q message) {
                request[0] = message;
                super.onMessage(message);
            }
        };
    }

    private void write(String method, Status status, long millis, Object request) {
        String body = request instanceof Message m ? SecretRedactor.render(m) : "";
        String line = "method=" + method + " code=" + status.getCode() + " duration=" + millis + "ms"
                + (status.getDescription() == null ? "" : " error=\"" + status.getDescription() + "\"")
                + " request={" + body + "}";
        if (status.isOk()) {
            if (POLLED.contains(method)) {
                log.debug(line);
            } else {
                log.info(line);
            }
        } else if (DRIVER_FAULTS.contains(status.getCode())) {
            log.error(line);
        } else {
            log.warn(line);
        }
    }
}
