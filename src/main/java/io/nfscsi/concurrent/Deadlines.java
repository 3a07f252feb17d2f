package io.nfscsi.concurrent;

import io.grpc.Context;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/** Deadlines for work done on behalf of a gRPC call. */
public final class Deadlines {

    private Deadlines() {}

    /**
     * The earlier of the current call's deadline (if the caller set one) and {@code cap} from now: what a mount,
     * unmount or stat started for this call may use.
     */
    public static Deadline forCall(Duration cap) {
        Deadline capped = Deadline.after(cap);
        io.grpc.Deadline requested = Context.current().getDeadline();
        return requested == null ? capped : fromGrpc(requested).minimum(capped);
    }

    /** The same point in time as gRPC's deadline, on the system clock. */
    public static Deadline fromGrpc(io.grpc.Deadline deadline) {
        return Deadline.after(deadline.timeRemaining(TimeUnit.NANOSECONDS), TimeUnit.NANOSECONDS);
    }

    /** "1.5s"-style rendering for messages. */
    public static String describe(Duration d) {
        long ms = d.toMillis();
        return ms % 1000 == 0 ? (ms / 1000) + "s" : String.format("%.1fs", ms / 1000.0);
    }
}
