package io.nfscsi.deploy;

import static io.nfscsi.deploy.Workloads.DRIVER;
import static io.nfscsi.deploy.Workloads.container;
import static io.nfscsi.deploy.Workloads.requiredFlag;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.node.ObjectNode;
import com.marcnuri.helm.Helm;
import com.marcnuri.helm.LintResult;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.storage.CSIDriver;
import io.fabric8.kubernetes.api.model.storage.StorageClass;
import io.nfscsi.volume.OnDelete;
import io.nfscsi.volume.VolumeParameters;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The Helm chart, rendered by Helm's engine (helm-java) and parsed strictly: with default values it is the
 * kustomize base, with feature switches it is the matching overlay, and whatever the values, the invariants of
 * {@link DriverChecks} hold.
 */
class HelmChartTest {

    /** Labels that only Helm adds; the rest of each object must equal the kustomize render. */
    static final List<String> HELM_LABELS = List.of("app.kubernetes.io/managed-by", "helm.sh/chart");

    @Test
    void lint_passesStrict() {
        LintResult lint = new Helm(Renders.CHART).lint().strict().call();
        assertThat(lint.isFailed()).as("%s", lint.getMessages()).isFalse();
        assertThat(lint.getMessages()).noneMatch(m -> m.contains("[WARNING]") || m.contains("[ERROR]"));
    }

    @Test
    void defaultValues_renderTheKustomizeBase_exceptItsNamespace() {
        Map<String, ObjectNode> base = KustomizeOverlaysTest.byId(Renders.kustomize(Renders.BASE));
        ObjectNode namespace = base.remove("Namespace " + Renders.NAMESPACE);
        assertThat(namespace).as("Helm installs into an existing namespace; the base makes it").isNotNull();
        assertThat(withoutHelmLabels(Renders.helm(Map.of()))).isEqualTo(base);
    }

    @Test
    void snapshotsOff_rendersTheNoSnapshotsOverlay() {
        Map<String, ObjectNode> overlay = KustomizeOverlaysTest.byId(
                Renders.kustomize(Renders.OVERLAYS.resolve("no-snapshots")));
        overlay.remove("Namespace " + Renders.NAMESPACE);
        assertThat(withoutHelmLabels(Renders.helm(Map.of("features.snapshots", "false")))).isEqualTo(overlay);
    }

    @Test
    void inlineVolumesOn_rendersTheInlineVolumesOverlay() {
        Map<String, ObjectNode> overlay = KustomizeOverlaysTest.byId(
                Renders.kustomize(Renders.OVERLAYS.resolve("inline-volumes")));
        overlay.remove("Namespace " + Renders.NAMESPACE);
        assertThat(withoutHelmLabels(Renders.helm(Map.of("features.inlineVolumes", "true"), INLINE_SHARES)))
                .isEqualTo(overlay);
    }

    static final String INLINE_SHARES = """
            node:
              inlineAllowedShares: [nfs.example.com:/exports/inline/**]
            """;

    @Test
    void inlineVolumesOn_withoutAllowedShares_failsTheRender_namingTheValue() {
        assertThatThrownBy(() -> Renders.helmYaml(Map.of("features.inlineVolumes", "true"), null))
                .hasMessageContaining("node.inlineAllowedShares");
    }

    @Test
    void inlineAllowedShares_eachBecomesAFlag_onlyWithInlineVolumesOn() {
        String shares = """
                node:
                  inlineAllowedShares: [nfs.example.com:/exports/inline/**, "*.lab.example.com:/scratch/*"]
                """;
        List<String> on = Workloads.node(Renders.helm(Map.of("features.inlineVolumes", "true"), shares))
                .getContainers().getFirst().getArgs();
        assertThat(on).filteredOn(a -> a.startsWith("--inline-allowed-shares")).containsExactly(
                "--inline-allowed-shares=nfs.example.com:/exports/inline/**",
                "--inline-allowed-shares=*.lab.example.com:/scratch/*");
        List<String> off = Workloads.node(Renders.helm(Map.of(), shares)).getContainers().getFirst()
                .getArgs();
        assertThat(off).noneMatch(a -> a.startsWith("--inline-allowed-shares"));
        assertThatThrownBy(() -> Renders.helmYaml(Map.of(), """
                node:
                  inlineAllowedShares: [nfs.example.com]
                """)).hasMessageContaining("inlineAllowedShares");
        // one place for the list, so that the render's check sees every entry
        assertThatThrownBy(() -> Renders.helmYaml(Map.of("node.extraArgs[0]", "--inline-allowed-shares=*:/**"), null))
                .hasMessageContaining("node.inlineAllowedShares");
    }

    @Test
    void logFormatJson_rendersTheJsonLogsOverlay() {
        Map<String, ObjectNode> overlay = KustomizeOverlaysTest.byId(
                Renders.kustomize(Renders.OVERLAYS.resolve("json-logs")));
        overlay.remove("Namespace " + Renders.NAMESPACE);
        assertThat(withoutHelmLabels(Renders.helm(Map.of("logFormat", "json")))).isEqualTo(overlay);
    }

