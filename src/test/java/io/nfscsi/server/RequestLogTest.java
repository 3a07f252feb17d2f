package io.nfscsi.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.grpc.ServerInterceptors;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.StreamObserver;
import io.nfscsi.csi.v1.ControllerGrpc;
import io.nfscsi.csi.v1.Csi;
import io.nfscsi.csi.v1.NodeGrpc;
import io.nfscsi.error.CsiException;
import io.nfscsi.logging.LogFormat;
import io.nfscsi.testing.CapturedLogs;
import io.nfscsi.testing.LogLines;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

class RequestLogTest {

    static final String SENTINEL = "do-not-log-me-4711";

    AtomicLong clock = new AtomicLong();
    io.grpc.Server server;
    io.grpc.ManagedChannel channel;

    /** Publish succeeds after 7.25 ms of fake time; unpublish fails as the caller's fault; stats as the driver's. */
    static final class Node extends NodeGrpc.NodeImplBase {
        final AtomicLong clock;

        Node(AtomicLong clock) {
            this.clock = clock;
        }

        @Override
        public void nodePublishVolume(Csi.NodePublishVolumeRequest req,
                                      StreamObserver<Csi.NodePublishVolumeResponse> reply) {
            clock.addAndGet(7_250_000);
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

    /** CreateVolume and CreateSnapshot name their new IDs only in the reply. */
    static final class Controller extends ControllerGrpc.ControllerImplBase {
        @Override
        public void createVolume(Csi.CreateVolumeRequest req, StreamObserver<Csi.CreateVolumeResponse> reply) {
            reply.onNext(Csi.CreateVolumeResponse.newBuilder()
                    .setVolume(Csi.Volume.newBuilder().setVolumeId("new-vol-1")).build());
            reply.onCompleted();
        }

        @Override
        public void createSnapshot(Csi.CreateSnapshotRequest req, StreamObserver<Csi.CreateSnapshotResponse> reply) {
            reply.onNext(Csi.CreateSnapshotResponse.newBuilder()
                    .setSnapshot(Csi.Snapshot.newBuilder().setSnapshotId("snap-2").setSourceVolumeId("vol-3"))
                    .build());
            reply.onCompleted();
        }
    }

    @BeforeEach
    void start() throws Exception {
        String name = InProcessServerBuilder.generateName();
        RequestLog log = new RequestLog(LoggerFactory.getLogger(RequestLog.class), clock::get);
        server = InProcessServerBuilder.forName(name).directExecutor()
                .addService(ServerInterceptors.intercept(new Node(clock), new ErrorTranslator(), log))
                .addService(ServerInterceptors.intercept(new Controller(), new ErrorTranslator(), log))
                .build().start();
        channel = InProcessChannelBuilder.forName(name).directExecutor().build();
    }

    @AfterEach
    void stop() {
        channel.shutdownNow();
        server.shutdownNow();
    }

    /** The request log's lines: grpc-java's own trace lines come too, in the same format. */
    private static List<String> calls(List<String> lines) {
        return lines.stream().filter(l -> l.contains("GRPC call")).toList();
    }

    private void publish() {
        NodeGrpc.newBlockingStub(channel).nodePublishVolume(Csi.NodePublishVolumeRequest.newBuilder()
                .setVolumeId("vol-9").putSecrets("password", SENTINEL).build());
    }

    @Test
    void call_text_isOneKlogLine_withMethodCodeDurationVolume_andNoSecret() {
        List<String> lines;
        try (CapturedLogs logs = new CapturedLogs(LogFormat.TEXT)) {
            publish();
            lines = calls(logs.lines());
        }
        assertThat(lines).hasSize(1);
        assertThat(lines.getFirst()).doesNotContain(SENTINEL);
        LogLines.Text line = LogLines.text(lines.getFirst());
        assertThat(line.severity()).isEqualTo('I');
        assertThat(line.caller()).startsWith("RequestLog.java:");
        assertThat(line.message()).isEqualTo("GRPC call");
        assertThat(line.keys()).containsEntry("method", "NodePublishVolume").containsEntry("code", "OK")
                .containsEntry("duration", "7.25ms").containsEntry("volumeID", "vol-9")
                .doesNotContainKey("err");
        assertThat(line.keys().get("request")).contains("password", "***");
    }

    @Test
    void call_json_isOneObject_withTheSameKeys_andNoSecret() {
        List<String> lines;
        try (CapturedLogs logs = new CapturedLogs(LogFormat.JSON)) {
            publish();
            lines = calls(logs.lines());
        }
        assertThat(lines).hasSize(1);
        assertThat(lines.getFirst()).doesNotContain(SENTINEL);
        JsonNode line = LogLines.json(lines.getFirst());
        assertThat(line.get("msg").asText()).isEqualTo("GRPC call");
        assertThat(line.get("v").asInt()).isZero();
        assertThat(line.get("caller").asText()).startsWith("RequestLog.java:");
        assertThat(line.get("method").asText()).isEqualTo("NodePublishVolume");
        assertThat(line.get("code").asText()).isEqualTo("OK");
        assertThat(line.get("duration").asText()).isEqualTo("7.25ms");
        assertThat(line.get("volumeID").asText()).isEqualTo("vol-9");
        assertThat(line.get("request").asText()).contains("***");
    }

    @Test
    void createCalls_nameTheIdFromTheReply() {
        List<String> lines;
        try (CapturedLogs logs = new CapturedLogs(LogFormat.TEXT)) {
            var controller = ControllerGrpc.newBlockingStub(channel);
            controller.createVolume(Csi.CreateVolumeRequest.newBuilder().setName("pvc-1").build());
            controller.createSnapshot(Csi.CreateSnapshotRequest.newBuilder().setName("s").setSourceVolumeId("vol-3")
                    .build());
            lines = calls(logs.lines());
        }
        assertThat(lines).hasSize(2);
        assertThat(LogLines.text(lines.get(0)).keys()).containsEntry("volumeID", "new-vol-1");
        assertThat(LogLines.text(lines.get(1)).keys()).containsEntry("snapshotID", "snap-2")
                .containsEntry("volumeID", "vol-3");
    }

    @Test
    void callerFault_isWarn_driverFault_isError_bothWithErr() {
        List<String> lines;
        try (CapturedLogs logs = new CapturedLogs(LogFormat.TEXT)) {
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
            lines = calls(logs.lines());
        }
        List<LogLines.Text> calls = lines.stream().map(LogLines::text).toList();
        assertThat(calls).anySatisfy(l -> {
            assertThat(l.severity()).isEqualTo('W');
            assertThat(l.keys()).containsEntry("code", "INVALID_ARGUMENT").containsKey("err");
        });
        assertThat(calls).anySatisfy(l -> {
            assertThat(l.severity()).isEqualTo('E');
            assertThat(l.keys()).containsEntry("code", "INTERNAL").containsKey("err");
        });
    }

    @Test
    void goDuration_writesDurationsAsGo() {
        assertThat(RequestLog.goDuration(Duration.ofNanos(999))).isEqualTo("999ns");
        assertThat(RequestLog.goDuration(Duration.ofNanos(850_000))).isEqualTo("850µs");
        assertThat(RequestLog.goDuration(Duration.ofNanos(1_500_000_000))).isEqualTo("1.5s");
        assertThat(RequestLog.goDuration(Duration.ofSeconds(123, 500_000_000))).isEqualTo("2m3.5s");
        assertThat(RequestLog.goDuration(Duration.ofHours(1))).isEqualTo("1h0m0s");
    }
}
