package io.nfscsi.controller;

import io.grpc.stub.StreamObserver;
import io.nfscsi.csi.v1.ControllerGrpc;
import io.nfscsi.csi.v1.Csi;

/** The CSI Controller service: capabilities only, so far; the generated base answers UNIMPLEMENTED for the rest. */
public final class ControllerService extends ControllerGrpc.ControllerImplBase {

    @Override
    public void controllerGetCapabilities(Csi.ControllerGetCapabilitiesRequest req,
                                          StreamObserver<Csi.ControllerGetCapabilitiesResponse> reply) {
        reply.onNext(Csi.ControllerGetCapabilitiesResponse.getDefaultInstance());
        reply.onCompleted();
    }
}
