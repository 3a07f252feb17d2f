package io.nfscsi.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.Status;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.nfscsi.concurrent.BoundedIo;
import io.nfscsi.csi.v1.Csi;
import io.nfscsi.csi.v1.IdentityGrpc;
import io.nfscsi.csi.v1.NodeGrpc;
import io.nfscsi.identity.IdentityService;
import io.nfscsi.metrics.DriverMetrics;
import io.nfscsi.metrics.MetricsAddress;
import io.nfscsi.metrics.MetricsServer;
import io.nfscsi.node.NodeService;
import io.nfscsi.testing.FakeMounter;
import io.nfscsi.testing.InProcessCsi;
import io.nfscsi.testing.Scrape;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The RPC metrics as a scraper sees them: over HTTP, in the text format, moving with the calls made. */
class RpcMetricsTest {

    @TempDir
    Path dir;

    private final DriverMetrics metrics = new DriverMetrics().withJvm();
    private Server server;
    private ManagedChannel channel;
    private MetricsServer http;

    @BeforeEach
    void start() throws Exception {
        String name = InProcessServerBuilder.generateName();
        NodeService node = new NodeService("node-1", new FakeMounter(), new BoundedIo(4), dir.resolve("state"),
                Duration.ofSeconds(5), Duration.ofSeconds(2), Clock.systemUTC());
        RpcMetrics rpc = new RpcMetrics(metrics);
        ErrorTranslator errors = new ErrorTranslator();
        server = InProcessServerBuilder.forName(name).executor(Executors.newVirtualThreadPerTaskExecutor())
                .addService(ServerInterceptors.intercept(new IdentityService("n", "v", Optional::empty), errors, rpc))
                .addService(ServerInterceptors.intercept(node, errors, rpc))
                .build().start();
        channel = InProcessChannelBuilder.forName(name).directExecutor().build();
        http = MetricsServer.start(new MetricsAddress("127.0.0.1", 0), metrics);
    }

    @AfterEach
    void stop() {
        channel.shutdownNow();
        server.shutdownNow();
        http.close();
    }

    private Scrape scrape() throws Exception {
        return Scrape.of("127.0.0.1", http.port());
    }

    @Test
    void calls_countedByMethodAndCode() throws Exception {
        Scrape before = scrape();
        var identity = IdentityGrpc.newBlockingStub(channel);
        for (int i = 0; i < 3; i++) {
            identity.getPluginInfo(Csi.GetPluginInfoRequest.getDefaultInstance());
        }
        var nodes = NodeGrpc.newBlockingStub(channel);
        InProcessCsi.assertCode(Status.Code.INVALID_ARGUMENT,
                () -> nodes.nodePublishVolume(Csi.NodePublishVolumeRequest.getDefaultInstance()));
        Scrape after = scrape();

        assertThat(after.type("nfs_csi_rpc_handled_total")).isEqualTo("counter");
        assertThat(after.value("nfs_csi_rpc_handled_total", "method", "GetPluginInfo", "code", "OK")
                - before.value("nfs_csi_rpc_handled_total", "method", "GetPluginInfo", "code", "OK")).isEqualTo(3);
        assertThat(after.value("nfs_csi_rpc_handled_total", "method", "NodePublishVolume",
                "code", "INVALID_ARGUMENT")).isEqualTo(1);
        assertThat(after.value("nfs_csi_rpc_handled_total", "method", "NodePublishVolume", "code", "OK")).isZero();
    }

    @Test
    void latency_histogramCountsEveryCallInItsBuckets() throws Exception {
        var identity = IdentityGrpc.newBlockingStub(channel);
        identity.probe(Csi.ProbeRequest.getDefaultInstance());
        identity.probe(Csi.ProbeRequest.getDefaultInstance());
        Scrape s = scrape();

        assertThat(s.type("nfs_csi_rpc_duration_seconds")).isEqualTo("histogram");
        assertThat(s.value("nfs_csi_rpc_duration_seconds_count", "method", "Probe", "code", "OK")).isEqualTo(2);
        assertThat(s.value("nfs_csi_rpc_duration_seconds_bucket", "method", "Probe", "code", "OK", "le", "+Inf"))
                .isEqualTo(2);
        assertThat(s.value("nfs_csi_rpc_duration_seconds_sum", "method", "Probe", "code", "OK"))
                .isGreaterThan(0).isLessThan(60);
    }

    @Test
    void scraperAskingForProtobuf_isAnswered() throws Exception {
        try (HttpClient client = HttpClient.newHttpClient()) {
            HttpResponse<byte[]> reply = client.send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + http.port() + "/metrics"))
                    .header("Accept", "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;"
                            + "encoding=delimited;q=0.7,text/plain;version=0.0.4;q=0.3").build(),
                    HttpResponse.BodyHandlers.ofByteArray());

            assertThat(reply.statusCode()).isEqualTo(200);
            assertThat(reply.headers().firstValue("Content-Type")).hasValueSatisfying(t -> assertThat(t)
                    .startsWith("application/vnd.google.protobuf"));
            assertThat(new String(reply.body(), java.nio.charset.StandardCharsets.ISO_8859_1))
                    .contains("nfs_csi_mounts_killed_at_deadline_total").contains("jvm_memory_used_bytes");
        }
    }

    @Test
    void jvmBasics_areServed() throws Exception {
        Scrape s = scrape();

        assertThat(s.value("jvm_memory_used_bytes", "area", "heap")).isGreaterThan(0);
        assertThat(s.value("jvm_threads_current")).isGreaterThan(0);
        assertThat(s.has("jvm_gc_collection_seconds_count")).isTrue();
        assertThat(s.value("process_open_fds")).isGreaterThan(0);
    }
}
