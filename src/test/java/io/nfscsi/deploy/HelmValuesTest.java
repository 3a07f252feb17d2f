package io.nfscsi.deploy;

import static io.nfscsi.deploy.Workloads.DRIVER;
import static io.nfscsi.deploy.Workloads.container;
import static io.nfscsi.deploy.Workloads.requiredFlag;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.PodTemplateSpec;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.Toleration;
import io.fabric8.kubernetes.api.model.TolerationBuilder;
import io.fabric8.kubernetes.api.model.apps.DaemonSet;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBinding;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import io.fabric8.kubernetes.api.model.rbac.Subject;
import io.fabric8.kubernetes.api.model.storage.CSIDriver;
import io.fabric8.volumesnapshot.api.model.VolumeSnapshotClass;
import io.nfscsi.cli.Main;
import io.nfscsi.logging.LogFormat;
import java.io.IOException;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * The values an operator sets, each rendered by Helm's engine and found where it belongs (and nowhere else), and
 * the schema's refusals. {@link DriverChecks} holds on every render that is meant to install.
 */
class HelmValuesTest {

    /**
     * The images that take {@code --logging-format=json}: the driver, and each sidecar whose command line at the tag
     * the manifests use registers the JSON format of Kubernetes' component-base logs (logsapi flags plus the import
     * of k8s.io/component-base/logs/json/register): kubernetes-csi/external-provisioner #1318 ("Add support for
     * -logging-format=json", merged 2024-12, so v5.2.0 and later: we use v6.3.0); external-resizer #330 and
     * cmd/csi-resizer/main.go (v2.2.1); external-snapshotter #1256 and cmd/csi-snapshotter/main.go of the v8 module
     * (v8.6.0); node-driver-registrar #349, its CHANGELOG-2.11.md (v2.11.0; we use v2.17.0), whose
     * cmd/csi-node-driver-registrar/main.go also turns LoggingAlphaOptions on; livenessprobe
     * cmd/livenessprobe/main.go (v2.19.0); external-health-monitor
     * cmd/csi-external-health-monitor-controller/main.go (v0.18.0). Read from a stored index of public repositories,
     * whose copies of those files are the tags' neighbours rather than the tagged commits: every copy at and after
     * the PRs above imports the JSON format. A sidecar added to the manifests must be checked and listed here.
     */
    static final Set<String> TAKE_LOGGING_FORMAT = Set.of("nfs-csi", "csi-provisioner",
            "csi-resizer", "csi-snapshotter", "livenessprobe", "csi-node-driver-registrar",
            "csi-external-health-monitor-controller");

    @Test
    void logFormat_reachesEveryContainerOnceAndLast_andTheDefaultPassesNone() {
        for (PodSpec pod : Workloads.pods(Renders.helm(Map.of("features.healthMonitor", "true")))) {
            for (Container c : pod.getContainers()) {
                assertThat(Workloads.flag(c, "logging-format")).as(c.getName()).isEmpty();
            }
        }
        for (String format : List.of("json", "text")) {
            List<HasMetadata> objects = Renders.helm(Map.of("logFormat", format, "features.healthMonitor", "true"));
            DriverChecks.all(objects, "/var/lib/kubelet");
            int containers = 0;
            for (PodSpec pod : Workloads.pods(objects)) {
                for (Container c : pod.getContainers()) {
                    assertThat(TAKE_LOGGING_FORMAT).as("%s takes --logging-format", c.getImage())
                            .contains(Workloads.imageName(c));
                    List<String> args = Workloads.args(c);
                    assertThat(args).as(c.getName()).filteredOn(a -> a.contains("logging-format"))
                            .containsExactly("--logging-format=" + format);
                    assertThat(args.getLast()).as(c.getName()).isEqualTo("--logging-format=" + format);
                    containers++;
                }
                assertThat((Object) parse(container(pod, DRIVER)).matchedOptionValue("--logging-format", null))
                        .isEqualTo(LogFormat.parse(format));
            }
            assertThat(containers).as("6 in the controller pod, health monitor included, 3 in the node pod")
                    .isEqualTo(9);
        }
        assertThatThrownBy(() -> Renders.helmYaml(Map.of("node.extraArgs[0]", "--logging-format=json"), null))
                .hasMessageContaining("logFormat");
    }

