package io.nfscsi.deploy;

import static io.nfscsi.deploy.Workloads.DRIVER;
import static io.nfscsi.deploy.Workloads.container;
import static io.nfscsi.deploy.Workloads.requiredFlag;
import static io.nfscsi.deploy.Workloads.switchedOn;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Toleration;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.apps.DaemonSet;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.storage.CSIDriver;
import io.nfscsi.cli.Main;
import java.math.BigDecimal;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * The kustomize base, rendered with {@code kubectl kustomize} and parsed strictly: what each object must say for
 * the driver to install and work.
 */
class KustomizeBaseTest {

    static final String DRIVER_NAME = "nfs.csi.io";
    static final String KUBELET_DIR = "/var/lib/kubelet";

    /** The sidecars' releases that this deployment was written and checked against. */
    static final Map<String, String> IMAGES = Map.of(
            "nfs-csi", "nfs-csi:0.1.0",
            "csi-provisioner", "registry.k8s.io/sig-storage/csi-provisioner:v6.3.0",
            "csi-resizer", "registry.k8s.io/sig-storage/csi-resizer:v2.2.1",
            "csi-snapshotter", "registry.k8s.io/sig-storage/csi-snapshotter:v8.6.0",
            "livenessprobe", "registry.k8s.io/sig-storage/livenessprobe:v2.19.0",
            "csi-node-driver-registrar", "registry.k8s.io/sig-storage/csi-node-driver-registrar:v2.17.0");

    static List<HasMetadata> base;

    @BeforeAll
    static void render() {
        base = Renders.kustomize(Renders.BASE);
    }

    @Test
    void strictParser_rejectsAnUnknownField() {
        String typo = """
                apiVersion: v1
                kind: ServiceAccount
                metadata: {name: x}
                automountServiceAcountToken: false
                """;
        assertThatThrownBy(() -> KubeYaml.parseAll(typo)).hasRootCauseInstanceOf(UnrecognizedPropertyException.class);
        String nested = """
                apiVersion: apps/v1
                kind: DaemonSet
                metadata: {name: x}
                spec: {template: {spec: {containers: [{name: c, mountPropagaton: Bidirectional}]}}}
                """;
        assertThatThrownBy(() -> KubeYaml.parseAll(nested)).hasRootCauseInstanceOf(UnrecognizedPropertyException.class);
        assertThatThrownBy(() -> KubeYaml.parseAll("apiVersion: storage.k8s.io/v1beta1\nkind: CSIDriver\n"))
                .hasMessageContaining("unexpected apiVersion/kind");
    }

    @Test
    void base_holdsTheDriversObjects_andNothingElse() {
        assertThat(base).extracting(KubeYaml::id).containsExactlyInAnyOrder(
                "Namespace nfs-csi",
                "CSIDriver nfs.csi.io",
                "ServiceAccount nfs-csi/nfs-csi-controller",
                "ServiceAccount nfs-csi/nfs-csi-node",
                "ClusterRole nfs-csi-external-provisioner",
                "ClusterRole nfs-csi-external-resizer",
                "ClusterRole nfs-csi-external-snapshotter",
                "ClusterRoleBinding nfs-csi-external-provisioner",
                "ClusterRoleBinding nfs-csi-external-resizer",
                "ClusterRoleBinding nfs-csi-external-snapshotter",
                "Role nfs-csi/nfs-csi-leader-election",
                "RoleBinding nfs-csi/nfs-csi-leader-election",
                "Deployment nfs-csi/nfs-csi-controller",
                "DaemonSet nfs-csi/nfs-csi-node",
                "Service nfs-csi/nfs-csi-controller-metrics",
                "Service nfs-csi/nfs-csi-node-metrics");
    }

    @Test
    void namespace_admitsPrivilegedPods() {
        Namespace ns = Workloads.one(base, Namespace.class, Renders.NAMESPACE);
        assertThat(ns.getMetadata().getLabels()).containsEntry("pod-security.kubernetes.io/enforce", "privileged");
    }

    @Test
    void csiDriver_persistentOnly_noAttach_fsGroupOnFiles() {
        CSIDriver driver = Workloads.one(base, CSIDriver.class, DRIVER_NAME);
        assertThat(driver.getSpec().getAttachRequired()).isFalse();
        assertThat(driver.getSpec().getPodInfoOnMount()).isFalse();
        assertThat(driver.getSpec().getFsGroupPolicy()).isEqualTo("File");
        assertThat(driver.getSpec().getVolumeLifecycleModes()).containsExactly("Persistent");
    }

