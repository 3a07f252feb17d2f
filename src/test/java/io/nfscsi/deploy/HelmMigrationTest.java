package io.nfscsi.deploy;

import static io.nfscsi.deploy.Workloads.DRIVER;
import static io.nfscsi.deploy.Workloads.container;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBinding;
import io.fabric8.kubernetes.api.model.rbac.PolicyRule;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import io.fabric8.kubernetes.api.model.rbac.RoleRef;
import io.fabric8.kubernetes.api.model.rbac.Subject;
import io.fabric8.kubernetes.api.model.storage.CSIDriver;
import io.fabric8.kubernetes.api.model.storage.StorageClass;
import io.fabric8.volumesnapshot.api.model.VolumeSnapshotClass;
import io.nfscsi.cli.Main;
import io.nfscsi.volume.OnDelete;
import io.nfscsi.volume.VolumeParameters;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * Taking over csi-driver-nfs's volumes with the chart: its StorageClass and VolumeSnapshotClass, as its
 * docs/driver-parameters.md and its chart's values.yaml (v4.13.4) write them, rendered with the migration values.
 * The controller may read the Secrets these classes name and no other; the driver deletes with the policy
 * csi-driver-nfs ran with; the CSIDriver object can be adopted by the release or left alone.
 */
class HelmMigrationTest {

    static final String CSI_DRIVER_NFS = "nfs.csi.k8s.io";
    static final String CONTROLLER_ACCOUNT = "nfs-csi-controller";
    static final String NODE_ACCOUNT = "nfs-csi-node";
    static final String RELEASE = "nfs-csi";

    /**
     * csi-driver-nfs's documented setup: a StorageClass whose provisioner secret holds the mountOptions that
     * DeleteVolume needs, and a VolumeSnapshotClass whose snapshotter secret does the same for DeleteSnapshot;
     * csi-driver-nfs was run with --default-ondelete-policy=retain.
     */
    static final String CSI_DRIVER_NFS_SETUP = """
            driverName: nfs.csi.k8s.io
            controller:
              defaultOnDeletePolicy: retain
            csiDriver:
              annotations:
                helm.sh/resource-policy: keep
            storageClasses:
              - name: nfs-csi
                parameters:
                  server: nfs-server.default.svc.cluster.local
                  share: /
                  subDir: ${pvc.metadata.namespace}/${pvc.metadata.name}
                  mountPermissions: "0"
                  onDelete: archive
                  csi.storage.k8s.io/provisioner-secret-name: mount-options
                  csi.storage.k8s.io/provisioner-secret-namespace: default
                reclaimPolicy: Delete
                volumeBindingMode: Immediate
                mountOptions: [nfsvers=4.1]
              - name: nfs-csi-default-policy
                parameters:
                  server: nfs-server.default.svc.cluster.local
                  share: /
                reclaimPolicy: Retain
            volumeSnapshotClass:
              create: true
              name: csi-nfs-snapclass
              deletionPolicy: Delete
              parameters:
                csi.storage.k8s.io/snapshotter-secret-name: mount-options
                csi.storage.k8s.io/snapshotter-secret-namespace: default
            """;

