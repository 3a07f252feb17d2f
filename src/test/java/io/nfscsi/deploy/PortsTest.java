package io.nfscsi.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Probe;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The port plan in deploy/README.md ("Ports"), held against the renders and against other drivers' defaults. Both
 * pods use the node's network, so a controller replica and the node pod on one node share one set of ports; and
 * csi-driver-nfs runs beside nfs-csi during a migration, on the same nodes' networks.
 */
class PortsTest {

    /** csi-driver-nfs v4.13.4's default ports, all on the node's network (its pods use hostNetwork), and their source. */
    static final Map<Integer, String> CSI_DRIVER_NFS = Map.of(
            29652, "controller livenessprobe --http-endpoint=localhost:29652 and the nfs container's probe: "
                    + "deploy/v4.13.4/csi-nfs-controller.yaml; chart v4.13.4 controller.livenessProbe.healthPort",
            29653, "node livenessprobe --http-endpoint=localhost:29653 and the nfs container's probe: "
                    + "deploy/v4.13.4/csi-nfs-node.yaml; chart v4.13.4 node.livenessProbe.healthPort",
            19809, "chart v4.13.4 (charts/v4.13.4/csi-driver-nfs/values.yaml) nodeDriverRegistrar.healthPort");

    /**
     * Defaults of other kubernetes-csi and kubernetes-sigs CSI drivers found in their charts' values.yaml
     * (charts/latest/&lt;chart&gt;/values.yaml): health and metrics ports, all on the node's network.
     */
    static final Map<String, List<Integer>> OTHER_DRIVERS = Map.of(
            "kubernetes-sigs/azuredisk-csi-driver", List.of(29602, 29603, 29604),
            "kubernetes-sigs/azurefile-csi-driver", List.of(29612, 29613, 29614, 29615),
            "kubernetes-csi/csi-driver-smb", List.of(29642, 29643, 29644, 29645));

    /** A row of the plan. {@code inUse}: opened by today's manifests; otherwise reserved for issue 11's metrics. */
    record Planned(int port, String pod, String container, boolean inUse) {
    }

    /** A port a render opens: a flag that binds it, or a declared container port. */
    record Opened(int port, String pod, String container) {
    }

    static final List<Planned> PLAN = readPlan();

    @Test
    void plan_portsAreDistinct_andNoneIsAnotherDriversDefault() {
        Set<Integer> ports = new HashSet<>();
        for (Planned p : PLAN) {
            assertThat(ports.add(p.port())).as("port %d planned twice", p.port()).isTrue();
            assertThat(CSI_DRIVER_NFS).as("csi-driver-nfs uses %d", p.port()).doesNotContainKey(p.port());
            OTHER_DRIVERS.forEach((driver, used) -> assertThat(used).as("%s uses %d", driver, p.port())
                    .doesNotContain(p.port()));
        }
        assertThat(PLAN).extracting(Planned::pod).containsOnly("controller", "node");
    }

    /** Every container of both pods has its port planned, so that issue 11's metrics find theirs waiting. */
    @Test
    void plan_hasAPortForEveryContainer() {
        List<HasMetadata> base = Renders.kustomize(Renders.BASE);
        Set<String> containers = new TreeSet<>();
        Workloads.controller(base).getContainers().forEach(c -> containers.add("controller/" + c.getName()));
        Workloads.node(base).getContainers().forEach(c -> containers.add("node/" + c.getName()));
        assertThat(PLAN).extracting(p -> p.pod() + "/" + p.container()).containsExactlyInAnyOrderElementsOf(containers);
    }

    @Test
    void kustomize_opensThePlannedPortsInUse_andNoOthers() {
        assertOpensThePlan(Renders.kustomize(Renders.BASE));
        assertOpensThePlan(Renders.kustomize(Renders.OVERLAYS.resolve("inline-volumes")));
        assertOpensThePlan(Renders.kustomize(Renders.OVERLAYS.resolve("no-snapshots")));
        assertOpensThePlan(Renders.kustomize(Renders.OVERLAYS.resolve("migrate-from-csi-driver-nfs")));
        assertOpensThePlan(Renders.kustomize(Renders.OVERLAYS.resolve("health-monitor")));
        assertOpensThePlan(Renders.kustomize(Renders.OVERLAYS.resolve("prometheus-servicemonitor")));
        assertOpensThePlan(Renders.kustomize(Renders.OVERLAYS.resolve("prometheus-podmonitor")));
    }

    @Test
    void chart_opensThePlannedPortsInUse_andNoOthers() {
        assertOpensThePlan(Renders.helm(Map.of()));
        assertOpensThePlan(Renders.helm(Map.of("features.snapshots", "false")));
        assertOpensThePlan(Renders.helm(Map.of("features.healthMonitor", "true")));
        assertOpensThePlan(Renders.helm(Map.of("metrics.podMonitor.enabled", "true")));
    }

