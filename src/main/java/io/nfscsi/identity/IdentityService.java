package io.nfscsi.identity;

import com.google.protobuf.BoolValue;
import io.grpc.stub.StreamObserver;
import io.nfscsi.csi.v1.Csi;
import io.nfscsi.csi.v1.IdentityGrpc;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The CSI Identity service. Probe answers from {@link Readiness} and logs only when the answer changes. */
public final class IdentityService extends IdentityGrpc.IdentityImplBase {

    private static final Logger log = LoggerFactory.getLogger(IdentityService.class);

    private final String driverName;
    private final String version;
    private final Readiness readiness;
    private final AtomicReference<Optional<String>> lastReason = new AtomicReference<>();

    public IdentityService(String driverName, String version, Readiness readiness) {
        this.driverName = driverName;
        this.version = version;
        this.readiness = readiness;
    }

    @Override
    public void getPluginInfo(Csi.GetPluginInfoRequest req, StreamObserver<Csi.GetPluginInfoResponse> reply) {
        reply.onNext(Csi.GetPluginInfoResponse.newBuilder().setName(driverName).setVendorVersion(version).build());
        reply.onCompleted();
    }

    @Override
    public void getPluginCapabilities(Csi.GetPluginCapabilitiesRequest req,
                                      StreamObserver<Csi.GetPluginCapabilitiesResponse> reply) {
        reply.onNext(Csi.GetPluginCapabilitiesResponse.newBuilder()
                .addCapabilities(Csi.PluginCapability.newBuilder().setService(
                        Csi.PluginCapability.Service.newBuilder()
                                .setType(Csi.PluginCapability.Service.Type.CONTROLLER_SERVICE)))
                .build());
        reply.onCompleted();
    }

    @Override
    public void probe(Csi.ProbeRequest req, StreamObserver<Csi.ProbeResponse> reply) {
        Optional<String> reason = readiness.notReadyReason();
        Optional<String> previous = lastReason.getAndSet(reason);
        if (!reason.equals(previous)) {
            if (reason.isPresent()) {
                log.warn("not ready: {}", reason.get());
            } else {
                log.info("ready");
            }
        }
        reply.onNext(Csi.ProbeResponse.newBuilder().setReady(BoolValue.of(reason.isEmpty())).build());
        reply.onCompleted();
    }
}