    @Test
    void csiDriverNfsSetup_grantsItsSecretOnly_andKeepsItsDeletePolicy() {
        List<HasMetadata> objects = Renders.helm(Map.of(), CSI_DRIVER_NFS_SETUP);
        assertThat(DriverChecks.all(objects, "/var/lib/kubelet")).isEqualTo(CSI_DRIVER_NFS);

        assertThat(mayAccessSecret(objects, CONTROLLER_ACCOUNT, "get", "default", "mount-options")).isTrue();
        assertThat(mayAccessSecret(objects, CONTROLLER_ACCOUNT, "get", "default", "other")).isFalse();
        assertThat(mayAccessSecret(objects, CONTROLLER_ACCOUNT, "list", "default", "mount-options")).isFalse();
        assertThat(mayAccessSecret(objects, CONTROLLER_ACCOUNT, "get", "kube-system", "mount-options")).isFalse();
        assertThat(mayAccessSecret(objects, NODE_ACCOUNT, "get", "default", "mount-options")).isFalse();
        assertThat(Workloads.all(objects, ClusterRole.class)).as("no cluster-wide secret rule")
                .allSatisfy(r -> assertThat(r.getRules()).noneMatch(rule -> rule.getResources().contains("secrets")));
        // the verbs are among those that csi-provisioner's and csi-snapshotter's own rbac files (at their tags)
        // give secrets for this case, which they ship commented out
        for (String sidecar : List.of("csi-provisioner", "csi-snapshotter")) {
            assertThat(RbacTest.UPSTREAM).as(sidecar).anyMatch(r -> r.sidecar().equals(sidecar)
                    && r.neededWhen().equals("secrets") && r.permission().resource().equals("secrets")
                    && r.permission().verb().equals("get"));
        }
        for (Role role : Workloads.all(objects, Role.class)) {
            role.getRules().stream().filter(rule -> rule.getResources().contains("secrets"))
                    .forEach(rule -> assertThat(rule.getVerbs()).as(role.getMetadata().getNamespace())
                            .containsExactly("get"));
        }

        CommandLine.ParseResult controller = parse(container(Workloads.controller(objects), DRIVER));
        assertThat(controller.matchedOptionValue("--default-ondelete-policy", "")).isEqualTo("retain");
        CommandLine.ParseResult node = parse(container(Workloads.node(objects), DRIVER));
        assertThat(node.hasMatchedOption("--default-ondelete-policy")).as("only the controller deletes").isFalse();

        // what csi-provisioner hands CreateVolume: the class's parameters without its reserved keys, plus the
        // PVC's metadata (--extra-create-metadata); the class without onDelete gets the flag's policy
        Map<String, OnDelete> policies = new HashMap<>();
        for (StorageClass sc : Workloads.all(objects, StorageClass.class)) {
            assertThat(sc.getProvisioner()).isEqualTo(CSI_DRIVER_NFS);
            Map<String, String> request = new HashMap<>();
            sc.getParameters().forEach((k, v) -> {
                if (!k.startsWith("csi.storage.k8s.io/")) {
                    request.put(k, v);
                }
            });
            request.put(VolumeParameters.PVC_NAME_KEY, "data");
            request.put(VolumeParameters.PVC_NAMESPACE_KEY, "team-a");
            request.put(VolumeParameters.PV_NAME_KEY, "pvc-1");
            policies.put(sc.getMetadata().getName(), VolumeParameters.parse(request, "pvc-1",
                    OnDelete.parse("--default-ondelete-policy", controller.matchedOptionValue(
                            "--default-ondelete-policy", "delete"))).onDelete());
        }
        assertThat(policies).containsEntry("nfs-csi", OnDelete.ARCHIVE)
                .containsEntry("nfs-csi-default-policy", OnDelete.RETAIN);
        StorageClass withSecret = Workloads.one(objects, StorageClass.class, "nfs-csi");
        assertThat(withSecret.getMountOptions()).containsExactly("nfsvers=4.1");

        VolumeSnapshotClass snapshots = Workloads.one(objects, VolumeSnapshotClass.class, "csi-nfs-snapclass");
        assertThat(snapshots.getDriver()).isEqualTo(CSI_DRIVER_NFS);
        assertThat(snapshots.getDeletionPolicy()).isEqualTo("Delete");
        assertThat(snapshots.getParameters()).containsEntry("csi.storage.k8s.io/snapshotter-secret-name",
                "mount-options");
    }

    @Test
    void csiDriverNfsName_withoutADeletePolicy_isRefused() {
        assertThatThrownBy(() -> Renders.helmYaml(Map.of("driverName", CSI_DRIVER_NFS), null))
                .hasMessageContaining("controller.defaultOnDeletePolicy");
        assertThatThrownBy(() -> Renders.helmYaml(Map.of("controller.defaultOnDeletePolicy", "keep"), null))
                .hasMessageContaining("defaultOnDeletePolicy");
        // under its own name the driver's default applies, and the flag is left out as in the kustomize base
        CommandLine.ParseResult own = parse(container(Workloads.controller(Renders.helm(Map.of())), DRIVER));
        assertThat(own.hasMatchedOption("--default-ondelete-policy")).isFalse();
        assertThat((String) own.commandSpec().findOption("--default-ondelete-policy").getValue())
                .as("the driver's default").isEqualTo("delete");
    }

    @Test
    void templatedSecretName_needsItsNamespaceGranted() {
        String templated = """
                storageClasses:
                  - name: per-claim
                    parameters:
                      server: nfs.example.com
                      share: /exports
                      csi.storage.k8s.io/provisioner-secret-name: ${pvc.name}
                      csi.storage.k8s.io/provisioner-secret-namespace: team-a
                """;
        assertThatThrownBy(() -> Renders.helmYaml(Map.of(), templated))
                .hasMessageContaining("rbac.secrets").hasMessageContaining("team-a");
        List<HasMetadata> objects = Renders.helm(Map.of("rbac.secrets[0].namespace", "team-a"), templated);
        assertThat(mayAccessSecret(objects, CONTROLLER_ACCOUNT, "get", "team-a", "any-claim")).isTrue();
        assertThat(mayAccessSecret(objects, CONTROLLER_ACCOUNT, "get", "team-b", "any-claim")).isFalse();
        assertThat(mayAccessSecret(objects, CONTROLLER_ACCOUNT, "watch", "team-a", "any-claim")).isFalse();
    }

