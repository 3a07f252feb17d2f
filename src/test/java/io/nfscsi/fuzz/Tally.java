package io.nfscsi.fuzz;

import com.google.protobuf.Message;
import com.google.protobuf.TextFormat;
import io.grpc.Status;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What one RPC's fuzzing saw: how many requests, the codes answered, and the failures (UNKNOWN or INTERNAL
 * answers, calls that did not answer in time, paths touched outside), one sample of each kind of failure.
 */
final class Tally {

    private static final int SAMPLE_CHARS = 400;

    final String rpc;
    int tried;
    int badAnswers;
    int hung;
    int touched;
    boolean crashed;
    final Map<Status.Code, Integer> codes = new EnumMap<>(Status.Code.class);
    /** One sample request per distinct failure, keyed by the failure with digits masked. */
    final Map<String, String> failures = new LinkedHashMap<>();

    Tally(String rpc) {
        this.rpc = rpc;
    }

    void answered(Status status, Message request) {
        tried++;
        codes.merge(status.getCode(), 1, Integer::sum);
        switch (status.getCode()) {
            case UNKNOWN, INTERNAL -> {
                badAnswers++;
                fail(status.getCode() + " " + status.getDescription(), request);
            }
            case DEADLINE_EXCEEDED -> {
                // nothing here blocks on a server: a call that ran out of time hung in the driver
                hung++;
                fail("DEADLINE_EXCEEDED (call deadline " + FuzzBed.CALL_DEADLINE + "): " + status.getDescription(),
                        request);
            }
            default -> { }
        }
    }

    void touched(List<String> changes, Message request) {
        touched += changes.size();
        fail("touched outside the share: " + changes, request);
    }

    private void fail(String what, Message request) {
        String shown = abbreviate(what);
        failures.putIfAbsent(shown.replaceAll("[0-9]+", "N"),
                shown + "\n    request: " + abbreviate(TextFormat.printer().emittingSingleLine(true).printToString(request)));
    }

    private static String abbreviate(String s) {
        return s.length() <= SAMPLE_CHARS ? s : s.substring(0, SAMPLE_CHARS) + "… (" + s.length() + " chars)";
    }

    boolean failed() {
        return badAnswers > 0 || hung > 0 || touched > 0 || crashed;
    }

    String report() {
        List<String> lines = new ArrayList<>();
        lines.add(rpc + ": " + tried + " requests, codes " + codes + (crashed ? ", Probe unanswered after" : ""));
        failures.values().stream().limit(20).forEach(f -> lines.add("  " + f));
        return String.join("\n", lines);
    }
}
