package io.nfscsi.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.apps.DaemonSet;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * Issue 11's metrics in the manifests: the driver ({@code --metrics-address}) and the controller's sidecars
 * ({@code --http-endpoint}) serve them on the ports that deploy/README.md, "Ports", plans; the headless metrics
 * Services reach every one of them; the Prometheus Operator's ServiceMonitors and PodMonitors (the overlays, and
 * the chart's values) scrape every one, once, at the path the servers use.
 */
class MetricsTest {

    /** The flag that makes each container serve metrics, by image name: the driver's, and the sidecars' one. */
    static final Map<String, String> METRICS_FLAG = Map.of(
            "nfs-csi", "metrics-address",
            "csi-provisioner", "http-endpoint",
            "csi-resizer", "http-endpoint",
            "csi-snapshotter", "http-endpoint");

    /**
     * The path each server answers metrics on: the sidecars' {@code --metrics-path} default (csi-lib-utils), which
     * the manifests leave alone; the driver's is fixed.
     */
    static final String METRICS_PATH = "/metrics";

    /** A metrics server in a pod: container, port name, port number. */
    record Endpoint(String pod, String container, String portName, int port) {
    }

    @Test
    void base_servesMetrics_onThePlannedPorts_onEveryAddressOfTheNode() {
        List<HasMetadata> base = Renders.kustomize(Renders.BASE);
        Map<String, Integer> expected = new TreeMap<>();
        for (PortsTest.Planned p : PortsTest.PLAN) {
            if (p.inUse() && !p.container().equals("liveness-probe")
                    && !p.container().equals("node-driver-registrar")) {
                expected.put(p.pod() + "/" + p.container(), p.port());
            }
        }
        Map<String, Integer> served = new TreeMap<>();
        for (Endpoint e : endpoints(base)) {
            served.put(e.pod() + "/" + e.container(), e.port());
        }
        assertThat(served).as("every metrics server of the plan, and only those").isEqualTo(expected)
                .containsKeys("controller/nfs", "controller/csi-provisioner", "controller/csi-resizer",
                        "controller/csi-snapshotter", "node/nfs");
        for (PodSpec pod : Workloads.pods(base)) {
            for (Container c : pod.getContainers()) {
                assertThat(Workloads.flag(c, "metrics-path")).as("%s serves %s", c.getName(), METRICS_PATH).isEmpty();
            }
        }
    }

    @Test
    void metricsServices_reachEveryMetricsServer_andNothingElse() {
        assertServicesReachEveryServer(Renders.kustomize(Renders.BASE));
        assertServicesReachEveryServer(Renders.kustomize(Renders.OVERLAYS.resolve("no-snapshots")));
        assertServicesReachEveryServer(Renders.kustomize(Renders.OVERLAYS.resolve("health-monitor")));
        assertServicesReachEveryServer(Renders.helm(Map.of()));
        assertServicesReachEveryServer(Renders.helm(Map.of("features.snapshots", "false")));
        assertServicesReachEveryServer(Renders.helm(Map.of("metrics.driver", "false")));
        assertThat(Workloads.all(Renders.helm(Map.of("metrics.service.create", "false")), Service.class)).isEmpty();
    }

    @Test
    void monitors_scrapeEveryMetricsServerOnce() {
        assertMonitorsScrapeEveryServer(Renders.kustomize(Renders.OVERLAYS.resolve("prometheus-servicemonitor")));
        assertMonitorsScrapeEveryServer(Renders.kustomize(Renders.OVERLAYS.resolve("prometheus-podmonitor")));
        for (String kind : List.of("serviceMonitor", "podMonitor")) {
            assertMonitorsScrapeEveryServer(Renders.helm(Map.of("metrics." + kind + ".enabled", "true")));
            assertMonitorsScrapeEveryServer(Renders.helm(Map.of("metrics." + kind + ".enabled", "true",
                    "features.snapshots", "false")));
            assertMonitorsScrapeEveryServer(Renders.helm(Map.of("metrics." + kind + ".enabled", "true",
                    "metrics.driver", "false")));
        }
    }

    @Test
    void chart_monitorValues_renderThePrometheusOverlays() {
        for (String kind : List.of("serviceMonitor", "podMonitor")) {
            Map<String, com.fasterxml.jackson.databind.node.ObjectNode> overlay = KustomizeOverlaysTest.byId(
                    Renders.kustomize(Renders.OVERLAYS.resolve("prometheus-" + kind.toLowerCase(
                            java.util.Locale.ROOT))));
            overlay.remove("Namespace " + Renders.NAMESPACE);
            assertThat(HelmChartTest.withoutHelmLabels(Renders.helm(Map.of("metrics." + kind + ".enabled", "true"))))
                    .as(kind).isEqualTo(overlay);
        }
        assertThat(Workloads.all(Renders.helm(Map.of()), Monitors.ServiceMonitor.class)).as("off by default")
                .isEmpty();
        assertThat(Workloads.all(Renders.helm(Map.of()), Monitors.PodMonitor.class)).as("off by default").isEmpty();
    }

