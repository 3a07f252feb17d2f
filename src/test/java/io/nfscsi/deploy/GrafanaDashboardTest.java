package io.nfscsi.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.nfscsi.metrics.DriverMetrics;
import io.nfscsi.testing.Scrape;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * The Grafana dashboard (deploy/helm/nfs-csi/dashboards/nfs-csi.json, copied to deploy/grafana/nfs-csi.json): a
 * well-formed dashboard whose every query names only metrics, and labels, that the driver or a sidecar exports. The
 * driver's names come from a real {@link DriverMetrics} registry with the JVM metrics, as Main builds it, scraped in
 * the text format after one observation of each kind; the sidecars' from sidecar-metrics.txt, read from
 * csi-lib-utils.
 */
class GrafanaDashboardTest {

    /** The canonical copy, inside the chart, where Helm's {@code .Files.Get} can read it. */
    static final Path DASHBOARD = Renders.CHART.resolve("dashboards/nfs-csi.json");
    /** The copy to import by hand. */
    static final Path COPY = Renders.DEPLOY.resolve("grafana/nfs-csi.json");

    /** The lowest schemaVersion we write: Grafana 10.4's; newer Grafanas migrate it on load. */
    static final int SCHEMA_VERSION = 39;

    @Test
    void copyInDeploy_isTheChartsDashboard() throws IOException {
        assertThat(Files.isSymbolicLink(COPY)).as("a file, so that a raw download gets the dashboard").isFalse();
        assertThat(Files.readString(COPY)).isEqualTo(Files.readString(DASHBOARD));
    }

    @Test
    void dashboard_isWellFormed() {
        JsonNode d = dashboard();
        assertThat(d.path("schemaVersion").asInt()).isGreaterThanOrEqualTo(SCHEMA_VERSION);
        assertThat(d.path("uid").asText()).isEqualTo("nfs-csi");
        JsonNode datasource = variables(d).get("datasource");
        assertThat(datasource).as("a datasource variable").isNotNull();
        assertThat(datasource.path("type").asText()).isEqualTo("datasource");
        assertThat(datasource.path("query").asText()).isEqualTo("prometheus");

        Set<Integer> ids = new HashSet<>();
        List<int[]> boxes = new ArrayList<>();
        for (JsonNode panel : d.path("panels")) {
            String title = panel.path("title").asText();
            assertThat(ids.add(panel.path("id").asInt())).as("id of %s is unique", title).isTrue();
            JsonNode g = panel.path("gridPos");
            int[] box = {g.path("x").asInt(), g.path("y").asInt(), g.path("w").asInt(), g.path("h").asInt()};
            assertThat(box[2]).as("%s has a width", title).isPositive();
            assertThat(box[3]).as("%s has a height", title).isPositive();
            assertThat(box[0] + box[2]).as("%s fits the 24 columns", title).isLessThanOrEqualTo(24);
            for (int[] other : boxes) {
                boolean overlap = box[0] < other[0] + other[2] && other[0] < box[0] + box[2]
                        && box[1] < other[1] + other[3] && other[1] < box[1] + box[3];
                assertThat(overlap).as("%s overlaps a panel at x=%d y=%d", title, other[0], other[1]).isFalse();
            }
            boxes.add(box);
            if (panel.path("type").asText().equals("row")) {
                continue;
            }
            assertThat(panel.path("datasource").path("uid").asText()).as(title).isEqualTo("${datasource}");
            assertThat(panel.path("targets")).as("%s has queries", title).isNotEmpty();
            Set<String> refIds = new HashSet<>();
            for (JsonNode target : panel.path("targets")) {
                assertThat(refIds.add(target.path("refId").asText())).as("refIds of %s", title).isTrue();
                assertThat(target.path("datasource").path("uid").asText()).as(title).isEqualTo("${datasource}");
                assertThat(target.path("expr").asText()).as("%s has an expr", title).isNotBlank();
            }
        }
        assertThat(ids).hasSizeGreaterThan(20);
    }

    @Test
    void everyQuery_namesMetricsAndLabelsThatAreExported() {
        JsonNode d = dashboard();
        assertThat(problems(d, exported())).as("queries naming what nothing exports").isEmpty();
        assertThat(exprs(d)).hasSizeGreaterThan(30);
        assertThat(variables(d).values()).filteredOn(v -> v.path("type").asText().equals("query")).hasSize(3);
    }

