package io.nfscsi.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBinding;
import io.fabric8.kubernetes.api.model.storage.CSIDriver;
import io.fabric8.kubernetes.api.model.storage.StorageClass;
import io.nfscsi.cli.Main;
import io.nfscsi.volume.OnDelete;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** Each overlay changes the base in exactly the way it says, and keeps every invariant of the base. */
class KustomizeOverlaysTest {

    @Test
    void inlineVolumes_addsEphemeral_podInfo_andTheNodesAllowedShares_andNothingElse() {
        List<HasMetadata> overlay = Renders.kustomize(Renders.OVERLAYS.resolve("inline-volumes"));
        Map<String, ObjectNode> expected = byId(Renders.kustomize(Renders.BASE));
        ObjectNode driver = expected.get("CSIDriver nfs.csi.io");
        driver.withArray("/spec/volumeLifecycleModes").add("Ephemeral");
        driver.withObject("/spec").put("podInfoOnMount", true);
        ArrayNode args = (ArrayNode) expected.get("DaemonSet nfs-csi/nfs-csi-node")
                .withObject("/spec/template/spec").withArray("containers").get(0).withArray("args");
        args.add("--inline-allowed-shares=nfs.example.com:/exports/inline/**");
        assertThat(byId(overlay)).isEqualTo(expected);
        // the example the overlay ships must be one the driver accepts
        io.nfscsi.volume.AllowedShares.parse("--inline-allowed-shares",
                List.of("nfs.example.com:/exports/inline/**"));
        DriverChecks.all(overlay, KustomizeBaseTest.KUBELET_DIR);
    }

    @Test
    void noSnapshots_dropsCsiSnapshotterAndItsRbac_andNothingElse() {
        List<HasMetadata> overlay = Renders.kustomize(Renders.OVERLAYS.resolve("no-snapshots"));
        Map<String, ObjectNode> expected = byId(Renders.kustomize(Renders.BASE));
        expected.remove("ClusterRole nfs-csi-external-snapshotter");
        expected.remove("ClusterRoleBinding nfs-csi-external-snapshotter");
        ArrayNode containers = expected.get("Deployment nfs-csi/nfs-csi-controller")
                .withObject("/spec/template/spec").withArray("containers");
        for (int i = containers.size() - 1; i >= 0; i--) {
            if (containers.get(i).path("name").asText().equals("csi-snapshotter")) {
                containers.remove(i);
            }
        }
        ArrayNode servicePorts = expected.get("Service nfs-csi/nfs-csi-controller-metrics").withArray("/spec/ports");
        for (int i = servicePorts.size() - 1; i >= 0; i--) {
            if (servicePorts.get(i).path("targetPort").asText().equals("snapshotter")) {
                servicePorts.remove(i);
            }
        }
        assertThat(byId(overlay)).isEqualTo(expected);
        DriverChecks.all(overlay, KustomizeBaseTest.KUBELET_DIR);
    }