    @Test
    void chart_monitorLabelsAndInterval_reachTheMonitors() {
        List<HasMetadata> objects = Renders.helm(Map.of("metrics.serviceMonitor.enabled", "true",
                "metrics.serviceMonitor.labels.release", "kube-prometheus-stack",
                "metrics.serviceMonitor.interval", "15s"));
        List<Monitors.ServiceMonitor> monitors = Workloads.all(objects, Monitors.ServiceMonitor.class);
        assertThat(monitors).hasSize(2).allSatisfy(m -> {
            assertThat(m.getMetadata().getLabels()).containsEntry("release", "kube-prometheus-stack");
            assertThat(m.endpoints()).extracting(Monitors.Endpoint::interval).containsOnly("15s");
        });
    }

    @Test
    void chart_grafanaDashboard_rendersAConfigMapForGrafanasSidecar() throws java.io.IOException {
        assertThat(Workloads.all(Renders.helm(Map.of()), ConfigMap.class)).as("off by default").isEmpty();
        List<ConfigMap> maps = Workloads.all(Renders.helm(Map.of("metrics.grafanaDashboard.enabled", "true")),
                ConfigMap.class);
        assertThat(maps).hasSize(1);
        ConfigMap map = maps.getFirst();
        assertThat(map.getMetadata().getName()).isEqualTo("nfs-csi-dashboard");
        assertThat(map.getMetadata().getNamespace()).isEqualTo(Renders.NAMESPACE);
        assertThat(map.getMetadata().getLabels()).containsEntry("grafana_dashboard", "1")
                .containsEntry("app.kubernetes.io/name", "nfs-csi");
        assertThat(map.getData()).containsOnlyKeys("nfs-csi.json");
        assertThat(map.getData().get("nfs-csi.json")).as("the dashboard, byte for byte")
                .isEqualTo(java.nio.file.Files.readString(GrafanaDashboardTest.DASHBOARD));

        ConfigMap moved = Workloads.all(Renders.helm(Map.of("metrics.grafanaDashboard.enabled", "true",
                "metrics.grafanaDashboard.namespace", "monitoring",
                "metrics.grafanaDashboard.labels.grafana_dashboard", "nfs",
                "metrics.grafanaDashboard.annotations.grafana_folder", "Storage")), ConfigMap.class).getFirst();
        assertThat(moved.getMetadata().getNamespace()).isEqualTo("monitoring");
        assertThat(moved.getMetadata().getLabels()).containsEntry("grafana_dashboard", "nfs");
        assertThat(moved.getMetadata().getAnnotations()).containsExactlyEntriesOf(Map.of("grafana_folder", "Storage"));
        assertThatThrownBy(() -> Renders.helmYaml(Map.of("metrics.grafanaDashboard.namespace", "Monitoring"), null))
                .hasMessageContaining("namespace");
    }

    @Test
    void chart_refusesMonitorsThatCannotScrape() {
        assertThatThrownBy(() -> Renders.helmYaml(Map.of("metrics.serviceMonitor.enabled", "true",
                "metrics.podMonitor.enabled", "true"), null)).hasMessageContaining("enable one");
        assertThatThrownBy(() -> Renders.helmYaml(Map.of("metrics.serviceMonitor.enabled", "true",
                "metrics.service.create", "false"), null)).hasMessageContaining("metrics.service.create");
        assertThatThrownBy(() -> Renders.helmYaml(Map.of("metrics.podMonitor.enabled", "true",
                "metrics.enabled", "false"), null)).hasMessageContaining("needs metrics.enabled");
        assertThatThrownBy(() -> Renders.helmYaml(Map.of("metrics.serviceMonitor.intervall", "15s"), null))
                .hasMessageContaining("intervall");
    }

