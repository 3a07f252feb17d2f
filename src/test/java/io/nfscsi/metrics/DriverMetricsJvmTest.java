package io.nfscsi.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class DriverMetricsJvmTest {

    private static List<String> names(MetricSnapshots snapshots) {
        return snapshots.stream().map(s -> s.getMetadata().getPrometheusName()).toList();
    }

    @Test
    void theFirstScrapeOfARegistryWithJvmHasTheJvmMetrics() {
        DriverMetrics metrics = new DriverMetrics().withJvm();
        assertThat(names(metrics.registry().scrape())).contains("jvm_memory_used_bytes", "jvm_threads_current",
                "process_open_fds", "nfs_csi_rpc_handled");
        // registered once: a second scrape has each name once
        List<String> again = names(metrics.registry().scrape(name -> name.startsWith("jvm_")));
        assertThat(again).doesNotHaveDuplicates().contains("jvm_memory_used_bytes").allMatch(n -> n.startsWith("jvm_"));
    }

    /**
     * Exemplars (trace IDs beside samples) would make every counted call wake prometheus-metrics-core's scheduler
     * thread (3–4 ms of CPU per NodeGetVolumeStats in the test bed, bench/footprint-notes.md), and the driver has no
     * tracing to take them from: no metric samples them, so that thread never starts.
     */
    @Test
    void countingCallsStartsNoExemplarSchedulerThread() throws Exception {
        // in a JVM of its own: the scheduler thread, once started by anything, lives as long as the JVM
        Process child = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), CountCalls.class.getName())
                .redirectErrorStream(true).start();
        String out = new String(child.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(child.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(out.lines().toList()).as(out).contains("scrape has nfs_csi_rpc_handled: true",
                "scheduler threads: []");
    }

    /** Counts calls as the driver does, collects, scrapes with the JVM's collectors, and names scheduler threads. */
    static final class CountCalls {
        public static void main(String[] args) {
            DriverMetrics metrics = new DriverMetrics().withJvm();
            for (int i = 0; i < 50; i++) {
                metrics.rpc("NodeGetVolumeStats", "OK", 1_000_000);
                metrics.mountOperation("mount", "ok", 2_000_000);
                metrics.mountKilled();
                metrics.serverSucceeded("nfs.example.com", 1.0);
                metrics.serverFailed("nfs.example.com");
                metrics.serverFailedFast("nfs.example.com");
                metrics.jobStarted("delete");
                metrics.jobProgressed("delete", 3, 4096);
                metrics.jobEnded("delete", "ok");
            }
            System.out.println("scrape has nfs_csi_rpc_handled: "
                    + names(metrics.registry().scrape()).contains("nfs_csi_rpc_handled"));
            System.gc(); // the JVM collectors count collections
            metrics.registry().scrape();
            System.out.println("scheduler threads: " + Thread.getAllStackTraces().keySet().stream()
                    .map(Thread::getName).filter(n -> n.startsWith("prometheus-metrics-scheduler")).toList());
        }
    }

    @Test
    void aRegistryWithoutJvmHasNone() {
        MetricSnapshots snapshots = DriverMetrics.unexported().registry().scrape();
        assertThat(names(snapshots)).isNotEmpty().noneMatch(n -> n.startsWith("jvm_") || n.startsWith("process_"));
    }
}