    /** The check of the whole dashboard bites: one misspelt metric in one panel, or in a variable, fails it. */
    @Test
    void dashboardCheck_findsOneMisspeltName() {
        Map<String, Set<String>> exported = exported();
        ObjectNode panelBroken = (ObjectNode) dashboard();
        ObjectNode target = (ObjectNode) panelBroken.findValues("targets").get(5).get(0);
        target.put("expr", target.path("expr").asText().replaceFirst("nfs_csi_\\w+", "nfs_csi_no_such_metric"));
        assertThat(problems(panelBroken, exported).values())
                .containsExactly(List.of("metric nfs_csi_no_such_metric is not exported"));

        ObjectNode variableBroken = (ObjectNode) dashboard();
        for (JsonNode v : variableBroken.path("templating").path("list")) {
            if (v.path("name").asText().equals("pod")) {
                ((ObjectNode) v.path("query")).put("query", "label_values(nfs_csi_rpc_handled_total, podname)");
                ((ObjectNode) v).put("definition", "label_values(nfs_csi_rpc_handled_total, podname)");
            }
        }
        assertThat(problems(variableBroken, exported).values())
                .containsExactly(List.of("nfs_csi_rpc_handled_total has no label podname"));
    }

    /** Every metric the driver defines is on the dashboard (so a new metric needs a panel, or a reason). */
    @Test
    void everyDriverMetric_isShown() {
        Set<String> shown = new TreeSet<>();
        for (String expr : exprs(dashboard())) {
            PromQueryNames.names(expr).selectors().forEach(s -> shown.add(family(s.metric())));
        }
        Set<String> driver = new TreeSet<>();
        exported().keySet().stream().filter(n -> n.startsWith("nfs_csi_")).forEach(n -> driver.add(family(n)));
        assertThat(driver).hasSizeGreaterThanOrEqualTo(20);
        assertThat(shown).containsAll(driver);
    }

    @Test
    void checker_refusesWhatIsNotExported() {
        Map<String, Set<String>> exported = exported();
        assertThat(PromQueryNames.check("rate(nfs_csi_no_such_metric[5m])", exported))
                .containsExactly("metric nfs_csi_no_such_metric is not exported");
        assertThat(PromQueryNames.check("sum by (method) (rate(nfs_csi_rpc_handled[5m]))", exported))
                .as("a counter without its _total").containsExactly("metric nfs_csi_rpc_handled is not exported");
        assertThat(PromQueryNames.check("nfs_csi_rpc_duration_seconds{method=\"Probe\"}", exported))
                .as("a histogram's family name is no series").hasSize(1);
        assertThat(PromQueryNames.check("nfs_csi_jobs_in_flight{knid=\"restore\"}", exported))
                .containsExactly("nfs_csi_jobs_in_flight has no label knid");
        assertThat(PromQueryNames.check("sum by (server) (nfs_csi_jobs_in_flight)", exported))
                .containsExactly("grouping label server is not on nfs_csi_jobs_in_flight");
        assertThat(PromQueryNames.check("sum(nfs_csi_jobs_in_flight) without (method)", exported))
                .containsExactly("grouping label method is not on nfs_csi_jobs_in_flight");
        assertThat(PromQueryNames.check("percentile(0.5, nfs_csi_jobs_in_flight)", exported))
                .containsExactly("unknown function percentile()");
        assertThat(PromQueryNames.check("{__name__=~\"nfs_csi_.*\"}", exported)).hasSize(1);
        assertThat(PromQueryNames.check("csi_sidecar_operations_seconds_count{method=\"x\"}", exported))
                .containsExactly("csi_sidecar_operations_seconds_count has no label method");
        assertThat(PromQueryNames.checkVariable("label_values(nfs_csi_rpc_handled_total, nodename)", exported))
                .containsExactly("nfs_csi_rpc_handled_total has no label nodename");
        assertThat(PromQueryNames.checkVariable("query_result(up)", exported)).hasSize(1);
    }

    @Test
    void checker_acceptsWhatIsExported_andSkipsWhatIsNoName() {
        Map<String, Set<String>> exported = exported();
        assertThat(PromQueryNames.check("histogram_quantile(0.99, sum by (le, method) (rate("
                + "nfs_csi_rpc_duration_seconds_bucket{namespace=~\"$namespace\", code!=\"OK\"}[$__rate_interval])))",
                exported)).isEmpty();
        assertThat(PromQueryNames.check("time() - max by (server) (nfs_csi_nfs_server_last_success_timestamp_seconds"
                + " offset 5m) > bool 1e3", exported)).isEmpty();
        assertThat(PromQueryNames.check("sum(rate(jvm_gc_collection_seconds_sum{gc=\"by (x)\"}[${__range}:1m]))",
                exported)).as("strings, subqueries and variables hold no names").isEmpty();
        assertThat(PromQueryNames.names("sum by (pod, pool) (a{x=~\"b\"}) / on (pod) group_left c").selectors())
                .extracting(PromQueryNames.Selector::metric).containsExactly("a", "c");
    }