    @Test
    void chart_metricsOff_servesNone_andDriverOff_leavesTheSidecars() {
        List<HasMetadata> off = Renders.helm(Map.of("metrics.enabled", "false"));
        assertThat(endpoints(off)).isEmpty();
        assertThat(PortsTest.opened(off)).extracting(PortsTest.Opened::port)
                .containsExactlyInAnyOrder(29880, 29885, 29887);
        assertThat(Workloads.all(off, Service.class)).isEmpty();

        List<HasMetadata> noDriver = Renders.helm(Map.of("metrics.driver", "false"));
        assertThat(endpoints(noDriver)).extracting(Endpoint::container)
                .containsExactlyInAnyOrder("csi-provisioner", "csi-resizer", "csi-snapshotter");
        for (PodSpec pod : Workloads.pods(noDriver)) {
            assertThat(Workloads.flag(Workloads.container(pod, Workloads.DRIVER), "metrics-address")).isEmpty();
        }
        assertThat(Workloads.all(noDriver, Service.class)).extracting(s -> s.getMetadata().getName())
                .containsExactly("nfs-csi-controller-metrics");
    }

    @Test
    void chart_movesTheMetricsPorts_andRefusesACollision() {
        Map<String, String> moved = Map.of("metrics.ports.controller", "39881", "metrics.ports.csiProvisioner",
                "39882", "metrics.ports.csiResizer", "39883", "metrics.ports.csiSnapshotter", "39884",
                "metrics.ports.node", "39886");
        List<HasMetadata> objects = Renders.helm(moved);
        assertThat(endpoints(objects)).extracting(Endpoint::port)
                .containsExactlyInAnyOrder(39881, 39882, 39883, 39884, 39886);
        assertServicesReachEveryServer(objects);
        assertThatThrownBy(() -> Renders.helmYaml(Map.of("metrics.ports.node", "29885"), null))
                .hasMessageContaining("must differ");
        assertThatThrownBy(() -> Renders.helmYaml(Map.of("metrics.ports.csiResizer", "29882"), null))
                .hasMessageContaining("must differ");
    }

    /** The monitors parse strictly: a field of the other kind, or a misspelt one, fails. */
    @Test
    void monitors_parseStrictly() {
        String podMonitorWithEndpoints = """
                apiVersion: monitoring.coreos.com/v1
                kind: PodMonitor
                metadata: {name: x}
                spec: {selector: {matchLabels: {a: b}}, endpoints: [{port: metrics}]}
                """;
        assertThatThrownBy(() -> KubeYaml.parseAll(podMonitorWithEndpoints)).hasMessageContaining("endpoints");
        String misspelt = """
                apiVersion: monitoring.coreos.com/v1
                kind: ServiceMonitor
                metadata: {name: x}
                spec: {selector: {matchLabels: {a: b}}, endpoints: [{port: metrics, intervall: 30s}]}
                """;
        assertThatThrownBy(() -> KubeYaml.parseAll(misspelt)).hasMessageContaining("intervall");
        Monitors.ServiceMonitor parsed = (Monitors.ServiceMonitor) KubeYaml.parseAll(misspelt.replace("intervall",
                "interval")).getFirst();
        assertThat(parsed.endpoints()).singleElement().satisfies(e -> {
            assertThat(e.port()).isEqualTo("metrics");
            assertThat(e.interval()).isEqualTo("30s");
        });
    }

    // -- checks

    /**
     * The metrics servers of a render: each container whose metrics flag is set, with the port the flag binds. The
     * flag binds every address of the node (no host: Prometheus scrapes the node's address), and the port is
     * declared under a name, which the Services and PodMonitors use.
     */
    static List<Endpoint> endpoints(List<HasMetadata> objects) {
        List<Endpoint> out = new ArrayList<>();
        Map<String, PodSpec> pods = new LinkedHashMap<>();
        pods.put("controller", Workloads.controller(objects));
        pods.put("node", Workloads.node(objects));
        pods.forEach((name, pod) -> {
            for (Container c : pod.getContainers()) {
                String flag = METRICS_FLAG.get(Workloads.imageName(c));
                Optional<String> address = flag == null ? Optional.empty() : Workloads.flag(c, flag);
                if (address.isEmpty()) {
                    continue;
                }
                String value = address.get();
                assertThat(value).as("%s/%s --%s on every address of the node", name, c.getName(), flag)
                        .matches(":[0-9]+");
                int port = Integer.parseInt(value.substring(1));
                ContainerPort declared = c.getPorts().stream().filter(p -> p.getContainerPort() == port)
                        .findFirst().orElseThrow(() -> new AssertionError(name + "/" + c.getName()
                                + " does not declare " + port));
                assertThat(declared.getName()).as("%s/%s names its metrics port", name, c.getName()).isNotBlank();
                assertThat(declared.getProtocol()).isEqualTo("TCP");
                out.add(new Endpoint(name, c.getName(), declared.getName(), port));
            }
        });
        return out;
    }