    /**
     * The migration overlay is the base under csi-driver-nfs's driver name, with a retain default for old volumes
     * and a name-pinned `get` on their Secrets, and nothing else; a csi-driver-nfs StorageClass is served by it.
     */
    @Test
    void migrateFromCsiDriverNfs_takesItsNameAndSecrets_andRetainsByDefault() {
        Path dir = Renders.OVERLAYS.resolve("migrate-from-csi-driver-nfs");
        List<HasMetadata> overlay = Renders.kustomize(dir);
        Map<String, ObjectNode> expected = byId(Renders.kustomize(Renders.BASE));
        ObjectNode driver = expected.remove("CSIDriver nfs.csi.io");
        driver.with("metadata").put("name", CSI_DRIVER_NFS);
        expected.put("CSIDriver " + CSI_DRIVER_NFS, driver);
        ArrayNode controllerArgs = (ArrayNode) containerNode(expected.get("Deployment nfs-csi/nfs-csi-controller"),
                "nfs").get("args");
        replaceArg(controllerArgs, "--drivername=nfs.csi.io", "--drivername=" + CSI_DRIVER_NFS);
        controllerArgs.add("--default-ondelete-policy=retain");
        ObjectNode node = expected.get("DaemonSet nfs-csi/nfs-csi-node");
        replaceArg((ArrayNode) containerNode(node, "nfs").get("args"), "--drivername=nfs.csi.io",
                "--drivername=" + CSI_DRIVER_NFS);
        replaceArg((ArrayNode) containerNode(node, "node-driver-registrar").get("args"),
                "--kubelet-registration-path=/var/lib/kubelet/plugins/nfs.csi.io/csi.sock",
                "--kubelet-registration-path=/var/lib/kubelet/plugins/" + CSI_DRIVER_NFS + "/csi.sock");
        for (JsonNode volume : node.at("/spec/template/spec/volumes")) {
            if (volume.path("name").asText().equals("socket-dir")) {
                ((ObjectNode) volume.get("hostPath")).put("path", "/var/lib/kubelet/plugins/" + CSI_DRIVER_NFS);
            }
        }
        Map<String, ObjectNode> actual = byId(overlay);
        ObjectNode secretsRole = actual.remove("ClusterRole nfs-csi-mount-options-secrets");
        ObjectNode secretsBinding = actual.remove("ClusterRoleBinding nfs-csi-mount-options-secrets");
        assertThat(actual).isEqualTo(expected);

        assertThat(DriverChecks.all(overlay, KustomizeBaseTest.KUBELET_DIR)).isEqualTo(CSI_DRIVER_NFS);
        ClusterRole role = KubeYaml.MAPPER.convertValue(secretsRole, ClusterRole.class);
        assertThat(role.getRules()).singleElement().satisfies(rule -> {
            assertThat(rule.getApiGroups()).containsExactly("");
            assertThat(rule.getResources()).containsExactly("secrets");
            assertThat(rule.getVerbs()).as("a sidecar fetches a named Secret with one get").containsExactly("get");
            assertThat(rule.getResourceNames()).as("only the Secrets csi-driver-nfs's classes name")
                    .containsExactly("mount-options");
        });
        ClusterRoleBinding binding = KubeYaml.MAPPER.convertValue(secretsBinding, ClusterRoleBinding.class);
        assertThat(binding.getRoleRef().getName()).isEqualTo(role.getMetadata().getName());
        assertThat(binding.getSubjects()).singleElement().satisfies(s -> {
            assertThat(s.getName()).isEqualTo(RbacTest.CONTROLLER_ACCOUNT);
            assertThat(s.getNamespace()).isEqualTo(Renders.NAMESPACE);
        });

        // a csi-driver-nfs StorageClass, as its chart's values.yaml shows one, is ours to serve, and the Secret it
        // names for deletion is one the controller may read
        StorageClass theirs = (StorageClass) KubeYaml.parseAll(CSI_DRIVER_NFS_CLASS).getFirst();
        assertThat(theirs.getProvisioner()).isEqualTo(Workloads.one(overlay, CSIDriver.class, CSI_DRIVER_NFS)
                .getMetadata().getName());
        assertThat(role.getRules().getFirst().getResourceNames())
                .contains(theirs.getParameters().get("csi.storage.k8s.io/provisioner-secret-name"));

        CommandLine.ParseResult parsed = new CommandLine(new Main()).parseArgs(Workloads.args(Workloads.container(
                Workloads.controller(overlay), Workloads.DRIVER)).toArray(String[]::new));
        assertThat(parsed.unmatched()).isEmpty();
        assertThat(OnDelete.parse("--default-ondelete-policy",
                parsed.matchedOptionValue("--default-ondelete-policy", ""))).isEqualTo(OnDelete.RETAIN);
        assertThat(Workloads.flag(Workloads.container(Workloads.node(overlay), Workloads.DRIVER),
                "default-ondelete-policy")).as("only the controller deletes volumes").isEmpty();
    }

    /**
     * The health-monitor overlay is the base plus csi-external-health-monitor-controller, last in the controller pod,
     * with its ClusterRole and binding, and nothing else: its lease comes from the base's Role.
     */
    @Test
    void healthMonitor_addsTheSidecarAndItsRbac_andNothingElse() {
        List<HasMetadata> overlay = Renders.kustomize(Renders.OVERLAYS.resolve("health-monitor"));
        Map<String, ObjectNode> expected = byId(Renders.kustomize(Renders.BASE));
        Map<String, ObjectNode> actual = byId(overlay);
        assertThat(actual.remove("ClusterRole nfs-csi-external-health-monitor-controller")).isNotNull();
        assertThat(actual.remove("ClusterRoleBinding nfs-csi-external-health-monitor-controller")).isNotNull();
        ArrayNode containers = actual.get("Deployment nfs-csi/nfs-csi-controller")
                .withArray("/spec/template/spec/containers");
        assertThat(containers.get(containers.size() - 1).path("name").asText())
                .isEqualTo(HealthMonitorTest.SIDECAR);
        containers.remove(containers.size() - 1);
        assertThat(actual).isEqualTo(expected);
        DriverChecks.all(overlay, KustomizeBaseTest.KUBELET_DIR);
    }

