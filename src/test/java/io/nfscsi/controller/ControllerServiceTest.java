package io.nfscsi.controller;

import static io.nfscsi.testing.InProcessCsi.assertCode;
import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.Status;
import io.nfscsi.csi.v1.ControllerGrpc;
import io.nfscsi.csi.v1.Csi;
import io.nfscsi.testing.InProcessCsi;
import org.junit.jupiter.api.Test;

class ControllerServiceTest {

    @Test
    void capabilities_answer_andUnadvertisedCallsAreUnimplemented() throws Exception {
        try (var csi = new InProcessCsi(new ControllerService())) {
            var stub = ControllerGrpc.newBlockingStub(csi.channel());
            assertThat(stub.controllerGetCapabilities(Csi.ControllerGetCapabilitiesRequest.getDefaultInstance())
                    .getCapabilitiesList()).isEmpty();
            assertCode(Status.Code.UNIMPLEMENTED, () -> stub.createVolume(Csi.CreateVolumeRequest.getDefaultInstance()));
            assertCode(Status.Code.UNIMPLEMENTED, () -> stub.deleteVolume(Csi.DeleteVolumeRequest.getDefaultInstance()));
        }
    }
}