    @Test
    void templatedSecretNamespace_needsAllSecrets_anExplicitOptIn() {
        String templated = """
                storageClasses:
                  - name: per-namespace
                    parameters:
                      server: nfs.example.com
                      share: /exports
                      csi.storage.k8s.io/provisioner-secret-name: mount-options
                      csi.storage.k8s.io/provisioner-secret-namespace: ${pvc.namespace}
                """;
        assertThatThrownBy(() -> Renders.helmYaml(Map.of("rbac.secrets[0].namespace", "team-a"), templated))
                .hasMessageContaining("rbac.allSecrets");
        List<HasMetadata> objects = Renders.helm(Map.of("rbac.allSecrets", "true"), templated);
        assertThat(mayAccessSecret(objects, CONTROLLER_ACCOUNT, "get", "anywhere", "anything")).isTrue();
        assertThat(mayAccessSecret(objects, CONTROLLER_ACCOUNT, "list", "anywhere", "anything")).isFalse();
        assertThat(Workloads.all(objects, Role.class)).extracting(r -> r.getMetadata().getName())
                .containsExactly("nfs-csi-leader-election");
    }

    @Test
    void secretNameWithoutNamespace_isRefused() {
        assertThatThrownBy(() -> Renders.helmYaml(Map.of(), """
                volumeSnapshotClass:
                  create: true
                  parameters:
                    csi.storage.k8s.io/snapshotter-secret-name: mount-options
                """)).hasMessageContaining("go together");
    }

    @Test
    void listedSecrets_andClassSecrets_makeOneRolePerNamespace() {
        List<HasMetadata> objects = Renders.helm(Map.of(), CSI_DRIVER_NFS_SETUP + """
                rbac:
                  secrets:
                    - namespace: default
                      names: [old-mount-options]
                    - namespace: default
                      names: [mount-options]
                    - namespace: storage
                """);
        List<Role> secretRoles = Workloads.all(objects, Role.class).stream()
                .filter(r -> r.getMetadata().getName().equals("nfs-csi-secrets")).toList();
        assertThat(secretRoles).extracting(r -> r.getMetadata().getNamespace()).containsExactly("default", "storage");
        assertThat(secretRoles.getFirst().getRules().getFirst().getResourceNames())
                .containsExactly("mount-options", "old-mount-options");
        assertThat(mayAccessSecret(objects, CONTROLLER_ACCOUNT, "get", "default", "old-mount-options")).isTrue();
        assertThat(mayAccessSecret(objects, CONTROLLER_ACCOUNT, "get", "storage", "whatever")).isTrue();
        assertThat(mayAccessSecret(objects, CONTROLLER_ACCOUNT, "get", "default", "whatever")).isFalse();
    }

    @Test
    void expansionSecret_isGrantedForTheResizer() {
        List<HasMetadata> objects = Renders.helm(Map.of(), """
                storageClasses:
                  - name: expandable
                    parameters:
                      server: nfs.example.com
                      share: /exports
                      csi.storage.k8s.io/controller-expand-secret-name: expand
                      csi.storage.k8s.io/controller-expand-secret-namespace: storage
                """);
        assertThat(mayAccessSecret(objects, CONTROLLER_ACCOUNT, "get", "storage", "expand")).isTrue();
        assertThat(mayAccessSecret(objects, CONTROLLER_ACCOUNT, "get", "storage", "other")).isFalse();
    }

    @Test
    void defaults_grantNoSecret() {
        List<HasMetadata> objects = Renders.helm(Map.of());
        assertThat(mayAccessSecret(objects, CONTROLLER_ACCOUNT, "get", Renders.NAMESPACE, "x")).isFalse();
        assertThat(mayAccessSecret(objects, CONTROLLER_ACCOUNT, "get", "default", "mount-options")).isFalse();
    }

