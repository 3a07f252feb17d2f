package io.nfscsi.walkthrough;

import static io.nfscsi.testbed.Shell.step;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import io.grpc.StatusRuntimeException;
import io.nfscsi.csi.v1.Csi;
import io.nfscsi.logging.LogFormat;
import io.nfscsi.testbed.DriverProcess;
import io.nfscsi.testing.LogLines;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The driver's log as a log pipeline reads it: a walkthrough (create, publish with a secret, stats, snapshot, a
 * call that fails, unpublish, delete, SIGTERM) at {@code -v 4} in each format, after which every line of the log
 * parses (klog's text format, or one Kubernetes JSON object), every RPC has one line naming its method, code,
 * duration and volume or snapshot, and the secret is on no line.
 */
@Tag("nfs")
class KubernetesLogsTest {

    static final Path SHARE = StaticVolumeWalkthroughTest.EXPORT.resolve("logs");
    static final String SENTINEL = "log-sentinel-5c2e";

    /** One parsed line, whatever the format: message, keys as text, and whether it is an error line. */
    record Line(String message, Map<String, String> keys, boolean error, String caller) {}

    @ParameterizedTest
    @EnumSource(LogFormat.class)
    void walkthrough_everyLineParses_oneLinePerRpc_noSecret(LogFormat format) throws Exception {
        String name = format.name().toLowerCase(Locale.ROOT);
        Files.createDirectories(SHARE);
        step("driver (DriverProcess: -v 4) with --logging-format=" + name);
        DriverProcess driver = DriverProcess.start(Path.of("/run/nfs-csi-logs-" + name), "--logging-format=" + name);
        String log;
        String volumeId;
        String snapshotId;
        try {
            Map<String, String> sc = Map.of("server", "127.0.0.1", "share", SHARE.toString());
            volumeId = driver.controller().createVolume(Provisioner.create("pv-logs-" + name, "default", "data",
                    1 << 30, sc, List.of())).getVolume().getVolumeId();
            Path target = Kubelet.newTarget("pv-logs-" + name);
            driver.node().nodePublishVolume(Kubelet.publish(volumeId, target, sc, false, List.of()).toBuilder()
                    .putSecrets("password", SENTINEL).build());
            driver.node().nodeGetVolumeStats(Kubelet.stats(volumeId, target));
            snapshotId = driver.controller().createSnapshot(Csi.CreateSnapshotRequest.newBuilder()
                    .setName("snap-logs-" + name).setSourceVolumeId(volumeId).putSecrets("password", SENTINEL)
                    .build()).getSnapshot().getSnapshotId();
            driver.controller().deleteSnapshot(Csi.DeleteSnapshotRequest.newBuilder().setSnapshotId(snapshotId)
                    .build());
            assertThatThrownBy(() -> driver.node().nodePublishVolume(Csi.NodePublishVolumeRequest.newBuilder()
                    .setVolumeId(volumeId).putSecrets("password", SENTINEL).build()))
                    .isInstanceOf(StatusRuntimeException.class);
            driver.node().nodeUnpublishVolume(Kubelet.unpublish(volumeId, target));
            driver.controller().deleteVolume(Provisioner.delete(volumeId));
            step("SIGTERM");
            driver.terminate();
            log = driver.log();
        } finally {
            driver.close();
        }

        List<Line> lines = new ArrayList<>();
        for (String l : log.lines().toList()) {
            lines.add(format == LogFormat.JSON ? json(l) : text(l));
        }
        step(lines.size() + " lines, each parsed as " + name);
        assertThat(log).doesNotContain(SENTINEL);
        assertThat(lines).allSatisfy(l -> assertThat(l.caller()).matches("[A-Za-z0-9$_]+\\.java:\\d+"));
        List<Line> calls = lines.stream().filter(l -> l.message().equals("GRPC call")).toList();
        assertThat(calls).allSatisfy(l -> assertThat(l.keys()).containsKeys("method", "code", "duration"));
        assertThat(calls).anySatisfy(l -> assertThat(l.keys()).containsEntry("method", "CreateVolume")
                .containsEntry("code", "OK").containsEntry("volumeID", volumeId));
        assertThat(calls).anySatisfy(l -> assertThat(l.keys()).containsEntry("method", "NodePublishVolume")
                .containsEntry("code", "OK").containsEntry("volumeID", volumeId));
        assertThat(calls).anySatisfy(l -> assertThat(l.keys()).containsEntry("method", "NodePublishVolume")
                .containsEntry("code", "INVALID_ARGUMENT").containsKey("err"));
        assertThat(calls).anySatisfy(l -> assertThat(l.keys()).containsEntry("method", "CreateSnapshot")
                .containsEntry("snapshotID", snapshotId).containsEntry("volumeID", volumeId));
        assertThat(calls).anySatisfy(l -> assertThat(l.keys()).containsEntry("method", "DeleteSnapshot")
                .containsEntry("snapshotID", snapshotId));
        assertThat(calls).anySatisfy(l -> assertThat(l.keys()).containsEntry("method", "DeleteVolume")
                .containsEntry("code", "OK").containsEntry("volumeID", volumeId));
        assertThat(calls).as("Probe, polled: a debug line, shown at -v 4")
                .anySatisfy(l -> assertThat(l.keys()).containsEntry("method", "Probe"));
        assertThat(lines).anySatisfy(l -> assertThat(l.message()).startsWith("signal received"));
    }

    private static Line text(String line) {
        LogLines.Text t = LogLines.text(line);
        return new Line(t.message(), t.keys(), t.severity() == 'E', t.caller());
    }

    private static Line json(String line) {
        JsonNode node = LogLines.json(line);
        Map<String, String> keys = new LinkedHashMap<>();
        node.properties().forEach(e -> keys.put(e.getKey(), e.getValue().asText()));
        return new Line(node.get("msg").asText(), keys, !node.has("v"), node.get("caller").asText());
    }
}