    /**
     * Each metrics Service is headless, selects exactly one of the two pods, and maps each of its ports to a
     * named metrics port of that pod with the same number; together they reach every metrics server, and no port
     * that is not one (the health ports stay on the loopback).
     */
    static void assertServicesReachEveryServer(List<HasMetadata> objects) {
        List<Endpoint> servers = endpoints(objects);
        List<Endpoint> reached = new ArrayList<>();
        for (Service s : Workloads.all(objects, Service.class)) {
            assertThat(s.getSpec().getClusterIP()).as("%s is headless", s.getMetadata().getName()).isEqualTo("None");
            assertThat(s.getMetadata().getNamespace()).isEqualTo(Renders.NAMESPACE);
            String pod = selectedPod(objects, s.getSpec().getSelector());
            for (ServicePort p : s.getSpec().getPorts()) {
                String target = p.getTargetPort().getStrVal();
                assertThat(target).as("%s port %s targets a named port", s.getMetadata().getName(), p.getName())
                        .isNotNull();
                Endpoint server = servers.stream().filter(e -> e.pod().equals(pod) && e.portName().equals(target))
                        .findFirst().orElseThrow(() -> new AssertionError(s.getMetadata().getName() + " targets "
                                + target + ", which no metrics server of the " + pod + " pod declares"));
                assertThat(p.getPort()).as("%s port %s", s.getMetadata().getName(), p.getName())
                        .isEqualTo(server.port());
                assertThat(p.getName()).isEqualTo(target);
                reached.add(server);
            }
        }
        assertThat(reached).as("the Services reach every metrics server once").containsExactlyInAnyOrderElementsOf(
                servers);
    }

    /**
     * Every monitor selects one pod (a PodMonitor) or the Services of one pod (a ServiceMonitor) in its own
     * namespace; its endpoints name ports there, at the metrics path; across the monitors of the render every
     * metrics server is scraped exactly once.
     */
    static void assertMonitorsScrapeEveryServer(List<HasMetadata> objects) {
        List<Endpoint> servers = endpoints(objects);
        List<Endpoint> scraped = new ArrayList<>();
        List<Monitors.Monitor<?>> monitors = new ArrayList<>();
        monitors.addAll(Workloads.all(objects, Monitors.ServiceMonitor.class));
        monitors.addAll(Workloads.all(objects, Monitors.PodMonitor.class));
        assertThat(monitors).isNotEmpty();
        for (Monitors.Monitor<?> m : monitors) {
            assertThat(m.getMetadata().getNamespace()).isEqualTo(Renders.NAMESPACE);
            Map<String, String> selector = m.selector().getMatchLabels();
            assertThat(m.selector().getMatchExpressions()).isNullOrEmpty();
            Map<String, Endpoint> byName = new HashMap<>();
            if (m instanceof Monitors.ServiceMonitor) {
                for (Service s : Workloads.all(objects, Service.class)) {
                    if (s.getMetadata().getLabels().entrySet().containsAll(selector.entrySet())) {
                        String pod = selectedPod(objects, s.getSpec().getSelector());
                        for (ServicePort p : s.getSpec().getPorts()) {
                            servers.stream().filter(e -> e.pod().equals(pod) && e.port() == p.getPort())
                                    .forEach(e -> byName.put(p.getName(), e));
                        }
                    }
                }
            } else {
                String pod = selectedPod(objects, selector);
                servers.stream().filter(e -> e.pod().equals(pod)).forEach(e -> byName.put(e.portName(), e));
            }
            for (Monitors.Endpoint e : m.endpoints()) {
                assertThat(byName).as("%s %s scrapes port %s", m.getKind(), m.getMetadata().getName(), e.port())
                        .containsKey(e.port());
                assertThat(e.path()).isEqualTo(METRICS_PATH);
                scraped.add(byName.get(e.port()));
            }
        }
        assertThat(scraped).as("every metrics server is scraped once").containsExactlyInAnyOrderElementsOf(servers);
    }

    /** "controller" or "node": the one pod template whose labels the selector matches. */
    static String selectedPod(List<HasMetadata> objects, Map<String, String> selector) {
        assertThat(selector).isNotEmpty();
        List<String> matched = new ArrayList<>();
        Map<String, String> controller = Workloads.one(objects, Deployment.class, Workloads.CONTROLLER).getSpec()
                .getTemplate().getMetadata().getLabels();
        Map<String, String> node = Workloads.one(objects, DaemonSet.class, Workloads.NODE).getSpec().getTemplate()
                .getMetadata().getLabels();
        if (controller.entrySet().containsAll(selector.entrySet())) {
            matched.add("controller");
        }
        if (node.entrySet().containsAll(selector.entrySet())) {
            matched.add("node");
        }
        assertThat(matched).as("pods selected by %s", selector).hasSize(1);
        return matched.getFirst();
    }
}