    @Test
    void scheduling_perComponent_reachesOnlyItsPod() {
        List<HasMetadata> objects = Renders.helm(Map.of(), """
                controller:
                  priorityClassName: storage-critical
                  nodeSelector: {node-role.example.org/storage: "true"}
                  tolerations:
                    - {key: dedicated, operator: Equal, value: storage, effect: NoSchedule}
                  affinity:
                    nodeAffinity:
                      requiredDuringSchedulingIgnoredDuringExecution:
                        nodeSelectorTerms:
                          - matchExpressions:
                              - {key: topology.kubernetes.io/zone, operator: In, values: [zone-a]}
                node:
                  priorityClassName: ""
                  nodeSelector: {nfs.example.org/client: "true"}
                """);
        DriverChecks.all(objects, "/var/lib/kubelet");
        PodSpec controller = Workloads.controller(objects);
        PodSpec node = Workloads.node(objects);
        assertThat(controller.getPriorityClassName()).isEqualTo("storage-critical");
        assertThat(controller.getNodeSelector()).as("merged with the default")
                .containsEntry("kubernetes.io/os", "linux").containsEntry("node-role.example.org/storage", "true")
                .doesNotContainKey("nfs.example.org/client");
        assertThat(controller.getTolerations()).containsExactly(new TolerationBuilder().withKey("dedicated")
                .withOperator("Equal").withValue("storage").withEffect("NoSchedule").build());
        assertThat(controller.getAffinity().getNodeAffinity().getRequiredDuringSchedulingIgnoredDuringExecution()
                .getNodeSelectorTerms().getFirst().getMatchExpressions().getFirst().getValues())
                .containsExactly("zone-a");
        assertThat(node.getPriorityClassName()).as("empty leaves it out").isNull();
        assertThat(node.getNodeSelector()).containsEntry("kubernetes.io/os", "linux")
                .containsEntry("nfs.example.org/client", "true").doesNotContainKey("node-role.example.org/storage");
        assertThat(node.getTolerations()).containsExactly(new TolerationBuilder().withOperator("Exists").build());
        assertThat(node.getAffinity()).isNull();
    }

    @Test
    void defaults_tolerateControlPlaneTaints_oldAndNew_onTheControllerOnly() {
        List<HasMetadata> objects = Renders.helm(Map.of());
        List<Toleration> tolerations = Workloads.controller(objects).getTolerations();
        for (String key : List.of("node-role.kubernetes.io/control-plane", "node-role.kubernetes.io/master")) {
            assertThat(tolerations).contains(new TolerationBuilder().withKey(key).withOperator("Exists")
                    .withEffect("NoSchedule").build());
        }
        assertThat(tolerations).contains(new TolerationBuilder().withKey("CriticalAddonsOnly").withOperator("Exists")
                .build());
        assertThat(Workloads.controller(objects).getPriorityClassName()).isEqualTo("system-cluster-critical");
        assertThat(Workloads.node(objects).getPriorityClassName()).isEqualTo("system-node-critical");
    }

    @Test
    void podLabelsAndAnnotations_reachThePodTemplates_notTheSelectors() {
        List<HasMetadata> objects = Renders.helm(Map.of(), """
                controller:
                  podLabels: {team: storage}
                  podAnnotations: {prometheus.io/scrape: "false"}
                node:
                  podLabels: {tier: node}
                  podAnnotations: {cluster-autoscaler.kubernetes.io/safe-to-evict: "false"}
                """);
        Deployment deployment = Workloads.one(objects, Deployment.class, Workloads.CONTROLLER);
        DaemonSet daemonSet = Workloads.one(objects, DaemonSet.class, Workloads.NODE);
        PodTemplateSpec controller = deployment.getSpec().getTemplate();
        PodTemplateSpec node = daemonSet.getSpec().getTemplate();
        assertThat(controller.getMetadata().getLabels()).containsEntry("team", "storage").doesNotContainKey("tier")
                .containsAllEntriesOf(deployment.getSpec().getSelector().getMatchLabels());
        assertThat(controller.getMetadata().getAnnotations()).containsExactly(Map.entry("prometheus.io/scrape",
                "false"));
        assertThat(node.getMetadata().getLabels()).containsEntry("tier", "node").doesNotContainKey("team")
                .containsAllEntriesOf(daemonSet.getSpec().getSelector().getMatchLabels());
        assertThat(node.getMetadata().getAnnotations())
                .containsExactly(Map.entry("cluster-autoscaler.kubernetes.io/safe-to-evict", "false"));
        assertThat(deployment.getSpec().getSelector().getMatchLabels()).doesNotContainKey("team");
        assertThat(deployment.getMetadata().getLabels()).doesNotContainKey("team");
        assertThatThrownBy(() -> Renders.helmYaml(Map.of("node.podLabels.app\\.kubernetes\\.io/component", "x"),
                null)).hasMessageContaining("podLabels");
    }