    @Test
    void chart_movesThePorts_andRefusesACollision() {
        Map<String, String> moved = Map.of("controller.healthPort", "39880", "node.healthPort", "39885",
                "node.registrarHealthPort", "39887");
        List<HasMetadata> objects = Renders.helm(moved);
        assertThat(DriverChecks.livenessProbesReachLivenessprobe(objects)).containsExactly(39880, 39885);
        assertThat(DriverChecks.registrarIsProbed(objects)).isEqualTo(39887);
        assertThat(opened(objects)).extracting(Opened::port).containsExactlyInAnyOrder(39880, 39885, 39887,
                29881, 29882, 29883, 29884, 29886);
        assertThatThrownBy(() -> Renders.helmYaml(Map.of("node.registrarHealthPort", "29880"), null))
                .hasMessageContaining("must differ");
        assertThatThrownBy(() -> Renders.helmYaml(Map.of("node.registrarHealthPort", "29885"), null))
                .hasMessageContaining("must differ");
    }

    /**
     * The render opens exactly the plan's ports in use, each in the pod and container the plan names; no port is
     * opened twice on a node's network; every liveness probe asks a port its pod opens.
     */
    static void assertOpensThePlan(List<HasMetadata> objects) {
        List<Opened> opened = opened(objects);
        Set<Integer> seen = new HashSet<>();
        for (Opened o : opened) {
            assertThat(seen.add(o.port())).as("port %d opened twice on the node's network", o.port()).isTrue();
            assertThat(CSI_DRIVER_NFS).as("csi-driver-nfs uses %d", o.port()).doesNotContainKey(o.port());
        }
        List<Opened> planned = PLAN.stream().filter(Planned::inUse)
                .map(p -> new Opened(p.port(), p.pod(), p.container()))
                .filter(p -> containerExists(objects, p.pod(), p.container())).toList();
        assertThat(opened).containsExactlyInAnyOrderElementsOf(planned);
        Map<String, PodSpec> pods = Map.of("controller", Workloads.controller(objects), "node",
                Workloads.node(objects));
        pods.forEach((name, pod) -> {
            for (Container c : pod.getContainers()) {
                Probe probe = c.getLivenessProbe();
                if (probe != null && probe.getHttpGet() != null) {
                    int port = probe.getHttpGet().getPort().getIntVal();
                    assertThat(opened).as("%s/%s probes %d", name, c.getName(), port)
                            .anyMatch(o -> o.pod().equals(name) && o.port() == port);
                }
            }
        });
    }

    /** What the render opens on the node's network: bound by flags, or declared as container ports. */
    static List<Opened> opened(List<HasMetadata> objects) {
        Set<Opened> out = new java.util.LinkedHashSet<>();
        Map<String, PodSpec> pods = new LinkedHashMap<>();
        pods.put("controller", Workloads.controller(objects));
        pods.put("node", Workloads.node(objects));
        pods.forEach((name, pod) -> {
            assertThat(pod.getHostNetwork()).as("%s on the node's network", name).isTrue();
            for (Container c : pod.getContainers()) {
                List<Integer> bound = new ArrayList<>();
                for (String flag : List.of("http-endpoint", "metrics-address")) {
                    Workloads.flag(c, flag).ifPresent(v -> bound.add(Integer.parseInt(v.substring(
                            v.lastIndexOf(':') + 1))));
                }
                Workloads.flag(c, "health-port").ifPresent(v -> bound.add(Integer.parseInt(v)));
                List<Integer> declared = c.getPorts() == null ? List.of()
                        : c.getPorts().stream().map(ContainerPort::getContainerPort).toList();
                assertThat(declared).as("%s/%s declares the ports it binds, so the scheduler sees them", name,
                        c.getName()).containsExactlyInAnyOrderElementsOf(bound);
                bound.forEach(p -> out.add(new Opened(p, name, c.getName())));
            }
        });
        return List.copyOf(out);
    }

    private static boolean containerExists(List<HasMetadata> objects, String pod, String container) {
        PodSpec spec = pod.equals("controller") ? Workloads.controller(objects) : Workloads.node(objects);
        return Workloads.findContainer(spec, container).isPresent();
    }

    /** The table under "## Ports" in deploy/README.md: | port | pod | container | what | state |. */
    static List<Planned> readPlan() {
        String readme;
        try {
            readme = Files.readString(Renders.DEPLOY.resolve("README.md"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        int start = readme.indexOf("\n## Ports\n");
        assertThat(start).as("deploy/README.md has a Ports section").isNotNegative();
        int end = readme.indexOf("\n## ", start + 1);
        String section = readme.substring(start, end < 0 ? readme.length() : end);
        Matcher row = Pattern.compile("(?m)^\\| (\\d+) \\| (\\S+) \\| (\\S+) \\| [^|]+ \\| (in use|reserved) \\|$")
                .matcher(section);
        List<Planned> plan = new ArrayList<>();
        while (row.find()) {
            plan.add(new Planned(Integer.parseInt(row.group(1)), row.group(2), row.group(3),
                    row.group(4).equals("in use")));
        }
        long tableRows = section.lines().filter(l -> l.matches("^\\| \\d+ \\|.*")).count();
        assertThat(plan).as("every row of the Ports table parses").hasSize((int) tableRows).isNotEmpty();
        return List.copyOf(plan);
    }
}
