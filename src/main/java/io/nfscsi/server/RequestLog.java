package io.nfscsi.server;

import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Message;
import io.grpc.ForwardingServerCall;
import io.grpc.ForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.Set;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.event.Level;
import org.slf4j.spi.LoggingEventBuilder;
import org.slf4j.spi.NOPLoggingEventBuilder;

/**
 * Logs one line per call when it ends, {@code "GRPC call"} with the keys {@code method}, {@code code},
 * {@code duration} (as Go writes durations), {@code volumeID} and {@code snapshotID} when the request or the reply
 * names them, {@code err} (the status description) when the call failed, and the request with its secrets masked
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
        Object[] reply = new Object[1];
        ServerCall<Q, R> logging = new ForwardingServerCall.SimpleForwardingServerCall<>(call) {
            @Override
            public void sendMessage(R message) {
                reply[0] = message;
                super.sendMessage(message);
            }

            @Override
            public void close(Status status, Metadata trailers) {
                write(method, status, Duration.ofNanos(nanoTime.getAsLong() - start), request[0], reply[0]);
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

    private void write(String method, Status status, Duration took, Object request, Object reply) {
        Level level = status.isOk() ? (POLLED.contains(method) ? Level.DEBUG : Level.INFO)
                : DRIVER_FAULTS.contains(status.getCode()) ? Level.ERROR : Level.WARN;
        LoggingEventBuilder line = log.atLevel(level);
        if (line instanceof NOPLoggingEventBuilder) {
            return;
        }
        line = line.addKeyValue("method", method).addKeyValue("code", status.getCode().name())
                .addKeyValue("duration", goDuration(took.truncatedTo(ChronoUnit.MICROS)));
        String volume = id(request, reply, "volume_id", "source_volume_id");
        if (volume != null) {
            line = line.addKeyValue("volumeID", volume);
        }
        String snapshot = id(request, reply, "snapshot_id", null);
        if (snapshot != null) {
            line = line.addKeyValue("snapshotID", snapshot);
        }
        if (!status.isOk()) {
            line = line.addKeyValue("err", status.getDescription() == null ? status.getCode().name()
                    : status.getDescription());
        }
        line.addKeyValue("request", request instanceof Message m ? SecretRedactor.render(m) : "")
                .log("GRPC call");
    }

    /**
     * The ID that the request names in {@code field} (or else {@code other}), or else the one the reply names in a
     * message field (CreateVolume's {@code volume}, CreateSnapshot's {@code snapshot}).
     */
    private static String id(Object request, Object reply, String field, String other) {
        if (request instanceof Message m) {
            for (String name : other == null ? new String[] {field} : new String[] {field, other}) {
                FieldDescriptor f = m.getDescriptorForType().findFieldByName(name);
                if (f != null && f.getType() == FieldDescriptor.Type.STRING && !f.isRepeated()
                        && !((String) m.getField(f)).isEmpty()) {
                    return (String) m.getField(f);
                }
            }
        }
        if (reply instanceof Message m) {
            for (FieldDescriptor f : m.getDescriptorForType().getFields()) {
                if (f.getType() == FieldDescriptor.Type.MESSAGE && !f.isRepeated() && m.hasField(f)) {
                    Message inner = (Message) m.getField(f);
                    FieldDescriptor id = inner.getDescriptorForType().findFieldByName(field);
                    if (id != null && id.getType() == FieldDescriptor.Type.STRING && !id.isRepeated()
                            && !((String) inner.getField(id)).isEmpty()) {
                        return (String) inner.getField(id);
                    }
                }
            }
        }
        return null;
    }

    /** As Go's {@code time.Duration.String()}: {@code 850µs}, {@code 7.25ms}, {@code 1.5s}, {@code 2m3.5s}. */
    static String goDuration(Duration d) {
        long nanos = d.toNanos();
        if (nanos < 1_000) {
            return nanos + "ns";
        } else if (nanos < 1_000_000) {
            return decimal(nanos, 1_000) + "µs";
        } else if (nanos < 1_000_000_000) {
            return decimal(nanos, 1_000_000) + "ms";
        }
        long hours = d.toHours();
        int minutes = d.toMinutesPart();
        String seconds = decimal(nanos % 60_000_000_000L, 1_000_000_000) + "s";
        return hours > 0 ? hours + "h" + minutes + "m" + seconds : minutes > 0 ? minutes + "m" + seconds : seconds;
    }

    private static String decimal(long value, long unit) {
        String fraction = Long.toString(value % unit + unit).substring(1).replaceAll("0+$", "");
        return value / unit + (fraction.isEmpty() ? "" : "." + fraction);
    }
}