    @Test
    void driverFlags_reachBothDrivers_andParseWithTheDriversCommandLine() {
        List<HasMetadata> objects = Renders.helm(Map.of(), """
                logVerbosity: 3
                driver:
                  logVerbosity: 0
                  mountTimeout: 90s
                  statsTimeout: 2500ms
                controller:
                  workingMountDir: /run/nfs-csi/work
                  extraArgs: [--archive-retention=720h, --share-idle-timeout=10m]
                node:
                  extraArgs: [--shutdown-grace=20s]
                """);
        DriverChecks.all(objects, "/var/lib/kubelet");
        for (PodSpec pod : Workloads.pods(objects)) {
            CommandLine.ParseResult driver = parse(container(pod, DRIVER));
            assertThat(driver.matchedOptionValue("--mount-timeout", Duration.ZERO)).isEqualTo(Duration.ofSeconds(90));
            assertThat(driver.matchedOptionValue("--stats-timeout", Duration.ZERO))
                    .isEqualTo(Duration.ofMillis(2500));
            assertThat(driver.matchedOptionValue("--v", -1)).as("driver.logVerbosity 0 is not unset").isZero();
            for (Container c : pod.getContainers()) {
                if (!c.getName().equals(DRIVER)) {
                    assertThat(requiredFlag(c, "v")).as(c.getName()).isEqualTo("3");
                }
            }
        }
        PodSpec controller = Workloads.controller(objects);
        CommandLine.ParseResult controllerDriver = parse(container(controller, DRIVER));
        assertThat(controllerDriver.matchedOptionValue("--working-mount-dir", (Object) null))
                .hasToString("/run/nfs-csi/work");
        assertThat(Workloads.mountHolding(container(controller, DRIVER), "/run/nfs-csi/work/share-1"))
                .hasValueSatisfying(m -> assertThat(m.getName()).isEqualTo("working-mount-dir"));
        assertThat(Workloads.volume(controller, "working-mount-dir").getEmptyDir()).isNotNull();
        assertThat(controllerDriver.matchedOptionValue("--archive-retention", Duration.ZERO))
                .isEqualTo(Duration.ofHours(720));
        assertThat(controllerDriver.matchedOptionValue("--share-idle-timeout", Duration.ZERO))
                .isEqualTo(Duration.ofMinutes(10));
        CommandLine.ParseResult nodeDriver = parse(container(Workloads.node(objects), DRIVER));
        assertThat(nodeDriver.matchedOptionValue("--shutdown-grace", Duration.ZERO)).isEqualTo(Duration.ofSeconds(20));
        assertThat(nodeDriver.hasMatchedOption("--archive-retention")).isFalse();
        assertThat(nodeDriver.hasMatchedOption("--working-mount-dir")).isFalse();
    }

    /** The driver refuses a single-value flag given twice, so an extra arg may not repeat one the chart sets. */
    @Test
    void extraArgs_thatRepeatAChartFlag_areRefused_withTheValueToUse() {
        assertThatThrownBy(() -> Renders.helmYaml(Map.of("controller.extraArgs[0]", "--mount-timeout=5m"), null))
                .hasMessageContaining("--mount-timeout").hasMessageContaining("driver.mountTimeout");
        assertThatThrownBy(() -> Renders.helmYaml(Map.of("node.extraArgs[0]", "-v=5"), null))
                .hasMessageContaining("driver.logVerbosity");
        assertThatThrownBy(() -> Renders.helmYaml(Map.of("node.extraArgs[0]", "--drivername=other"), null))
                .hasMessageContaining("driverName");
        assertThatThrownBy(() -> new CommandLine(new Main()).parseArgs("--mount-timeout=1m", "--mount-timeout=5m"))
                .as("why: the driver's own command line").isInstanceOf(CommandLine.OverwrittenOptionException.class);
    }

    @Test
    void unsetDriverFlags_areLeftToTheDriversDefaults() {
        for (PodSpec pod : Workloads.pods(Renders.helm(Map.of()))) {
            CommandLine.ParseResult driver = parse(container(pod, DRIVER));
            assertThat(driver.hasMatchedOption("--mount-timeout")).isFalse();
            assertThat(driver.hasMatchedOption("--stats-timeout")).isFalse();
            assertThat(driver.matchedOptionValue("--v", -1)).isEqualTo(2);
        }
    }

