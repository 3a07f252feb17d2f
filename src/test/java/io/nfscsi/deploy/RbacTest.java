package io.nfscsi.deploy;

import static io.nfscsi.deploy.Workloads.container;
import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBinding;
import io.fabric8.kubernetes.api.model.rbac.PolicyRule;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import io.fabric8.kubernetes.api.model.rbac.Subject;
import io.fabric8.kubernetes.api.model.storage.StorageClass;
import io.grpc.stub.StreamObserver;
import io.nfscsi.controller.ControllerService;
import io.nfscsi.controller.ControllerSettings;
import io.nfscsi.csi.v1.Csi;
import io.nfscsi.identity.IdentityService;
import io.nfscsi.concurrent.BoundedIo;
import io.nfscsi.testing.FakeMounter;
import io.nfscsi.testing.TestPools;
import io.nfscsi.volume.OnDelete;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Least privilege, checked against what each sidecar documents in its own deploy/kubernetes/rbac.yaml
 * (external-provisioner v6.3.0, external-resizer v2.2.1, external-snapshotter v8.6.0 csi-snapshotter;
 * node-driver-registrar and livenessprobe need none). The controller's account must hold exactly the union of the
 * documented rules of the sidecars in its pod: a rule missing breaks provisioning, resizing or snapshots; a rule
 * more is a privilege nobody uses. Rules that rbac.yaml marks as needed only with some feature are omitted, and
 * {@link #omittedRules_belongToFeaturesThisDeploymentDoesNotUse} checks that the feature is indeed off.
 */
class RbacTest {

    record Permission(String group, String resource, String verb) implements Comparable<Permission> {
        @Override
        public int compareTo(Permission o) {
            return toString().compareTo(o.toString());
        }

        @Override
        public String toString() {
            return (group.isEmpty() ? "core" : group) + "/" + resource + ":" + verb;
        }
    }

    /** Cluster-wide rules each sidecar documents as always needed. */
    static final Map<String, Set<Permission>> DOCUMENTED = Map.of(
            "csi-provisioner", permissions(
                    "", "persistentvolumes", "get,list,watch,create,patch,delete",
                    "", "persistentvolumeclaims", "get,list,watch,update",
                    "storage.k8s.io", "storageclasses", "get,list,watch",
                    "", "events", "list,watch,create,update,patch",
                    "snapshot.storage.k8s.io", "volumesnapshots", "get,list",
                    "snapshot.storage.k8s.io", "volumesnapshotcontents", "get,list",
                    "storage.k8s.io", "volumeattributesclasses", "get,list,watch"),
            "csi-resizer", permissions(
                    "", "persistentvolumes", "get,list,watch,patch",
                    "", "persistentvolumeclaims", "get,list,watch",
                    "", "persistentvolumeclaims/status", "patch",
                    "", "events", "list,watch,create,update,patch",
                    "storage.k8s.io", "volumeattributesclasses", "get,list,watch"),
            "csi-snapshotter", permissions(
                    "", "events", "list,watch,create,update,patch",
                    "snapshot.storage.k8s.io", "volumesnapshotclasses", "get,list,watch",
                    "snapshot.storage.k8s.io", "volumesnapshotcontents", "get,list,watch,update,patch",
                    "snapshot.storage.k8s.io", "volumesnapshotcontents/status", "update,patch"),
            "livenessprobe", Set.of(),
            "csi-node-driver-registrar", Set.of());

    /** What the sidecars with --leader-election document for their namespace (a Role). */
    static final Set<Permission> LEADER_ELECTION = permissions(
            "coordination.k8s.io", "leases", "get,watch,list,delete,update,create");

    /** Rules the sidecars document as conditional, and why this deployment does not need them. */
    static final Map<Permission, String> OMITTED = Map.ofEntries(
            omitted("", "secrets", "get", "provisioner/resizer/snapshotter secrets: none are configured"),
            omitted("", "nodes", "get", "csi-provisioner topology: the driver reports no accessibility constraints"),
            omitted("storage.k8s.io", "csinodes", "get", "csi-provisioner topology, likewise"),
            omitted("storage.k8s.io", "volumeattachments", "get",
                    "csi-provisioner: only for drivers with PUBLISH_UNPUBLISH_VOLUME"),
            omitted("storage.k8s.io", "csistoragecapacities", "create", "csi-provisioner --enable-capacity: off"),
            omitted("", "pods", "get", "csi-resizer --handle-volume-inuse-error: false; provisioner capacity: off"),
            omitted("apps", "replicasets", "get", "csi-provisioner --enable-capacity: off"),
            omitted("gateway.networking.k8s.io", "referencegrants", "get",
                    "csi-provisioner CrossNamespaceVolumeDataSource: off"),
            omitted("snapshot.storage.k8s.io", "volumesnapshotcontents", "create",
                    "csi-snapshotter: group snapshot members only; CSIVolumeGroupSnapshot is off"),
            omitted("groupsnapshot.storage.k8s.io", "volumegroupsnapshotcontents", "get",
                    "csi-snapshotter CSIVolumeGroupSnapshot: off, and the driver has no group controller"));

    static final String CONTROLLER_ACCOUNT = "nfs-csi-controller";
    static final String NODE_ACCOUNT = "nfs-csi-node";

    static List<HasMetadata> base;

    @BeforeAll
    static void render() {
        base = Renders.kustomize(Renders.BASE);
    }

    @Test
    void controllerAccount_holdsExactlyTheDocumentedRulesOfItsSidecars() {
        assertThat(clusterPermissions(base, CONTROLLER_ACCOUNT))
                .isEqualTo(documentedFor(Workloads.controller(base)));
        assertThat(namespacedPermissions(base, CONTROLLER_ACCOUNT, Renders.NAMESPACE)).isEqualTo(LEADER_ELECTION);
    }

    @Test
    void noSnapshotsOverlay_dropsTheSnapshottersRules_only() {
        List<HasMetadata> overlay = Renders.kustomize(Renders.OVERLAYS.resolve("no-snapshots"));
        PodSpec pod = Workloads.controller(overlay);
        assertThat(Workloads.findContainer(pod, "csi-snapshotter")).isEmpty();
        Set<Permission> expected = documentedFor(pod);
        assertThat(clusterPermissions(overlay, CONTROLLER_ACCOUNT)).isEqualTo(expected);
        assertThat(expected).doesNotContain(new Permission("snapshot.storage.k8s.io", "volumesnapshotcontents",
                "update"));
    }

    @Test
    void eachClusterRole_isOneSidecarsDocumentedRules() {
        Map<String, String> roleOf = Map.of(
                "nfs-csi-external-provisioner", "csi-provisioner",
                "nfs-csi-external-resizer", "csi-resizer",
                "nfs-csi-external-snapshotter", "csi-snapshotter");
        List<ClusterRole> roles = Workloads.all(base, ClusterRole.class);
        assertThat(roles).extracting(r -> r.getMetadata().getName())
                .containsExactlyInAnyOrderElementsOf(roleOf.keySet());
        for (ClusterRole role : roles) {
            assertThat(expand(role.getRules())).as(role.getMetadata().getName())
                    .isEqualTo(DOCUMENTED.get(roleOf.get(role.getMetadata().getName())));
        }
    }

    @Test
    void leaderElection_reachesOnlyLeasesInTheDriversNamespace() {
        Role role = Workloads.one(base, Role.class, "nfs-csi-leader-election");
        assertThat(role.getMetadata().getNamespace()).isEqualTo(Renders.NAMESPACE);
        assertThat(expand(role.getRules())).isEqualTo(LEADER_ELECTION);
        for (ClusterRole clusterRole : Workloads.all(base, ClusterRole.class)) {
            assertThat(expand(clusterRole.getRules())).as(clusterRole.getMetadata().getName())
                    .noneMatch(p -> p.group().equals("coordination.k8s.io"));
        }
        PodSpec pod = Workloads.controller(base);
        for (Container c : pod.getContainers()) {
            assertThat(Workloads.flag(c, "leader-election-namespace")).as("%s elects in its own namespace",
                    c.getName()).isEmpty();
        }
    }

    @Test
    void rules_nameNoWildcardNoSecretNoUrl_andNoSingleObject() {
        List<PolicyRule> rules = new ArrayList<>();
        Workloads.all(base, ClusterRole.class).forEach(r -> rules.addAll(r.getRules()));
        Workloads.all(base, Role.class).forEach(r -> rules.addAll(r.getRules()));
        assertThat(Workloads.all(base, ClusterRole.class)).allMatch(r -> r.getAggregationRule() == null);
        for (PolicyRule rule : rules) {
            assertThat(rule.getApiGroups()).doesNotContain("*");
            assertThat(rule.getResources()).doesNotContain("*", "secrets");
            assertThat(rule.getVerbs()).doesNotContain("*", "escalate", "bind", "impersonate");
            assertThat(rule.getNonResourceURLs()).isNullOrEmpty();
            assertThat(rule.getResourceNames()).isNullOrEmpty();
        }
    }

    @Test
    void nodeAccount_isBoundToNothing_andMountsNoToken() {
        assertThat(clusterPermissions(base, NODE_ACCOUNT)).isEmpty();
        assertThat(namespacedPermissions(base, NODE_ACCOUNT, Renders.NAMESPACE)).isEmpty();
        assertThat(Workloads.one(base, ServiceAccount.class, NODE_ACCOUNT).getAutomountServiceAccountToken())
                .isFalse();
        assertThat(Workloads.node(base).getServiceAccountName()).isEqualTo(NODE_ACCOUNT);
        for (Container c : Workloads.node(base).getContainers()) {
            if (c.getName().equals(Workloads.DRIVER)) {
                continue;
            }
            assertThat(DOCUMENTED).as("%s is a known image", c.getName()).containsKey(sidecar(c));
            assertThat(DOCUMENTED.get(sidecar(c))).as("%s needs the API", c.getName()).isEmpty();
        }
    }

    @Test
    void everyBinding_namesARoleAndAnAccountThatExist() {
        Set<String> accounts = new HashSet<>();
        Workloads.all(base, ServiceAccount.class).forEach(a -> accounts.add(a.getMetadata().getNamespace() + "/"
                + a.getMetadata().getName()));
        for (ClusterRoleBinding b : Workloads.all(base, ClusterRoleBinding.class)) {
            assertThat(b.getRoleRef().getKind()).isEqualTo("ClusterRole");
            Workloads.one(base, ClusterRole.class, b.getRoleRef().getName());
            assertSubjectsExist(b.getSubjects(), accounts);
        }
        for (RoleBinding b : Workloads.all(base, RoleBinding.class)) {
            assertThat(b.getRoleRef().getKind()).as("a RoleBinding of a ClusterRole grants it namespace-wide")
                    .isEqualTo("Role");
            Role role = Workloads.one(base, Role.class, b.getRoleRef().getName());
            assertThat(role.getMetadata().getNamespace()).isEqualTo(b.getMetadata().getNamespace());
            assertSubjectsExist(b.getSubjects(), accounts);
        }
    }

    /**
     * The driver's capabilities and the sidecars' flags switch off every feature whose rules {@link #OMITTED} leaves
     * out. A driver that gains topology, attach, or a group controller must get the rules back.
     */
    @Test
    void omittedRules_belongToFeaturesThisDeploymentDoesNotUse(@TempDir Path work) {
        IdentityService identity = new IdentityService("nfs.csi.io", "test", Optional::empty);
        Csi.GetPluginCapabilitiesResponse plugin = call(o -> identity.getPluginCapabilities(
                Csi.GetPluginCapabilitiesRequest.getDefaultInstance(), o));
        assertThat(plugin.getCapabilitiesList()).extracting(c -> c.getService().getType())
                .doesNotContain(Csi.PluginCapability.Service.Type.VOLUME_ACCESSIBILITY_CONSTRAINTS,
                        Csi.PluginCapability.Service.Type.GROUP_CONTROLLER_SERVICE);
        ControllerService controller = ControllerService.create(new ControllerSettings(work, new FakeMounter(),
                new BoundedIo(2), Clock.systemUTC(), OnDelete.DELETE, Duration.ofSeconds(5), Duration.ofMinutes(5),
                false, TestPools.walkers(2), Duration.ZERO, Duration.ofSeconds(10)));
        try {
            Csi.ControllerGetCapabilitiesResponse caps = call(o -> controller.controllerGetCapabilities(
                    Csi.ControllerGetCapabilitiesRequest.getDefaultInstance(), o));
            assertThat(caps.getCapabilitiesList()).extracting(c -> c.getRpc().getType())
                    .doesNotContain(Csi.ControllerServiceCapability.RPC.Type.PUBLISH_UNPUBLISH_VOLUME);
        } finally {
            controller.shutdown();
        }

        PodSpec pod = Workloads.controller(base);
        assertThat(Workloads.requiredFlag(container(pod, "csi-resizer"), "handle-volume-inuse-error"))
                .isEqualTo("false");
        for (Container c : pod.getContainers()) {
            assertThat(Workloads.flag(c, "enable-capacity")).as(c.getName()).isEmpty();
            assertThat(Workloads.flag(c, "feature-gates").orElse("")).as(c.getName())
                    .doesNotContain("CSIVolumeGroupSnapshot=true", "CrossNamespaceVolumeDataSource=true");
        }
        List<HasMetadata> examples = ExamplesTest.examples();
        for (StorageClass sc : Workloads.all(examples, StorageClass.class)) {
            assertThat(sc.getParameters().keySet()).as("StorageClass %s names no secret", sc.getMetadata()
                    .getName()).noneMatch(k -> k.startsWith("csi.storage.k8s.io/") && k.contains("secret"));
        }
        for (Permission p : OMITTED.keySet()) {
            assertThat(clusterPermissions(base, CONTROLLER_ACCOUNT)).as(OMITTED.get(p)).doesNotContain(p);
        }
    }

    // -- resolution of what an account may do

    static Set<Permission> documentedFor(PodSpec pod) {
        Set<Permission> expected = new TreeSet<>();
        for (Container c : pod.getContainers()) {
            if (!c.getName().equals(Workloads.DRIVER)) {
                assertThat(DOCUMENTED).as("documented RBAC of %s", c.getImage()).containsKey(sidecar(c));
                expected.addAll(DOCUMENTED.get(sidecar(c)));
            }
        }
        return expected;
    }

    static Set<Permission> clusterPermissions(List<HasMetadata> objects, String account) {
        Set<Permission> granted = new TreeSet<>();
        for (ClusterRoleBinding b : Workloads.all(objects, ClusterRoleBinding.class)) {
            if (binds(b.getSubjects(), account)) {
                granted.addAll(expand(Workloads.one(objects, ClusterRole.class, b.getRoleRef().getName())
                        .getRules()));
            }
        }
        return granted;
    }

    static Set<Permission> namespacedPermissions(List<HasMetadata> objects, String account, String namespace) {
        Set<Permission> granted = new TreeSet<>();
        for (RoleBinding b : Workloads.all(objects, RoleBinding.class)) {
            if (b.getMetadata().getNamespace().equals(namespace) && binds(b.getSubjects(), account)) {
                granted.addAll(expand(Workloads.one(objects, Role.class, b.getRoleRef().getName()).getRules()));
            }
        }
        return granted;
    }

    static Set<Permission> expand(List<PolicyRule> rules) {
        Set<Permission> out = new TreeSet<>();
        for (PolicyRule rule : rules) {
            for (String g : rule.getApiGroups()) {
                for (String r : rule.getResources()) {
                    for (String v : rule.getVerbs()) {
                        out.add(new Permission(g, r, v));
                    }
                }
            }
        }
        return out;
    }

    private static boolean binds(List<Subject> subjects, String account) {
        return subjects.stream().anyMatch(s -> s.getKind().equals("ServiceAccount") && s.getName().equals(account)
                && Renders.NAMESPACE.equals(s.getNamespace()));
    }

    private static void assertSubjectsExist(List<Subject> subjects, Set<String> accounts) {
        for (Subject s : subjects) {
            assertThat(s.getKind()).isEqualTo("ServiceAccount");
            assertThat(accounts).contains(s.getNamespace() + "/" + s.getName());
        }
    }

    private static String sidecar(Container c) {
        return Workloads.imageName(c);
    }

    private static Set<Permission> permissions(String... groupResourceVerbs) {
        Set<Permission> out = new LinkedHashSet<>();
        for (int i = 0; i < groupResourceVerbs.length; i += 3) {
            for (String verb : groupResourceVerbs[i + 2].split(",")) {
                out.add(new Permission(groupResourceVerbs[i], groupResourceVerbs[i + 1], verb));
            }
        }
        return new TreeSet<>(out);
    }

    private static Map.Entry<Permission, String> omitted(String group, String resource, String verb, String why) {
        return Map.entry(new Permission(group, resource, verb), why);
    }

    private interface Call<T> {
        void run(StreamObserver<T> observer);
    }

    private static <T> T call(Call<T> call) {
        List<T> values = new ArrayList<>();
        call.run(new StreamObserver<>() {
            @Override
            public void onNext(T value) {
                values.add(value);
            }

            @Override
            public void onError(Throwable t) {
                throw new AssertionError(t);
            }

            @Override
            public void onCompleted() {
            }
        });
        assertThat(values).hasSize(1);
        return values.getFirst();
    }
}