    /**
     * csi-driver-nfs's CSIDriver as its v4.13.4 chart makes it by default (feature.enableFSGroupPolicy: true,
     * feature.enableInlineVolume: false), with the ownership metadata of the Helm release that installed it
     * (overwritten by the commands). attachRequired and volumeLifecycleModes are immutable, so the release
     * can adopt the object only if it renders them the same. The README's two commands, run on that object, give
     * it the ownership metadata that Helm requires before it adopts an object (label app.kubernetes.io/managed-by
     * "Helm", annotations meta.helm.sh/release-name and release-namespace naming the release).
     */
    @Test
    void readmeAdoptionCommands_makeCsiDriverNfsObjectAdoptable(@TempDir Path work) throws Exception {
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/kubectl")) || onPath("kubectl"),
                "kubectl is not on PATH");
        String upstream = """
                apiVersion: storage.k8s.io/v1
                kind: CSIDriver
                metadata:
                  name: nfs.csi.k8s.io
                  labels:
                    app.kubernetes.io/managed-by: Helm
                  annotations:
                    meta.helm.sh/release-name: csi-driver-nfs
                    meta.helm.sh/release-namespace: kube-system
                spec:
                  attachRequired: false
                  volumeLifecycleModes:
                    - Persistent
                  fsGroupPolicy: File
                """;
        List<List<String>> commands = adoptionCommands();
        assertThat(commands).extracting(List::getFirst).containsExactlyInAnyOrder("annotate", "label");
        String object = upstream;
        for (List<String> command : commands) {
            object = kubectlLocal(work, object, command);
        }
        ObjectMeta meta = ((CSIDriver) KubeYaml.parseAll(object).getFirst()).getMetadata();
        assertThat(meta.getLabels()).containsEntry("app.kubernetes.io/managed-by", "Helm");
        assertThat(meta.getAnnotations()).containsEntry("meta.helm.sh/release-name", RELEASE)
                .containsEntry("meta.helm.sh/release-namespace", Renders.NAMESPACE);