    @Test
    void fsGroupPolicy_reachesTheCsiDriver() {
        for (String policy : List.of("None", "ReadWriteOnceWithFSType")) {
            CSIDriver driver = Workloads.all(Renders.helm(Map.of("csiDriver.fsGroupPolicy", policy)), CSIDriver.class)
                    .getFirst();
            assertThat(driver.getSpec().getFsGroupPolicy()).isEqualTo(policy);
        }
        assertThatThrownBy(() -> Renders.helmYaml(Map.of("csiDriver.fsGroupPolicy", "file"), null))
                .hasMessageContaining("fsGroupPolicy");
    }

    @Test
    void serviceAccountNames_reachPodsAndBindings_andCreateFalseMakesNone() {
        Map<String, String> named = Map.of("serviceAccount.controller", "storage-controller",
                "serviceAccount.node", "storage-node");
        List<HasMetadata> created = Renders.helm(named);
        assertThat(Workloads.all(created, ServiceAccount.class)).extracting(a -> a.getMetadata().getName())
                .containsExactlyInAnyOrder("storage-controller", "storage-node");
        assertThat(Workloads.controller(created).getServiceAccountName()).isEqualTo("storage-controller");
        assertThat(Workloads.node(created).getServiceAccountName()).isEqualTo("storage-node");
        assertThat(subjects(created)).isNotEmpty().allSatisfy(s -> {
            assertThat(s.getName()).isEqualTo("storage-controller");
            assertThat(s.getNamespace()).isEqualTo(Renders.NAMESPACE);
        });

        Map<String, String> existing = new LinkedHashMap<>(named);
        existing.put("serviceAccount.create", "false");
        List<HasMetadata> objects = Renders.helm(existing);
        assertThat(Workloads.all(objects, ServiceAccount.class)).isEmpty();
        assertThat(Workloads.controller(objects).getServiceAccountName()).isEqualTo("storage-controller");
        assertThat(Workloads.node(objects).getAutomountServiceAccountToken()).isFalse();
        assertThat(subjects(objects)).isNotEmpty().allMatch(s -> s.getName().equals("storage-controller"));
    }

    @Test
    void rbacName_prefixesEveryRole_andCreateFalseMakesNone() {
        List<HasMetadata> named = Renders.helm(Map.of("rbac.name", "nfs-csi-b"), """
                rbac:
                  secrets: [{namespace: default, names: [mount-options]}]
                """);
        List<String> names = new ArrayList<>();
        Workloads.all(named, ClusterRole.class).forEach(r -> names.add(r.getMetadata().getName()));
        Workloads.all(named, ClusterRoleBinding.class).forEach(r -> names.add(r.getMetadata().getName()));
        Workloads.all(named, Role.class).forEach(r -> names.add(r.getMetadata().getName()));
        Workloads.all(named, RoleBinding.class).forEach(r -> names.add(r.getMetadata().getName()));
        assertThat(names).hasSize(10).allMatch(n -> n.startsWith("nfs-csi-b-"));
        Workloads.all(named, ClusterRoleBinding.class).forEach(b -> Workloads.one(named, ClusterRole.class,
                b.getRoleRef().getName()));

        List<HasMetadata> none = Renders.helm(Map.of("rbac.create", "false"), """
                rbac:
                  secrets: [{namespace: default, names: [mount-options]}]
                """);
        assertThat(none).noneMatch(o -> o instanceof ClusterRole || o instanceof ClusterRoleBinding
                || o instanceof Role || o instanceof RoleBinding);
        assertThat(Workloads.all(none, ServiceAccount.class)).hasSize(2);
        DriverChecks.all(none, "/var/lib/kubelet");
    }

    @Test
    void volumeSnapshotClass_isOffByDefault_andFollowsItsValues() {
        assertThat(Workloads.all(Renders.helm(Map.of()), VolumeSnapshotClass.class)).isEmpty();
        List<HasMetadata> objects = Renders.helm(Map.of("driverName", "nfs.example.org"), """
                volumeSnapshotClass:
                  create: true
                  name: nfs-retain
                  deletionPolicy: Retain
                  annotations: {snapshot.storage.kubernetes.io/is-default-class: "true"}
                  parameters: {compression: zstd}
                """);
        VolumeSnapshotClass vsc = Workloads.one(objects, VolumeSnapshotClass.class, "nfs-retain");
        assertThat(vsc.getDriver()).isEqualTo("nfs.example.org");
        assertThat(vsc.getDeletionPolicy()).isEqualTo("Retain");
        assertThat(vsc.getParameters()).containsExactly(Map.entry("compression", "zstd"));
        assertThat(vsc.getMetadata().getAnnotations())
                .containsEntry("snapshot.storage.kubernetes.io/is-default-class", "true");
        assertThatThrownBy(() -> Renders.helmYaml(Map.of("volumeSnapshotClass.create", "true",
                "features.snapshots", "false"), null)).hasMessageContaining("features.snapshots");
        assertThatThrownBy(() -> Renders.helmYaml(Map.of("volumeSnapshotClass.deletionPolicy", "delete"), null))
                .hasMessageContaining("deletionPolicy");
    }