    @Test
    void driverName_socketsMountsAndProbes_agree() {
        assertThat(DriverChecks.all(base, KUBELET_DIR)).isEqualTo(DRIVER_NAME);
        assertThat(DriverChecks.livenessProbesReachLivenessprobe(base)).containsExactly(29880, 29885);
        assertThat(DriverChecks.registrarIsProbed(base)).isEqualTo(29887);
    }

    @Test
    void images_areTaggedAtTheCheckedReleases() {
        Map<String, String> images = new TreeMap<>();
        for (PodSpec pod : Workloads.pods(base)) {
            for (Container c : pod.getContainers()) {
                images.put(Workloads.imageName(c), c.getImage());
                assertThat(c.getImagePullPolicy()).isEqualTo("IfNotPresent");
            }
        }
        assertThat(images).isEqualTo(new TreeMap<>(IMAGES));
    }

    @Test
    void controller_twoReplicas_leaderElected_onTheNodesNetwork() {
        Deployment deployment = Workloads.one(base, Deployment.class, Workloads.CONTROLLER);
        assertThat(deployment.getSpec().getReplicas()).isEqualTo(2);
        assertThat(deployment.getSpec().getStrategy().getRollingUpdate().getMaxSurge().getIntVal())
                .as("no surge: a surge pod may find no node with the health port free").isZero();
        PodSpec pod = Workloads.controller(base);
        assertThat(pod.getHostNetwork()).isTrue();
        assertThat(pod.getDnsPolicy()).isEqualTo("ClusterFirstWithHostNet");
        assertThat(pod.getPriorityClassName()).isEqualTo("system-cluster-critical");
        assertThat(pod.getServiceAccountName()).isEqualTo("nfs-csi-controller");
        for (String sidecar : List.of("csi-provisioner", "csi-resizer", "csi-snapshotter")) {
            assertThat(switchedOn(container(pod, sidecar), "leader-election")).as(sidecar).isTrue();
        }
        Container provisioner = container(pod, "csi-provisioner");
        assertThat(switchedOn(provisioner, "extra-create-metadata")).as("subDir templates need it").isTrue();
        assertThat(duration(requiredFlag(provisioner, "timeout")))
                .as("CreateVolume may mount (up to 2m) and then restore or clone").isGreaterThanOrEqualTo(
                        Duration.ofMinutes(5));
        for (String sidecar : List.of("csi-resizer", "csi-snapshotter")) {
            assertThat(duration(requiredFlag(container(pod, sidecar), "timeout")))
                    .as("%s --timeout covers the driver's 2m mount timeout", sidecar)
                    .isGreaterThan(Duration.ofMinutes(2));
        }
    }

    @Test
    void controller_mountsSharesOnAnEmptyDir_asAPrivilegedContainer() {
        PodSpec pod = Workloads.controller(base);
        Container driver = container(pod, DRIVER);
        String dir = requiredFlag(driver, "working-mount-dir");
        var mount = Workloads.mountHolding(driver, dir).orElseThrow();
        assertThat(mount.getMountPath()).isEqualTo(dir);
        assertThat(Workloads.volume(pod, mount.getName()).getEmptyDir()).isNotNull();
        assertThat(driver.getSecurityContext().getPrivileged()).isTrue();
        assertThat(driver.getSecurityContext().getCapabilities().getAdd()).contains("SYS_ADMIN");
        assertThat(driver.getVolumeMounts()).as("the controller never publishes to pods")
                .noneMatch(m -> m.getMountPath().startsWith(KUBELET_DIR));
    }

    @Test
    void node_runsEverywhere_andRegistersWithKubelet() {
        DaemonSet daemonSet = Workloads.one(base, DaemonSet.class, Workloads.NODE);
        PodSpec pod = daemonSet.getSpec().getTemplate().getSpec();
        assertThat(pod.getTolerations()).as("tolerates every taint").containsExactly(
                new io.fabric8.kubernetes.api.model.TolerationBuilder().withOperator("Exists").build());
        Toleration all = pod.getTolerations().getFirst();
        assertThat(all.getKey()).isNull();
        assertThat(all.getEffect()).isNull();
        assertThat(pod.getPriorityClassName()).isEqualTo("system-node-critical");
        assertThat(pod.getHostNetwork()).isTrue();
        assertThat(pod.getDnsPolicy()).isEqualTo("ClusterFirstWithHostNet");
        assertThat(pod.getAutomountServiceAccountToken()).as("nothing in the node pod calls the API").isFalse();
        Container driver = container(pod, DRIVER);
        assertThat(driver.getSecurityContext().getPrivileged()).isTrue();
        assertThat(driver.getSecurityContext().getCapabilities().getAdd()).contains("SYS_ADMIN");
        Volume pluginDir = Workloads.volume(pod, "socket-dir");
        assertThat(pluginDir.getHostPath().getPath()).isEqualTo(KUBELET_DIR + "/plugins/" + DRIVER_NAME);
        assertThat(pluginDir.getHostPath().getType()).isEqualTo("DirectoryOrCreate");
    }

