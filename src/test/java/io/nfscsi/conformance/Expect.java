package io.nfscsi.conformance;

import io.grpc.Status;

/** One call a scenario makes and the gRPC status code the spec (or docs/errors.md) names for it. */
record Expect(String rpc, Status.Code code) {

    @Override
    public String toString() {
        return rpc + " " + code;
    }
}