    /** Kubernetes' rule for a CSI driver name, which the CSIDriver object's name must follow. */
    @Test
    void driverName_mustBeALowercaseDnsSubdomain_ofAtMost63Characters() {
        String longest = "a".repeat(30) + "." + "b".repeat(32);
        assertThat(longest).hasSize(63);
        assertThat(Workloads.all(Renders.helm(Map.of("driverName", longest)), CSIDriver.class).getFirst()
                .getMetadata().getName()).isEqualTo(longest);
        for (String bad : List.of("NFS.csi.io", "nfs_csi.io", "-nfs.csi.io", "nfs.csi.io.", "nfs..csi.io",
                "nfs.csi.io-", longest + "c", "")) {
            assertThatThrownBy(() -> Renders.helmYaml(Map.of("driverName", bad), null)).as("driverName %s", bad)
                    .hasMessageContaining("driverName");
        }
    }

    @Test
    void schema_refusesBadValues() {
        Map<String, String> bad = Map.of(
                "driver.mountTimeout", "2 minutes",
                "driver.statsTimeout", "10sec",
                "controller.workingMountDir", "relative/dir",
                "controller.extraArgs[0]", "archive-retention=1h",
                "controller.tolerations[0].operator", "Sometimes",
                "rbac.secrets[0].namespace", "Team_A",
                "serviceAccount.controller", "Controller",
                "logFormat", "JSON");
        bad.forEach((key, value) -> assertThatThrownBy(() -> Renders.helmYaml(Map.of(key, value), null))
                .as("%s=%s", key, value).hasMessageContaining(key.substring(key.lastIndexOf('.') + 1)
                        .replaceAll("\\[\\d+]$", "")));
    }

    @Test
    void kubeVersion_belowTheSidecarsMinimum_isRefused() {
        assertThatThrownBy(() -> Renders.helmYaml(Map.of(), null, "v1.24.17")).hasMessageContaining("kubeVersion");
        assertThat(Renders.helmYaml(Map.of(), null, "v1.34.0")).contains("kind: CSIDriver");
    }

    /** Every value in values.yaml is in the chart README's table, down to the second level. */
    @Test
    void everyValue_isDocumentedInTheChartReadme() throws IOException {
        JsonNode values = KubeYaml.MAPPER.readTree(Files.readString(Renders.CHART.resolve("values.yaml")));
        String readme = Files.readString(Renders.CHART.resolve("README.md"));
        List<String> missing = new ArrayList<>();
        for (Iterator<Map.Entry<String, JsonNode>> top = values.fields(); top.hasNext(); ) {
            Map.Entry<String, JsonNode> e = top.next();
            if (e.getValue().isObject() && !e.getKey().equals("images")) {
                for (Iterator<String> keys = e.getValue().fieldNames(); keys.hasNext(); ) {
                    String path = e.getKey() + "." + keys.next();
                    if (!readme.contains("`" + path + "`") && !readme.contains("`" + path + ".")
                            && !readme.contains("`" + e.getKey() + ".<")) {
                        missing.add(path);
                    }
                }
            } else if (!readme.contains("`" + e.getKey() + "`") && !readme.contains("`" + e.getKey() + ".")) {
                missing.add(e.getKey());
            }
        }
        assertThat(missing).as("values missing from deploy/helm/nfs-csi/README.md").isEmpty();
    }

    private static List<Subject> subjects(List<HasMetadata> objects) {
        List<Subject> out = new ArrayList<>();
        Workloads.all(objects, ClusterRoleBinding.class).forEach(b -> out.addAll(b.getSubjects()));
        Workloads.all(objects, RoleBinding.class).forEach(b -> out.addAll(b.getSubjects()));
        return out;
    }

    private static CommandLine.ParseResult parse(Container driver) {
        List<String> args = Workloads.args(driver);
        CommandLine.ParseResult parsed = new CommandLine(new Main()).parseArgs(args.toArray(String[]::new));
        assertThat(parsed.unmatched()).as("unknown args %s", args).isEmpty();
        return parsed;
    }
}
