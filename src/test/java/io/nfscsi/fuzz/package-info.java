/**
 * Fuzzing of the driver's gRPC services: generated requests for every RPC of Identity, Controller and Node, each
 * a valid request with some of its fields (any field of the proto messages, nested ones included) replaced by
 * hostile values, sent to the real services in-process with a fake mounter and temporary share and kubelet
 * directories. What must never happen: an UNKNOWN or INTERNAL answer, a path touched outside the share, the
 * kubelet directory and the driver's own state, a server that stops answering.
 */
package io.nfscsi.fuzz;