    @Test
    void driverName_changesEveryPlaceItAppears() {
        String name = "nfs.example.org";
        List<HasMetadata> objects = Renders.helm(Map.of("driverName", name), STORAGE_CLASSES);
        assertThat(DriverChecks.all(objects, "/var/lib/kubelet")).isEqualTo(name);
        assertThat(Workloads.volume(Workloads.node(objects), "socket-dir").getHostPath().getPath())
                .isEqualTo("/var/lib/kubelet/plugins/" + name);
        assertThat(Workloads.all(objects, StorageClass.class)).isNotEmpty();
        assertThat(Renders.helmYaml(Map.of("driverName", name), STORAGE_CLASSES)).doesNotContain("nfs.csi.io");
    }

    @Test
    void kubeletDir_movesEveryKubeletPath() {
        String dir = "/var/lib/k0s/kubelet";
        List<HasMetadata> objects = Renders.helm(Map.of("kubeletDir", dir));
        DriverChecks.all(objects, dir);
        assertThat(Renders.helmYaml(Map.of("kubeletDir", dir), null)).doesNotContain("/var/lib/kubelet");
    }

    @Test
    void storageClasses_areMadeForTheDriver_withParametersTheDriverAccepts() {
        List<StorageClass> classes = Workloads.all(Renders.helm(Map.of(), STORAGE_CLASSES), StorageClass.class);
        assertThat(classes).extracting(sc -> sc.getMetadata().getName()).containsExactly("nfs", "nfs-retain");
        StorageClass nfs = classes.get(0);
        assertThat(nfs.getProvisioner()).isEqualTo(KustomizeBaseTest.DRIVER_NAME);
        assertThat(nfs.getParameters()).containsEntry("mountPermissions", "0770")
                .containsEntry("subDir", "${pvc.metadata.namespace}/${pvc.metadata.name}");
        assertThat(nfs.getMountOptions()).containsExactly("nfsvers=4.1", "hard");
        assertThat(nfs.getMetadata().getAnnotations())
                .containsEntry("storageclass.kubernetes.io/is-default-class", "true");
        assertThat(nfs.getReclaimPolicy()).isEqualTo("Delete");
        assertThat(nfs.getVolumeBindingMode()).isEqualTo("Immediate");
        assertThat(nfs.getAllowVolumeExpansion()).isTrue();
        StorageClass retain = classes.get(1);
        assertThat(retain.getReclaimPolicy()).isEqualTo("Retain");
        assertThat(retain.getAllowVolumeExpansion()).isFalse();
        assertThat(retain.getMountOptions()).isNullOrEmpty();
        for (StorageClass sc : classes) {
            Map<String, String> request = new HashMap<>(sc.getParameters());
            request.put(VolumeParameters.PVC_NAME_KEY, "data");
            request.put(VolumeParameters.PVC_NAMESPACE_KEY, "team-a");
            request.put(VolumeParameters.PV_NAME_KEY, "pvc-1");
            VolumeParameters parsed = VolumeParameters.parse(request, "pvc-1", OnDelete.DELETE);
            assertThat(parsed.subDir()).as(sc.getMetadata().getName()).startsWith("team-a/");
        }
    }

    @Test
    void controllerShares_becomeShareFlagsOfTheControllerDriverOnly() {
        Map<String, String> set = new LinkedHashMap<>();
        set.put("controller.shares[0]", "nfs.example.com:/exports");
        set.put("controller.shares[1]", "nfs.example.com:/archive,nfsvers=4.1");
        List<HasMetadata> objects = Renders.helm(set);
        assertThat(container(Workloads.controller(objects), DRIVER).getArgs())
                .containsSubsequence("--share=nfs.example.com:/exports", "--share=nfs.example.com:/archive,nfsvers=4.1");
        assertThat(container(Workloads.node(objects), DRIVER).getArgs()).noneMatch(a -> a.startsWith("--share"));
        for (String arg : container(Workloads.controller(objects), DRIVER).getArgs()) {
            if (arg.startsWith("--share=")) {
                assertThat(io.nfscsi.controller.ControllerSettings.Share.parse("--share", arg.substring(8)))
                        .isNotNull();
            }
        }
    }

