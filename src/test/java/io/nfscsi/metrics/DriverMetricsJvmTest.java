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

    @Test
    void aRegistryWithoutJvmHasNone() {
        MetricSnapshots snapshots = DriverMetrics.unexported().registry().scrape();
        assertThat(names(snapshots)).isNotEmpty().noneMatch(n -> n.startsWith("jvm_") || n.startsWith("process_"));
    }
}
