package io.nfscsi.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import java.util.List;
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
    void countingCallsStartsNoExemplarSchedulerThread() {
        DriverMetrics metrics = DriverMetrics.unexported();
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
        assertThat(Thread.getAllStackTraces().keySet()).extracting(Thread::getName)
                .noneMatch(name -> name.startsWith("prometheus-metrics-scheduler"));
        assertThat(names(metrics.registry().scrape())).contains("nfs_csi_rpc_handled", "nfs_csi_jobs_ended");
    }

    @Test
    void aRegistryWithoutJvmHasNone() {
        MetricSnapshots snapshots = DriverMetrics.unexported().registry().scrape();
        assertThat(names(snapshots)).isNotEmpty().noneMatch(n -> n.startsWith("jvm_") || n.startsWith("process_"));
    }
}