    /**
     * The json-logs overlay is the base with {@code --logging-format=json} last in the args of every container of
     * both pods (each takes it: {@link HelmValuesTest#TAKE_LOGGING_FORMAT}), and nothing else.
     */
    @Test
    void jsonLogs_appendsTheFlagToEveryContainer_andNothingElse() {
        List<HasMetadata> overlay = Renders.kustomize(Renders.OVERLAYS.resolve("json-logs"));
        Map<String, ObjectNode> expected = byId(Renders.kustomize(Renders.BASE));
        int containers = 0;
        for (String workload : List.of("Deployment nfs-csi/nfs-csi-controller", "DaemonSet nfs-csi/nfs-csi-node")) {
            for (JsonNode c : expected.get(workload).at("/spec/template/spec/containers")) {
                ((ArrayNode) c.get("args")).add("--logging-format=json");
                containers++;
            }
        }
        assertThat(containers).isEqualTo(8);
        assertThat(byId(overlay)).isEqualTo(expected);
        for (PodSpec pod : Workloads.pods(overlay)) {
            for (Container c : pod.getContainers()) {
                assertThat(HelmValuesTest.TAKE_LOGGING_FORMAT).as("%s takes --logging-format", c.getImage())
                        .contains(Workloads.imageName(c));
            }
        }
        DriverChecks.all(overlay, KustomizeBaseTest.KUBELET_DIR);
    }

    /** The Prometheus overlays are the base plus their two monitors, and nothing else. */
    @Test
    void prometheusOverlays_addTheirMonitors_andNothingElse() {
        Map<String, ObjectNode> base = byId(Renders.kustomize(Renders.BASE));
        for (String kind : List.of("ServiceMonitor", "PodMonitor")) {
            Map<String, ObjectNode> actual = byId(Renders.kustomize(Renders.OVERLAYS.resolve(
                    "prometheus-" + kind.toLowerCase(java.util.Locale.ROOT))));
            for (String component : List.of("controller", "node")) {
                assertThat(actual.remove(kind + " nfs-csi/nfs-csi-" + component)).as(kind + " " + component)
                        .isNotNull();
            }
            assertThat(actual).isEqualTo(base);
        }
    }

    /** csi-driver-nfs's driver name. */
    static final String CSI_DRIVER_NFS = "nfs.csi.k8s.io";

    /**
     * A StorageClass as csi-driver-nfs v4.13.4's chart values.yaml (charts/v4.13.4/csi-driver-nfs/values.yaml,
     * storageClass) shows one, with the provisioner secret it documents for mountOptions in DeleteVolume.
     */
    static final String CSI_DRIVER_NFS_CLASS = """
            apiVersion: storage.k8s.io/v1
            kind: StorageClass
            metadata: {name: nfs-csi}
            provisioner: nfs.csi.k8s.io
            parameters:
              server: nfs-server.default.svc.cluster.local
              share: /
              csi.storage.k8s.io/provisioner-secret-name: mount-options
              csi.storage.k8s.io/provisioner-secret-namespace: default
            reclaimPolicy: Delete
            volumeBindingMode: Immediate
            mountOptions: [nfsvers=4.1]
            """;

    private static ObjectNode containerNode(ObjectNode workload, String name) {
        for (JsonNode c : workload.at("/spec/template/spec/containers")) {
            if (c.path("name").asText().equals(name)) {
                return (ObjectNode) c;
            }
        }
        throw new AssertionError("no container " + name);
    }

    private static void replaceArg(ArrayNode args, String from, String to) {
        for (int i = 0; i < args.size(); i++) {
            if (args.get(i).asText().equals(from)) {
                args.set(i, to);
                return;
            }
        }
        throw new AssertionError("no argument " + from + " in " + args);
    }

    static Map<String, ObjectNode> byId(List<HasMetadata> objects) {
        Map<String, ObjectNode> out = new LinkedHashMap<>();
        for (HasMetadata o : objects) {
            assertThat(out.put(KubeYaml.id(o), KubeYaml.tree(o))).as("duplicate %s", KubeYaml.id(o)).isNull();
        }
        return out;
    }
}
