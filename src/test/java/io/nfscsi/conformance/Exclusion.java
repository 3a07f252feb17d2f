package io.nfscsi.conformance;

import io.grpc.Status;

/**
 * A row of docs/errors.md that no scenario provokes, and why. {@code rpc} is {@code "*"} for a code that no
 * scenario provokes whatever the call.
 */
record Exclusion(String rpc, Status.Code code, String reason) {

    boolean covers(String call, Status.Code c) {
        return code == c && (rpc.equals("*") || rpc.equals(call));
    }
}
