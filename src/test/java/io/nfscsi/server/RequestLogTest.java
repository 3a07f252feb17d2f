package io.nfscsi.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.ServerInterceptors;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.StreamObserver;
import io.nfscsi.csi.v1.Csi;
import io.nfscsi.csi.v1.NodeGrpc;
import io.nfscsi.error.CsiException;
import io.nfscsi.testing.RecordingLogger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class RequestLogTest {

    static final String SENTINEL = "do-not-log-me-4711";

    RecordingLogger log = new RecordingLogger();
    AtomicLong clock = new AtomicLong();
    io.grpc.Server server;
    io.grpc.ManagedChannel channel;

    /** Publish succeeds after 7 ms of fake time; unpublish fails as the caller's fault; stats as the driver's. */
    static final class Node extends NodeGrpc.NodeImplBase {
        final AtomicLong clock;

        Node(AtomicLong clock) {
            this.clock = clock;
        }

        @Override
        public void nodePublishVolume(Csi.NodePublishVolumeRequest req,
                                      StreamObserver<Csi.NodePublishVolumeResponse> reply) {
            clock.addAndGet(7_000_000);
            reply.onNext(Csi.NodePublishVolumeResponse.getDefaultInstance());
            reply.onCompleted();
        }

        @Override
        public void nodeUnpublishVolume(Csi.NodeUnpublishVolumeRequest req,
                                        StreamObserver<Csi.NodeUnpublishVolumeResponse> reply) {
            throw new CsiException.InvalidArgument("target_path is required");
        }

        @Override
        public void nodeGetVolumeStats(Csi.NodeGetVolumeStatsRequest req,
                                       StreamObserver<Csi.NodeGetVolumeStatsResponse> reply) {
            throw new IllegalStateException("boom");
        }
    }

    @BeforeEach
    void start() throws Exception {
        String name = InProcessServerBuilder.generateName();
        server = InProcessServerBuilder.forName(name).directExecutor()
                .addService(ServerInterceptors.intercept(new Node(clock), new ErrorTranslator(),
                        new RequestLog(log, clock::get)))
                .build().start();
        channel = InProcessChannelBuilder.forName(name).directExecutor().build();
    }

    @AfterEach
    void stop() {
        channel.shutdownNow();
        server.shutdownNow();
    }

    @Test
    void call_isLoggedOnOneLine_withMethodCodeDuration_andNoSecret() {
        NodeGrpc.newBlockingStub(channel).nodePublishVolume(Csi.NodePublishVolumeRequest.newBuilder()
                .setVolumeId("vol-9").putSecrets("password", SENTINEL).build());
        assertThat(log.lines()).hasSize(1);
        String line = log.lines().getFirst();
        assertThat(line).startsWith("INFO ").contains("method=NodePublishVolume", "code=OK", "duration=7ms",
                "vol-9", "password", "***").doesNotContain(SENTINEL).doesNotContain("\n");
    }

    @Test
    void callerFault_isWarn_driverFault_isError() {
        var stub = NodeGrpc.newBlockingStub(channel);
        try {
            stub.nodeUnpublishVolume(Csi.NodeUnpublishVolumeRequest.getDefaultInstance());
        } catch (RuntimeException expected) {
            // logged below
        }
        try {
            stub.nodeGetVolumeStats(Csi.NodeGetVolumeStatsRequest.getDefaultInstance());
        } catch (RuntimeException expected) {
            // logged below
        }
        assertThat(log.lines()).anySatisfy(l -> assertThat(l).startsWith("WARN ").contains("code=INVALID_ARGUMENT"));
        assertThat(log.lines()).anySatisfy(l -> assertThat(l).startsWith("ERROR ").contains("code=INTERNAL"));
    }
}