    @Test
    void sidecars_runWithoutPrivileges() {
        for (PodSpec pod : Workloads.pods(base)) {
            for (Container c : pod.getContainers()) {
                if (c.getName().equals(DRIVER)) {
                    continue;
                }
                var sc = c.getSecurityContext();
                assertThat(sc.getPrivileged()).as(c.getName()).isNotEqualTo(Boolean.TRUE);
                assertThat(sc.getAllowPrivilegeEscalation()).as(c.getName()).isFalse();
                assertThat(sc.getCapabilities().getDrop()).as(c.getName()).containsExactly("ALL");
                assertThat(sc.getCapabilities().getAdd()).as(c.getName()).isNullOrEmpty();
                assertThat(sc.getReadOnlyRootFilesystem()).as(c.getName()).isTrue();
            }
        }
    }

    @Test
    void everyContainer_hasRequests_andAMemoryLimitAboveThem() {
        for (PodSpec pod : Workloads.pods(base)) {
            for (Container c : pod.getContainers()) {
                Map<String, Quantity> requests = c.getResources().getRequests();
                Map<String, Quantity> limits = c.getResources().getLimits();
                assertThat(requests).as(c.getName()).containsKeys("cpu", "memory");
                assertThat(limits).as(c.getName()).containsKey("memory");
                assertThat(bytes(limits.get("memory"))).as(c.getName())
                        .isGreaterThanOrEqualTo(bytes(requests.get("memory")));
            }
        }
        Container controllerDriver = container(Workloads.controller(base), DRIVER);
        Container nodeDriver = container(Workloads.node(base), DRIVER);
        assertThat(bytes(controllerDriver.getResources().getRequests().get("memory")))
                .as("requests cover the driver's measured idle footprint (70 MiB)")
                .isGreaterThanOrEqualTo(bytes(new Quantity("70Mi")));
        assertThat(controllerDriver.getResources().getLimits().get("memory")).isEqualTo(new Quantity("512Mi"));
        assertThat(nodeDriver.getResources().getLimits().get("memory")).isEqualTo(new Quantity("256Mi"));
    }

    @Test
    void driverArgs_parseWithTheDriversOwnCommandLine() {
        for (PodSpec pod : Workloads.pods(base)) {
            List<String> args = Workloads.args(container(pod, DRIVER));
            CommandLine.ParseResult parsed = new CommandLine(new Main()).parseArgs(args.toArray(String[]::new));
            assertThat(parsed.unmatched()).as("unknown args %s", args).isEmpty();
            assertThat(parsed.matchedOptionValue("--drivername", "")).isEqualTo(DRIVER_NAME);
            assertThat(parsed.matchedOptionValue("--nodeid", "")).isEqualTo("node-1");
            assertThat(parsed.matchedOptionValue("--v", 0)).isEqualTo(2);
        }
        CommandLine.ParseResult controller = new CommandLine(new Main()).parseArgs(
                Workloads.args(container(Workloads.controller(base), DRIVER)).toArray(String[]::new));
        assertThat(controller.matchedOptionValue("--working-mount-dir", (Object) null))
                .hasToString("/var/lib/nfs-csi/mounts");
    }

    /** A sidecar's Go duration flag value: "600s", "3m", "1h30m". */
    static Duration duration(String go) {
        var m = java.util.regex.Pattern.compile("(\\d+)(ms|h|m|s)").matcher(go);
        Duration total = Duration.ZERO;
        int end = 0;
        while (m.find() && m.start() == end) {
            long n = Long.parseLong(m.group(1));
            total = total.plus(switch (m.group(2)) {
                case "h" -> Duration.ofHours(n);
                case "m" -> Duration.ofMinutes(n);
                case "s" -> Duration.ofSeconds(n);
                default -> Duration.ofMillis(n);
            });
            end = m.end();
        }
        assertThat(end).as("Go duration %s", go).isEqualTo(go.length()).isPositive();
        return total;
    }

    static BigDecimal bytes(Quantity q) {
        return Quantity.getAmountInBytes(q);
    }
}
