package io.nfscsi.conformance;

import io.grpc.Status;
import java.util.List;

/**
 * A row of docs/errors.md that no scenario provokes, and why. {@code rpc} is {@code "*"} for a code that no
 * scenario provokes whatever the call. {@code coveredBy} names the other tests that provoke the row and assert its
 * code for that call, as {@code "package.Class#method"} below {@code io.nfscsi} ({@link CatalogueTest} checks they
 * exist); it is empty for a row that no test provokes.
 */
record Exclusion(String rpc, Status.Code code, String reason, List<String> coveredBy) {

    Exclusion {
        coveredBy = List.copyOf(coveredBy);
    }

    /** A row that no test provokes, for {@code reason}. */
    Exclusion(String rpc, Status.Code code, String reason) {
        this(rpc, code, reason, List.of());
    }

    /** A row that the named tests provoke, and why the conformance run does not. */
    static Exclusion coveredBy(String rpc, Status.Code code, String reason, String... tests) {
        if (tests.length == 0) {
            throw new IllegalArgumentException(rpc + " " + code + ": name at least one test");
        }
        return new Exclusion(rpc, code, reason, List.of(tests));
    }

    boolean covers(String call, Status.Code c) {
        return code == c && (rpc.equals("*") || rpc.equals(call));
    }
}