        CSIDriver theirs = (CSIDriver) KubeYaml.parseAll(upstream).getFirst();
        CSIDriver ours = Workloads.one(Renders.helm(Map.of(), CSI_DRIVER_NFS_SETUP), CSIDriver.class, CSI_DRIVER_NFS);
        assertThat(ours.getSpec().getAttachRequired()).isEqualTo(theirs.getSpec().getAttachRequired());
        assertThat(ours.getSpec().getVolumeLifecycleModes()).isEqualTo(theirs.getSpec().getVolumeLifecycleModes());
        assertThat(ours.getSpec().getFsGroupPolicy()).isEqualTo(theirs.getSpec().getFsGroupPolicy());
        assertThat(Boolean.TRUE.equals(ours.getSpec().getPodInfoOnMount())).as("podInfoOnMount")
                .isEqualTo(Boolean.TRUE.equals(theirs.getSpec().getPodInfoOnMount()));
        assertThat(ours.getMetadata().getLabels()).containsEntry("app.kubernetes.io/managed-by", "Helm");
        assertThat(ours.getMetadata().getAnnotations()).containsEntry("helm.sh/resource-policy", "keep");
    }

    /** The README's migration values render, for csi-driver-nfs's name, with its secret readable. */
    @Test
    void readmeMigrationValues_render() throws IOException {
        String readme = Files.readString(Renders.CHART.resolve("README.md"), StandardCharsets.UTF_8);
        Matcher m = Pattern.compile("(?s)```yaml\n(# values-migration\\.yaml\n.*?)```").matcher(readme);
        assertThat(m.find()).as("a values-migration.yaml block in the chart README").isTrue();
        List<HasMetadata> objects = Renders.helm(Map.of(), m.group(1));
        assertThat(DriverChecks.all(objects, "/var/lib/kubelet")).isEqualTo(CSI_DRIVER_NFS);
        assertThat(mayAccessSecret(objects, CONTROLLER_ACCOUNT, "get", "default", "mount-options")).isTrue();
        assertThat(parse(container(Workloads.controller(objects), DRIVER))
                .hasMatchedOption("--default-ondelete-policy")).isTrue();
        assertThat(Workloads.one(objects, CSIDriver.class, CSI_DRIVER_NFS).getMetadata().getAnnotations())
                .containsEntry("helm.sh/resource-policy", "keep");
    }

    @Test
    void csiDriverCreateFalse_leavesTheObjectAlone_andEverythingElseNamesIt() {
        List<HasMetadata> objects = Renders.helm(Map.of("csiDriver.create", "false"), CSI_DRIVER_NFS_SETUP);
        assertThat(Workloads.all(objects, CSIDriver.class)).isEmpty();
        for (var pod : Workloads.pods(objects)) {
            assertThat(Workloads.requiredFlag(container(pod, DRIVER), "drivername")).isEqualTo(CSI_DRIVER_NFS);
        }
        assertThat(Workloads.requiredFlag(container(Workloads.node(objects), "node-driver-registrar"),
                "kubelet-registration-path")).isEqualTo("/var/lib/kubelet/plugins/nfs.csi.k8s.io/csi.sock");
        assertThat(Workloads.all(objects, StorageClass.class)).allMatch(sc -> sc.getProvisioner()
                .equals(CSI_DRIVER_NFS));
    }

    // -- helpers

    private static CommandLine.ParseResult parse(Container driver) {
        List<String> args = Workloads.args(driver);
        CommandLine.ParseResult parsed = new CommandLine(new Main()).parseArgs(args.toArray(String[]::new));
        assertThat(parsed.unmatched()).as("unknown args %s", args).isEmpty();
        return parsed;
    }

    /**
     * Whether RBAC lets the account (in the release namespace) do verb on one Secret: a ClusterRoleBinding to a
     * ClusterRole, or a RoleBinding in the Secret's namespace to a Role there or to a ClusterRole, with a rule for
     * core secrets, the verb, and no resourceNames or the Secret's name among them.
     */
    static boolean mayAccessSecret(List<HasMetadata> objects, String account, String verb, String namespace,
                                   String name) {
        List<PolicyRule> rules = new ArrayList<>();
        for (ClusterRoleBinding b : Workloads.all(objects, ClusterRoleBinding.class)) {
            if (binds(b.getSubjects(), account)) {
                rules.addAll(rulesOf(objects, b.getRoleRef(), null));
            }
        }
        for (RoleBinding b : Workloads.all(objects, RoleBinding.class)) {
            if (namespace.equals(b.getMetadata().getNamespace()) && binds(b.getSubjects(), account)) {
                rules.addAll(rulesOf(objects, b.getRoleRef(), namespace));
            }
        }
        return rules.stream().anyMatch(r -> r.getApiGroups().contains("") && r.getResources().contains("secrets")
                && r.getVerbs().contains(verb)
                && (r.getResourceNames() == null || r.getResourceNames().isEmpty()
                || r.getResourceNames().contains(name)));
    }

    private static List<PolicyRule> rulesOf(List<HasMetadata> objects, RoleRef ref, String namespace) {
        if (ref.getKind().equals("ClusterRole")) {
            return Workloads.one(objects, ClusterRole.class, ref.getName()).getRules();
        }
        assertThat(ref.getKind()).isEqualTo("Role");
        List<Role> roles = Workloads.all(objects, Role.class).stream()
                .filter(r -> r.getMetadata().getName().equals(ref.getName())
                        && namespace.equals(r.getMetadata().getNamespace())).toList();
        assertThat(roles).as("Role %s/%s of a RoleBinding", namespace, ref.getName()).hasSize(1);
        return roles.getFirst().getRules();
    }

    private static boolean binds(List<Subject> subjects, String account) {
        return subjects.stream().anyMatch(s -> s.getKind().equals("ServiceAccount") && s.getName().equals(account)
                && Renders.NAMESPACE.equals(s.getNamespace()));
    }

    /** The chart README's {@code kubectl annotate|label csidriver nfs.csi.k8s.io ...} lines, as kubectl args. */
    private static List<List<String>> adoptionCommands() throws IOException {
        String readme = Files.readString(Renders.CHART.resolve("README.md"), StandardCharsets.UTF_8);
        Matcher m = Pattern.compile("(?m)^kubectl (annotate|label) csidriver nfs\\.csi\\.k8s\\.io (.+)$")
                .matcher(readme);
        List<List<String>> out = new ArrayList<>();
        while (m.find()) {
            List<String> args = new ArrayList<>(List.of(m.group(1)));
            args.addAll(List.of(m.group(2).trim().split("\\s+")));
            out.add(args);
        }
        return out;
    }

    /** Runs {@code kubectl <verb> --local -f <object> -o yaml <args>}: the change, without a cluster. */
    private static String kubectlLocal(Path work, String object, List<String> command) throws Exception {
        Path in = Files.writeString(work.resolve("object.yaml"), object);
        Path out = work.resolve("out.yaml");
        Path err = work.resolve("err.txt");
        List<String> argv = new ArrayList<>(List.of("kubectl", command.getFirst(), "--local", "-f", in.toString(),
                "-o", "yaml"));
        argv.addAll(command.subList(1, command.size()));
        Process p = new ProcessBuilder(argv).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as("%s: %s", argv, Files.readString(err)).isZero();
        return Files.readString(out);
    }

    private static boolean onPath(String command) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator)) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, command))) {
                return true;
            }
        }
        return false;
    }
}