    @Test
    void javaOpts_thatDoNotFitTheMemoryLimit_areRefused() {
        List<HasMetadata> objects = Renders.helm(Map.of("controller.javaOpts", "-Xmx448m -XX:MaxDirectMemorySize=64m"));
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> JvmMemory.fitTheContainers(objects))
                .isInstanceOf(AssertionError.class).hasMessageContaining("heap 448");
    }

    @Test
    void values_reachTheWorkloads() {
        Map<String, String> set = new LinkedHashMap<>();
        set.put("controller.replicas", "3");
        set.put("logVerbosity", "5");
        set.put("controller.resources.nfs.limits.memory", "1Gi");
        set.put("controller.javaOpts", "-Xmx400m -XX:MaxDirectMemorySize=128m");
        set.put("node.resources.nfs.requests.cpu", "50m");
        set.put("images.nfs.repository", "registry.example.org/storage/nfs-csi");
        set.put("images.nfs.tag", "0.2.0");
        set.put("images.csiProvisioner.repository", "mirror.example.org/csi-provisioner");
        set.put("controller.provisionerTimeout", "20m");
        set.put("imagePullSecrets[0].name", "pull-secret");
        List<HasMetadata> objects = Renders.helm(set);
        DriverChecks.all(objects, "/var/lib/kubelet");
        assertThat(Workloads.one(objects, Deployment.class, Workloads.CONTROLLER).getSpec().getReplicas())
                .isEqualTo(3);
        for (PodSpec pod : Workloads.pods(objects)) {
            assertThat(container(pod, DRIVER).getImage()).isEqualTo("registry.example.org/storage/nfs-csi:0.2.0");
            assertThat(pod.getImagePullSecrets()).extracting(r -> r.getName()).containsExactly("pull-secret");
            for (Container c : pod.getContainers()) {
                assertThat(requiredFlag(c, "v")).as(c.getName()).isEqualTo("5");
            }
        }
        PodSpec controller = Workloads.controller(objects);
        assertThat(container(controller, DRIVER).getResources().getLimits().get("memory"))
                .isEqualTo(new Quantity("1Gi"));
        assertThat(JvmMemory.of(container(controller, DRIVER)).heap()).isEqualTo(400L << 20);
        assertThat(container(Workloads.node(objects), DRIVER).getResources().getRequests().get("cpu"))
                .isEqualTo(new Quantity("50m"));
        assertThat(container(controller, "csi-provisioner").getImage())
                .isEqualTo("mirror.example.org/csi-provisioner:v6.3.0");
        assertThat(requiredFlag(container(controller, "csi-provisioner"), "timeout")).isEqualTo("20m");
    }

    @Test
    void healthPorts_moveTogetherWithTheirProbes() {
        List<HasMetadata> objects = Renders.helm(Map.of("controller.healthPort", "39653", "node.healthPort", "39652"));
        assertThat(DriverChecks.livenessProbesReachLivenessprobe(objects)).containsExactly(39653, 39652);
        assertThatThrownBy(() -> Renders.helmYaml(Map.of("node.healthPort", "29880"), null))
                .hasMessageContaining("must differ");
    }

    @Test
    void misspeltValue_isRefusedByTheSchema() {
        assertThatThrownBy(() -> Renders.helmYaml(Map.of("controler.replicas", "3"), null))
                .hasMessageContaining("controler");
        assertThatThrownBy(() -> Renders.helmYaml(Map.of("images.nfs.tag", "latest"), null))
                .hasMessageContaining("tag");
    }

    @Test
    void csiDriver_followsTheFeatureSwitch() {
        CSIDriver inline = Workloads.all(Renders.helm(Map.of("features.inlineVolumes", "true"), INLINE_SHARES),
                CSIDriver.class).getFirst();
        assertThat(inline.getSpec().getVolumeLifecycleModes()).containsExactly("Persistent", "Ephemeral");
        assertThat(inline.getSpec().getPodInfoOnMount()).isTrue();
        CSIDriver persistent = Workloads.all(Renders.helm(Map.of()), CSIDriver.class).getFirst();
        assertThat(persistent.getSpec().getPodInfoOnMount()).isFalse();
    }

    static final String STORAGE_CLASSES = """
            storageClasses:
              - name: nfs
                annotations:
                  storageclass.kubernetes.io/is-default-class: "true"
                parameters:
                  server: nfs.example.com
                  share: /exports
                  subDir: ${pvc.metadata.namespace}/${pvc.metadata.name}
                  mountPermissions: "0770"
                  onDelete: archive
                mountOptions: [nfsvers=4.1, hard]
              - name: nfs-retain
                parameters:
                  server: nfs.example.com
                  share: /exports/kept
                  subDir: ${pvc.metadata.namespace}/${pv.metadata.name}
                  onDelete: retain
                reclaimPolicy: Retain
                allowVolumeExpansion: false
            """;

    /** The render by id, each object without the labels that only Helm adds. */
    static Map<String, ObjectNode> withoutHelmLabels(List<HasMetadata> objects) {
        Map<String, ObjectNode> out = KustomizeOverlaysTest.byId(objects);
        for (ObjectNode o : out.values()) {
            ObjectNode labels = (ObjectNode) o.path("metadata").path("labels");
            assertThat(labels.has(HELM_LABELS.getFirst())).as("Helm labels on %s", o.path("metadata")).isTrue();
            HELM_LABELS.forEach(labels::remove);
        }
        return out;
    }
}
