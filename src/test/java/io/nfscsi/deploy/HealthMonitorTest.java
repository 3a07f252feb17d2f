package io.nfscsi.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * csi-external-health-monitor-controller, opt-in: the health-monitor overlay and the chart's features.healthMonitor
 * add it to the controller pod with the flags this driver wants. Its RBAC is held to upstream by {@link RbacTest};
 * that the driver has the capabilities the sidecar needs is checked there too, with the driver's own answer.
 */
class HealthMonitorTest {

    static final String SIDECAR = "csi-external-health-monitor-controller";

    /** The release the manifests use: the newest that reports on the claim with events (deploy/README.md). */
    static final String IMAGE = "registry.k8s.io/sig-storage/csi-external-health-monitor-controller:v0.18.0";

    @Test
    void overlay_runsTheSidecar_withTheFlagsThisDriverWants() {
        assertSidecar(Renders.kustomize(Renders.OVERLAYS.resolve("health-monitor")), "5m", "1m", "60s", "false");
    }

    @Test
    void chart_featureHealthMonitor_rendersTheOverlay() {
        Map<String, ObjectNode> overlay = KustomizeOverlaysTest.byId(
                Renders.kustomize(Renders.OVERLAYS.resolve("health-monitor")));
        overlay.remove("Namespace " + Renders.NAMESPACE);
        assertThat(HelmChartTest.withoutHelmLabels(Renders.helm(Map.of("features.healthMonitor", "true"))))
                .isEqualTo(overlay);
        List<HasMetadata> off = Renders.helm(Map.of());
        assertThat(Workloads.findContainer(Workloads.controller(off), SIDECAR)).as("off by default").isEmpty();
        assertThat(Workloads.all(off, ClusterRole.class)).extracting(r -> r.getMetadata().getName())
                .doesNotContain("nfs-csi-external-health-monitor-controller");
    }

    @Test
    void chart_healthMonitorValues_reachItsFlags() {
        List<HasMetadata> objects = Renders.helm(Map.of("features.healthMonitor", "true",
                "controller.healthMonitor.listVolumesInterval", "10m", "controller.healthMonitor.monitorInterval",
                "2m", "controller.healthMonitor.timeout", "90s", "controller.healthMonitor.enableNodeWatcher",
                "true", "logVerbosity", "4"));
        assertSidecar(objects, "10m", "2m", "90s", "true");
        assertThat(Workloads.requiredFlag(Workloads.container(Workloads.controller(objects), SIDECAR), "v"))
                .isEqualTo("4");
        assertThatThrownBy(() -> Renders.helmYaml(Map.of("features.healthMonitor", "true",
                "controller.healthMonitor.interval", "1m"), null)).hasMessageContaining("interval");
        assertThatThrownBy(() -> Renders.helmYaml(Map.of("controller.healthMonitor.timeout", "1 minute"), null))
                .hasMessageContaining("timeout");
    }

    /**
     * The sidecar is the last container of the controller pod, at the tested tag, leader-elected like the other
     * controller sidecars, hardened like them, dialling the driver's socket (DriverChecks), with no port of its own
     * (PortsTest: the render opens only the plan's ports).
     */
    static void assertSidecar(List<HasMetadata> objects, String listInterval, String monitorInterval,
                              String timeout, String nodeWatcher) {
        List<Container> containers = Workloads.controller(objects).getContainers();
        Container c = containers.getLast();
        assertThat(c.getName()).isEqualTo(SIDECAR);
        assertThat(c.getImage()).isEqualTo(IMAGE);
        assertThat(Workloads.switchedOn(c, "leader-election")).isTrue();
        assertThat(Workloads.flag(c, "leader-election-namespace")).isEmpty();
        assertThat(Workloads.requiredFlag(c, "list-volumes-interval")).isEqualTo(listInterval);
        assertThat(Workloads.requiredFlag(c, "monitor-interval")).isEqualTo(monitorInterval);
        assertThat(Workloads.requiredFlag(c, "timeout")).isEqualTo(timeout);
        assertThat(Workloads.requiredFlag(c, "enable-node-watcher")).isEqualTo(nodeWatcher);
        assertThat(c.getPorts()).isNullOrEmpty();
        assertThat(c.getSecurityContext().getAllowPrivilegeEscalation()).isFalse();
        assertThat(c.getSecurityContext().getReadOnlyRootFilesystem()).isTrue();
        assertThat(c.getSecurityContext().getCapabilities().getDrop()).containsExactly("ALL");
        assertThat(c.getResources().getRequests()).containsKeys("cpu", "memory");
        assertThat(c.getResources().getLimits()).containsKey("memory");
        DriverChecks.all(objects, KustomizeBaseTest.KUBELET_DIR);
        PortsTest.assertOpensThePlan(objects);
    }
}
