package io.nfscsi.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBinding;
import io.fabric8.kubernetes.api.model.rbac.PolicyRule;
import io.fabric8.kubernetes.api.model.rbac.PolicyRuleBuilder;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import io.fabric8.kubernetes.api.model.rbac.Subject;
import io.fabric8.kubernetes.api.model.storage.StorageClass;
import io.fabric8.volumesnapshot.api.model.VolumeSnapshotClass;
import io.grpc.stub.StreamObserver;
import io.nfscsi.concurrent.BoundedIo;
import io.nfscsi.controller.ControllerService;
import io.nfscsi.controller.ControllerSettings;
import io.nfscsi.csi.v1.Csi;
import io.nfscsi.identity.IdentityService;
import io.nfscsi.testing.FakeMounter;
import io.nfscsi.testing.TestPools;
import io.nfscsi.volume.OnDelete;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Predicate;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Least privilege, compared with facts. {@code upstream-rbac.txt} (a test resource) lists the rules that each
 * sidecar's own repository ships at the tag the manifests use, with the file each comes from, and marks each rule
 * "always" or with the feature that needs it. For a render, the features are read from the render itself (the
 * sidecars' flags and feature gates, the StorageClasses and VolumeSnapshotClasses, with those of deploy/examples)
 * and from the driver's own capabilities; an overlay may declare one its objects cannot show. The controller's account must then hold every rule that a sidecar in its pod needs (a rule missing
 * breaks provisioning, resizing or snapshots, or makes an informer fail in a loop), and nothing beyond the rules
 * that the sidecars in its pod need (a rule more is a privilege nobody uses). The driver container itself calls no
 * API, so it adds no rule of its own.
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

    /** One row of upstream-rbac.txt, one verb. {@code namespaced}: a Role upstream, not a ClusterRole. */
    record UpstreamRule(String sidecar, String tag, boolean namespaced, Permission permission, String neededWhen) {
    }

    /** What a render grants an account: cluster-wide, and in the driver's namespace. */
    record Grants(Set<Permission> cluster, Set<Permission> namespaced) {
    }

    /** The features upstream-rbac.txt may name, besides "always". */
    static final Set<String> FEATURES = Set.of("leader-election", "secrets", "topology", "attach", "capacity",
            "cross-namespace-sources", "volume-attributes-class", "volume-in-use-check", "group-snapshots");

    /** Sidecars that call no Kubernetes API: no rbac file upstream, no rows in the table. */
    static final Set<String> NO_API = Set.of("livenessprobe", "csi-node-driver-registrar");

    static final List<UpstreamRule> UPSTREAM = loadUpstream();

    static final String CONTROLLER_ACCOUNT = "nfs-csi-controller";
    static final String NODE_ACCOUNT = "nfs-csi-node";

    static List<HasMetadata> base;
    static Set<Csi.PluginCapability.Service.Type> pluginCapabilities;
    static Set<Csi.ControllerServiceCapability.RPC.Type> controllerCapabilities;

    @BeforeAll
    static void render(@TempDir Path work) {
        base = Renders.kustomize(Renders.BASE);
        IdentityService identity = new IdentityService("nfs.csi.io", "test", Optional::empty);
        pluginCapabilities = new HashSet<>();
        Csi.GetPluginCapabilitiesResponse plugin = call(o -> identity.getPluginCapabilities(
                Csi.GetPluginCapabilitiesRequest.getDefaultInstance(), o));
        plugin.getCapabilitiesList().forEach(c -> pluginCapabilities.add(c.getService().getType()));
        ControllerService controller = ControllerService.create(new ControllerSettings(work, new FakeMounter(),
                new BoundedIo(2), Clock.systemUTC(), OnDelete.DELETE, Duration.ofSeconds(5), Duration.ofMinutes(5),
                false, TestPools.walkers(2), Duration.ZERO, Duration.ofSeconds(10)));
        try {
            controllerCapabilities = new HashSet<>();
            Csi.ControllerGetCapabilitiesResponse caps = call(o -> controller.controllerGetCapabilities(
                    Csi.ControllerGetCapabilitiesRequest.getDefaultInstance(), o));
            caps.getCapabilitiesList().forEach(c -> controllerCapabilities.add(c.getRpc().getType()));
        } finally {
            controller.shutdown();
        }
    }

    @Test
    void upstreamTable_coversEverySidecarAtTheTagTheManifestsUse() {
        List<PodSpec> pods = new ArrayList<>(Workloads.pods(base));
        pods.add(Workloads.controller(Renders.kustomize(Renders.OVERLAYS.resolve("health-monitor"))));
        for (PodSpec pod : pods) {
            for (Container c : pod.getContainers()) {
                if (c.getName().equals(Workloads.DRIVER)) {
                    continue;
                }
                String sidecar = Workloads.imageName(c);
                String tag = c.getImage().substring(c.getImage().lastIndexOf(':') + 1);
                if (NO_API.contains(sidecar)) {
                    assertThat(UPSTREAM).as("%s calls no API", sidecar).noneMatch(r -> r.sidecar().equals(sidecar));
                } else {
                    assertThat(UPSTREAM).as("rules of %s", sidecar).anyMatch(r -> r.sidecar().equals(sidecar));
                    assertThat(UPSTREAM).as("%s rules are those of the tag the manifests use", sidecar)
                            .filteredOn(r -> r.sidecar().equals(sidecar)).allMatch(r -> r.tag().equals(tag));
                }
            }
        }
        assertThat(UPSTREAM).extracting(UpstreamRule::neededWhen)
                .allMatch(w -> w.equals("always") || FEATURES.contains(w));
    }

    @Test
    void base_grantsWhatItsSidecarsNeed_andNothingMore() {
        assertGrantsFit(base, Set.of());
    }

    @Test
    void overlays_grantWhatTheirSidecarsNeed_andNothingMore() {
        assertGrantsFit(Renders.kustomize(Renders.OVERLAYS.resolve("no-snapshots")), Set.of());
        assertGrantsFit(Renders.kustomize(Renders.OVERLAYS.resolve("inline-volumes")), Set.of());
        assertGrantsFit(Renders.kustomize(Renders.OVERLAYS.resolve("health-monitor")), Set.of());
        assertGrantsFit(Renders.kustomize(Renders.OVERLAYS.resolve("prometheus-servicemonitor")), Set.of());
        assertGrantsFit(Renders.kustomize(Renders.OVERLAYS.resolve("prometheus-podmonitor")), Set.of());
        assertGrantsFit(Renders.kustomize(Renders.OVERLAYS.resolve("json-logs")), Set.of());
    }

    @Test
    void chart_grantsWhatItsSidecarsNeed_andNothingMore() {
        assertGrantsFit(Renders.helm(Map.of()), Set.of());
        assertGrantsFit(Renders.helm(Map.of("features.snapshots", "false")), Set.of());
        assertGrantsFit(Renders.helm(Map.of("features.healthMonitor", "true")), Set.of());
        assertGrantsFit(Renders.helm(Map.of("features.healthMonitor", "true", "features.snapshots", "false")),
                Set.of());
    }

    /**
     * features.volumeAttributesClass turns both sidecars' gates on, with their rules, only where the cluster serves
     * storage.k8s.io/v1 VolumeAttributesClasses (Kubernetes 1.34): below that, as csi-provisioner v6 requires, the
     * gates are off and the rules gone; false turns them off everywhere. Each render grants exactly what it needs.
     */
    @Test
    void chart_volumeAttributesClass_onFrom134_offBelowAndWhenFalse_grantsFitEach() {
        record Case(String kube, Map<String, String> set, boolean on) { }
        for (Case c : List.of(new Case("v1.34.0", Map.of(), true), new Case("v1.35.2", Map.of(), true),
                new Case("v1.33.5", Map.of(), false), new Case(Renders.LOWEST_KUBE_VERSION, Map.of(), false),
                new Case("v1.34.0", Map.of("features.volumeAttributesClass", "false"), false))) {
            List<HasMetadata> all = KubeYaml.parseAll(Renders.helmYaml(c.set(), null, c.kube()));
            var pod = Workloads.controller(all);
            for (String sidecar : List.of("csi-provisioner", "csi-resizer")) {
                assertThat(gate(Workloads.container(pod, sidecar), "VolumeAttributesClass")).as(c + " " + sidecar)
                        .contains(c.on());
            }
            boolean anyRule = all.stream().filter(ClusterRole.class::isInstance).map(ClusterRole.class::cast)
                    .flatMap(r -> r.getRules().stream())
                    .anyMatch(r -> r.getResources().contains("volumeattributesclasses"));
            assertThat(anyRule).as(c.toString()).isEqualTo(c.on());
            assertGrantsFit(all, Set.of());
        }
    }

    /**
     * csi-external-health-monitor-controller exits unless the driver has a controller service with
     * VOLUME_CONDITION and LIST_VOLUMES or GET_VOLUME (its cmd/csi-external-health-monitor-controller/main.go);
     * with LIST_VOLUMES it checks every volume with one ListVolumes call per --list-volumes-interval.
     */
    @Test
    void driver_hasTheCapabilitiesTheHealthMonitorNeeds() {
        assertThat(pluginCapabilities).contains(Csi.PluginCapability.Service.Type.CONTROLLER_SERVICE);
        assertThat(controllerCapabilities).contains(Csi.ControllerServiceCapability.RPC.Type.VOLUME_CONDITION,
                Csi.ControllerServiceCapability.RPC.Type.LIST_VOLUMES,
                Csi.ControllerServiceCapability.RPC.Type.GET_VOLUME);
    }

    /**
     * The migration overlay's Secret rule is the upstream `secrets` rule of csi-provisioner and csi-snapshotter, cut to
     * `get`: right when csi-driver-nfs's classes name Secrets, a privilege too many otherwise.
     */
    @Test
    void migrationOverlay_grantsGetOnSecrets_forTheClassesThatNameThem() {
        List<HasMetadata> overlay = Renders.kustomize(Renders.OVERLAYS.resolve("migrate-from-csi-driver-nfs"));
        assertGrantsFit(overlay, Set.of("secrets"));
        assertThat(grants(overlay, CONTROLLER_ACCOUNT).cluster()).contains(new Permission("", "secrets", "get"))
                .doesNotContain(new Permission("", "secrets", "list"), new Permission("", "secrets", "watch"));
        assertThatThrownBy(() -> assertGrantsFit(overlay, Set.of())).hasMessageContaining("core/secrets:get");
    }

    /**
     * The features whose rules the base leaves out are off in the base, and these are all the features the table
     * knows except leader election: a feature turned on (a driver that gains topology, attach or a group controller;
     * a sidecar flag) makes {@link #base_grantsWhatItsSidecarsNeed_andNothingMore} ask for its rules.
     */
    @Test
    void base_turnsOffEveryFeatureWhoseRulesItLeavesOut() {
        PodSpec pod = Workloads.controller(base);
        Set<String> on = new TreeSet<>();
        Set<String> decided = new TreeSet<>();
        for (Container c : pod.getContainers()) {
            for (UpstreamRule r : UPSTREAM) {
                if (r.sidecar().equals(Workloads.imageName(c)) && !r.neededWhen().equals("always")) {
                    decided.add(r.neededWhen());
                    if (featureOn(r.neededWhen(), c, base, Set.of())) {
                        on.add(r.neededWhen());
                    }
                }
            }
        }
        assertThat(decided).as("every feature of the table is decided for the base").isEqualTo(FEATURES);
        assertThat(on).containsExactly("leader-election", "volume-attributes-class");
        assertThat(pluginCapabilities).doesNotContain(
                Csi.PluginCapability.Service.Type.VOLUME_ACCESSIBILITY_CONSTRAINTS,
                Csi.PluginCapability.Service.Type.GROUP_CONTROLLER_SERVICE);
        assertThat(controllerCapabilities).doesNotContain(Csi.ControllerServiceCapability.RPC.Type
                .PUBLISH_UNPUBLISH_VOLUME);
        assertThat(controllerCapabilities).as("csi-resizer modifies volumes only with this")
                .contains(Csi.ControllerServiceCapability.RPC.Type.MODIFY_VOLUME);
        assertThat(controllerCapabilities).as("the provisioner's snapshot finalizer sweep runs only with this")
                .contains(Csi.ControllerServiceCapability.RPC.Type.CREATE_DELETE_SNAPSHOT);
        for (String sidecar : List.of("csi-provisioner", "csi-resizer")) {
            assertThat(gate(Workloads.container(pod, sidecar), "VolumeAttributesClass")).as(sidecar)
                    .contains(true);
        }
    }

    /** The check fails where it should: the rules that issue 10 found missing or unused. */
    @Test
    void check_refusesAMissingWatch_andAnUnusedRule() {
        List<HasMetadata> missingWatch = Renders.kustomize(Renders.BASE);
        PolicyRule snapshots = Workloads.one(missingWatch, ClusterRole.class, "nfs-csi-external-provisioner")
                .getRules().stream().filter(r -> r.getResources().contains("volumesnapshots")).findFirst()
                .orElseThrow();
        snapshots.setVerbs(List.of("get", "list"));
        assertThatThrownBy(() -> assertGrantsFit(missingWatch, Set.of()))
                .hasMessageContaining("snapshot.storage.k8s.io/volumesnapshots:watch");

        List<HasMetadata> noClassRule = Renders.kustomize(Renders.BASE);
        ClusterRole resizerRole = Workloads.one(noClassRule, ClusterRole.class, "nfs-csi-external-resizer");
        resizerRole.setRules(resizerRole.getRules().stream()
                .filter(r -> !r.getResources().contains("volumeattributesclasses")).toList());
        assertThatThrownBy(() -> assertGrantsFit(noClassRule, Set.of()))
                .hasMessageContaining("storage.k8s.io/volumeattributesclasses:watch");

        List<HasMetadata> gateOff = Renders.kustomize(Renders.BASE);
        for (String sidecar : List.of("csi-provisioner", "csi-resizer")) {
            Container c = Workloads.container(Workloads.controller(gateOff), sidecar);
            c.setArgs(c.getArgs().stream().map(a -> a.replace("VolumeAttributesClass=true",
                    "VolumeAttributesClass=false")).toList());
        }
        assertThatThrownBy(() -> assertGrantsFit(gateOff, Set.of()))
                .hasMessageContaining("storage.k8s.io/volumeattributesclasses:get");

        List<HasMetadata> extra = Renders.kustomize(Renders.BASE);
        ClusterRole resizer = Workloads.one(extra, ClusterRole.class, "nfs-csi-external-resizer");
        List<PolicyRule> rules = new ArrayList<>(resizer.getRules());
        rules.add(new PolicyRuleBuilder().withApiGroups("storage.k8s.io").withResources("volumeattributesclasses")
                .withVerbs("update").build());
        resizer.setRules(rules);
        assertThatThrownBy(() -> assertGrantsFit(extra, Set.of()))
                .hasMessageContaining("storage.k8s.io/volumeattributesclasses:update");
    }

    @Test
    void eachClusterRole_holdsOnlyItsOwnSidecarsRules() {
        Map<String, String> roleOf = Map.of(
                "nfs-csi-external-provisioner", "csi-provisioner",
                "nfs-csi-external-resizer", "csi-resizer",
                "nfs-csi-external-snapshotter", "csi-snapshotter");
        assertEachRoleIsItsSidecars(base, roleOf);
        Map<String, String> withHealthMonitor = new HashMap<>(roleOf);
        withHealthMonitor.put("nfs-csi-external-health-monitor-controller", HealthMonitorTest.SIDECAR);
        assertEachRoleIsItsSidecars(Renders.kustomize(Renders.OVERLAYS.resolve("health-monitor")), withHealthMonitor);
        assertEachRoleIsItsSidecars(Renders.helm(Map.of("features.healthMonitor", "true")), withHealthMonitor);
    }

    private static void assertEachRoleIsItsSidecars(List<HasMetadata> objects, Map<String, String> roleOf) {
        List<ClusterRole> roles = Workloads.all(objects, ClusterRole.class);
        assertThat(roles).extracting(r -> r.getMetadata().getName())
                .containsExactlyInAnyOrderElementsOf(roleOf.keySet());
        PodSpec pod = Workloads.controller(objects);
        for (ClusterRole role : roles) {
            String sidecar = roleOf.get(role.getMetadata().getName());
            Container c = pod.getContainers().stream().filter(x -> Workloads.imageName(x).equals(sidecar))
                    .findFirst().orElseThrow();
            Set<Permission> needed = new TreeSet<>();
            UPSTREAM.stream().filter(r -> r.sidecar().equals(sidecar) && !r.namespaced()
                    && needed(r, c, objects, Set.of())).forEach(r -> needed.add(r.permission()));
            assertThat(expand(role.getRules())).as(role.getMetadata().getName()).isEqualTo(needed);
        }
    }

    @Test
    void leaderElection_reachesOnlyLeasesInTheDriversNamespace() {
        Role role = Workloads.one(base, Role.class, "nfs-csi-leader-election");
        assertThat(role.getMetadata().getNamespace()).isEqualTo(Renders.NAMESPACE);
        assertThat(expand(role.getRules())).extracting(Permission::resource).containsOnly("leases");
        for (ClusterRole clusterRole : Workloads.all(base, ClusterRole.class)) {
            assertThat(expand(clusterRole.getRules())).as(clusterRole.getMetadata().getName())
                    .noneMatch(p -> p.group().equals("coordination.k8s.io"));
        }
        for (Container c : Workloads.controller(base).getContainers()) {
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
        assertThat(grants(base, NODE_ACCOUNT).cluster()).isEmpty();
        assertThat(grants(base, NODE_ACCOUNT).namespaced()).isEmpty();
        assertThat(Workloads.one(base, ServiceAccount.class, NODE_ACCOUNT).getAutomountServiceAccountToken())
                .isFalse();
        assertThat(Workloads.node(base).getServiceAccountName()).isEqualTo(NODE_ACCOUNT);
        for (Container c : Workloads.node(base).getContainers()) {
            if (!c.getName().equals(Workloads.DRIVER)) {
                assertThat(NO_API).as("%s calls no API", c.getName()).contains(Workloads.imageName(c));
            }
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

    // -- the comparison

    /**
     * The controller's account in {@code objects} holds every rule its sidecars need, in the scope upstream grants
     * it (a Role's rule in the namespace, a ClusterRole's cluster-wide), and nothing that none of them needs. A rule
     * that upstream grants cluster-wide may be granted in the namespace only (narrower). {@code declared}: features
     * that the render turns on without showing it in its own objects (an overlay for StorageClasses that exist
     * already).
     */
    static void assertGrantsFit(List<HasMetadata> objects, Set<String> declared) {
        PodSpec pod = Workloads.controller(objects);
        Set<Permission> neededCluster = new TreeSet<>();
        Set<Permission> neededNamespaced = new TreeSet<>();
        Set<Permission> requiredCluster = new TreeSet<>();
        Set<Permission> requiredNamespaced = new TreeSet<>();
        for (Container c : pod.getContainers()) {
            if (c.getName().equals(Workloads.DRIVER) || NO_API.contains(Workloads.imageName(c))) {
                continue;
            }
            assertThat(UPSTREAM).as("upstream rules of %s", c.getImage())
                    .anyMatch(r -> r.sidecar().equals(Workloads.imageName(c)));
            for (UpstreamRule r : UPSTREAM) {
                if (!r.sidecar().equals(Workloads.imageName(c)) || !needed(r, c, objects, declared)) {
                    continue;
                }
                (r.namespaced() ? neededNamespaced : neededCluster).add(r.permission());
                // a sidecar reads a secret that a class names with one get; upstream's rule also grants list
                if (!r.neededWhen().equals("secrets") || r.permission().verb().equals("get")) {
                    (r.namespaced() ? requiredNamespaced : requiredCluster).add(r.permission());
                }
            }
        }
        Grants granted = grants(objects, CONTROLLER_ACCOUNT);
        Set<Permission> missing = new TreeSet<>(requiredCluster);
        missing.removeAll(granted.cluster());
        missing.removeIf(p -> p.resource().equals("secrets") && granted.namespaced().contains(p));
        assertThat(missing).as("cluster-wide rules the sidecars need").isEmpty();
        Set<Permission> missingNamespaced = new TreeSet<>(requiredNamespaced);
        missingNamespaced.removeAll(granted.namespaced());
        assertThat(missingNamespaced).as("rules in %s the sidecars need", Renders.NAMESPACE).isEmpty();
        Set<Permission> extra = new TreeSet<>(granted.cluster());
        extra.removeAll(neededCluster);
        assertThat(extra).as("cluster-wide rules no sidecar in the pod needs").isEmpty();
        Set<Permission> extraNamespaced = new TreeSet<>(granted.namespaced());
        extraNamespaced.removeAll(neededNamespaced);
        extraNamespaced.removeAll(neededCluster);
        assertThat(extraNamespaced).as("rules in %s no sidecar in the pod needs", Renders.NAMESPACE).isEmpty();
    }

    static boolean needed(UpstreamRule rule, Container c, List<HasMetadata> objects, Set<String> declared) {
        return rule.neededWhen().equals("always") || featureOn(rule.neededWhen(), c, objects, declared);
    }

    /** Whether the render turns the feature on for this sidecar. */
    static boolean featureOn(String feature, Container c, List<HasMetadata> objects, Set<String> declared) {
        if (declared.contains(feature)) {
            return true;
        }
        return switch (feature) {
            case "leader-election" -> Workloads.switchedOn(c, "leader-election");
            case "secrets" -> namesASecret(objects);
            case "topology" -> pluginCapabilities.contains(
                    Csi.PluginCapability.Service.Type.VOLUME_ACCESSIBILITY_CONSTRAINTS);
            case "attach" -> controllerCapabilities.contains(
                    Csi.ControllerServiceCapability.RPC.Type.PUBLISH_UNPUBLISH_VOLUME);
            case "capacity" -> Workloads.switchedOn(c, "enable-capacity");
            case "cross-namespace-sources" -> gate(c, "CrossNamespaceVolumeDataSource").orElse(false);
            // GA in csi-provisioner v6.3.0 and csi-resizer v2.2.1: on unless the flag turns it off
            case "volume-attributes-class" -> gate(c, "VolumeAttributesClass").orElse(true);
            case "volume-in-use-check" -> !Workloads.flag(c, "handle-volume-inuse-error").orElse("true")
                    .equals("false");
            case "group-snapshots" -> gate(c, "CSIVolumeGroupSnapshot").orElse(false);
            default -> throw new AssertionError("unknown feature " + feature);
        };
    }

    /** The value a sidecar's --feature-gates flags (any number of them, the last one wins) give a gate. */
    static Optional<Boolean> gate(Container c, String name) {
        Boolean value = null;
        for (String arg : Workloads.args(c)) {
            String bare = arg.replaceFirst("^--?", "");
            if (bare.startsWith("feature-gates=")) {
                for (String pair : bare.substring("feature-gates=".length()).split(",")) {
                    String[] kv = pair.split("=", 2);
                    if (kv[0].trim().equals(name)) {
                        value = Boolean.parseBoolean(kv.length > 1 ? kv[1].trim() : "true");
                    }
                }
            }
        }
        return Optional.ofNullable(value);
    }

    /** A StorageClass or VolumeSnapshotClass in the render or in the examples names a secret for the sidecars. */
    static boolean namesASecret(List<HasMetadata> objects) {
        List<HasMetadata> all = new ArrayList<>(objects);
        all.addAll(ExamplesTest.examples());
        Predicate<Map<String, String>> secret = params -> params != null && params.keySet().stream()
                .anyMatch(k -> k.startsWith("csi.storage.k8s.io/") && k.contains("secret"));
        return Workloads.all(all, StorageClass.class).stream().anyMatch(sc -> secret.test(sc.getParameters()))
                || Workloads.all(all, VolumeSnapshotClass.class).stream()
                        .anyMatch(vsc -> secret.test(vsc.getParameters()));
    }

    static Grants grants(List<HasMetadata> objects, String account) {
        Set<Permission> cluster = new TreeSet<>();
        for (ClusterRoleBinding b : Workloads.all(objects, ClusterRoleBinding.class)) {
            if (binds(b.getSubjects(), account)) {
                cluster.addAll(expand(Workloads.one(objects, ClusterRole.class, b.getRoleRef().getName())
                        .getRules()));
            }
        }
        Set<Permission> namespaced = new TreeSet<>();
        for (RoleBinding b : Workloads.all(objects, RoleBinding.class)) {
            if (b.getMetadata().getNamespace().equals(Renders.NAMESPACE) && binds(b.getSubjects(), account)) {
                List<PolicyRule> rules = b.getRoleRef().getKind().equals("Role")
                        ? Workloads.one(objects, Role.class, b.getRoleRef().getName()).getRules()
                        : Workloads.one(objects, ClusterRole.class, b.getRoleRef().getName()).getRules();
                namespaced.addAll(expand(rules));
            }
        }
        return new Grants(cluster, namespaced);
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

    /** Reads upstream-rbac.txt: one {@link UpstreamRule} per verb. */
    static List<UpstreamRule> loadUpstream() {
        String text;
        try (InputStream in = Objects.requireNonNull(RbacTest.class.getResourceAsStream("upstream-rbac.txt"),
                "upstream-rbac.txt")) {
            text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        List<UpstreamRule> rules = new ArrayList<>();
        Map<String, Integer> lineOf = new HashMap<>();
        int n = 0;
        for (String line : text.split("\n")) {
            n++;
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            String[] f = line.split("\\|");
            if (f.length != 7) {
                throw new IllegalStateException("upstream-rbac.txt:" + n + ": 7 columns expected: " + line);
            }
            String scope = f[2].trim();
            if (!scope.equals("cluster") && !scope.equals("namespace")) {
                throw new IllegalStateException("upstream-rbac.txt:" + n + ": scope " + scope);
            }
            String group = f[3].trim().equals("core") ? "" : f[3].trim();
            for (String verb : f[5].trim().split(",")) {
                UpstreamRule rule = new UpstreamRule(f[0].trim(), f[1].trim(), scope.equals("namespace"),
                        new Permission(group, f[4].trim(), verb.trim()), f[6].trim());
                Integer before = lineOf.put(rule.sidecar() + " " + rule.permission(), n);
                if (before != null) {
                    throw new IllegalStateException("upstream-rbac.txt:" + n + ": " + rule.permission()
                            + " again (line " + before + ")");
                }
                rules.add(rule);
            }
        }
        return List.copyOf(rules);
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