    /** Each query or variable of {@code d} that names what {@code exported} lacks, with its problems. */
    static Map<String, List<String>> problems(JsonNode d, Map<String, Set<String>> exported) {
        Map<String, List<String>> problems = new LinkedHashMap<>();
        for (String expr : exprs(d)) {
            List<String> p = PromQueryNames.check(expr, exported);
            if (!p.isEmpty()) {
                problems.put(expr, p);
            }
        }
        for (JsonNode v : variables(d).values()) {
            if (v.path("type").asText().equals("query")) {
                String query = v.path("query").isTextual() ? v.path("query").asText()
                        : v.path("query").path("query").asText();
                List<String> p = new ArrayList<>(PromQueryNames.checkVariable(query, exported));
                if (!v.path("definition").asText().equals(query)) {
                    p.add("definition differs from the query: " + v.path("definition").asText());
                }
                if (!p.isEmpty()) {
                    problems.put(query, p);
                }
            }
        }
        return problems;
    }

    /** Sample name to label names: the driver's (scraped), and the sidecars' (from sidecar-metrics.txt). */
    static Map<String, Set<String>> exported() {
        DriverMetrics m = new DriverMetrics().withJvm();
        m.rpc("NodePublishVolume", "OK", 5_000_000);
        m.mountOperation("mount", "ok", 50_000_000);
        m.mountKilled();
        m.serverSucceeded("nfs.example.com", 1.7e9);
        m.serverFailed("nfs.example.com");
        m.serverFailedFast("nfs.example.com");
        m.jobStarted("restore");
        m.jobProgressed("restore", 3, 4096);
        m.jobEnded("restore", "ok");
        m.jobs("test", () -> List.of(new DriverMetrics.JobProgress("restore", "pvc-1", 3, 4096, 0.5)));
        m.boundedIo("node", 4, () -> 1, () -> 0);
        m.sharePool("controller", () -> 1, () -> 2);
        Map<String, Set<String>> out = new HashMap<>(Scrape.of(m).labelNames());
        for (String[] row : sidecarMetrics()) {
            Set<String> labels = Set.of(row[2].split(","));
            switch (row[1]) {
                case "histogram" -> {
                    Set<String> bucket = new HashSet<>(labels);
                    bucket.add("le");
                    out.put(row[0] + "_bucket", bucket);
                    out.put(row[0] + "_sum", labels);
                    out.put(row[0] + "_count", labels);
                }
                case "counter" -> out.put(row[0] + "_total", labels);
                case "gauge" -> out.put(row[0], labels);
                default -> throw new IllegalStateException("sidecar-metrics.txt: type " + row[1]);
            }
        }
        return out;
    }

    /** The rows of sidecar-metrics.txt: name, type, labels. */
    static List<String[]> sidecarMetrics() {
        try (BufferedReader in = new BufferedReader(new InputStreamReader(Objects.requireNonNull(
                GrafanaDashboardTest.class.getResourceAsStream("sidecar-metrics.txt"), "sidecar-metrics.txt"),
                StandardCharsets.UTF_8))) {
            List<String[]> rows = new ArrayList<>();
            for (String line = in.readLine(); line != null; line = in.readLine()) {
                if (!line.isBlank() && !line.startsWith("#")) {
                    String[] row = line.trim().split("\\s+");
                    if (row.length != 3) {
                        throw new IllegalStateException("sidecar-metrics.txt: 3 columns expected: " + line);
                    }
                    rows.add(row);
                }
            }
            return rows;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static JsonNode dashboard() {
        try {
            return new ObjectMapper().readTree(Files.readString(DASHBOARD));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Every {@code expr} in the dashboard, at any depth (panels, rows' collapsed panels). */
    static List<String> exprs(JsonNode d) {
        List<String> out = new ArrayList<>();
        d.findValues("expr").forEach(e -> out.add(e.asText()));
        return out;
    }

    private static Map<String, JsonNode> variables(JsonNode d) {
        Map<String, JsonNode> out = new LinkedHashMap<>();
        d.path("templating").path("list").forEach(v -> out.put(v.path("name").asText(), v));
        return out;
    }

    /** The family of a sample name: without the suffix a histogram's or counter's samples add. */
    private static String family(String sample) {
        return sample.replaceFirst("_(bucket|sum|count|total)$", "");
    }
}
