package io.nfscsi.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.PersistentVolume;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.TypedLocalObjectReference;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.storage.StorageClass;
import io.fabric8.kubernetes.api.model.storage.VolumeAttributesClass;
import io.fabric8.volumesnapshot.api.model.VolumeSnapshot;
import io.fabric8.volumesnapshot.api.model.VolumeSnapshotClass;
import io.nfscsi.volume.MutableParameters;
import io.nfscsi.volume.OnDelete;
import io.nfscsi.volume.VolumeContext;
import io.nfscsi.volume.VolumeParameters;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The examples in deploy/examples: strictly valid v1 objects that name this driver, whose references to one another
 * resolve, and whose volume attributes and StorageClass parameters pass the driver's own validation.
 */
class ExamplesTest {

    static final String DRIVER_NAME = KustomizeBaseTest.DRIVER_NAME;
    static final Set<String> SNAPSHOT_CLASS_KEYS = Set.of("server", "share", "mountoptions", "compression");

    /** Every object of every example file. */
    static List<HasMetadata> examples() {
        List<HasMetadata> all = new ArrayList<>();
        for (Path file : exampleFiles()) {
            try {
                all.addAll(KubeYaml.parseAll(Files.readString(file)));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            } catch (IllegalArgumentException e) {
                throw new AssertionError(file + ": " + e.getMessage(), e);
            }
        }
        return all;
    }

    static List<Path> exampleFiles() {
        try (Stream<Path> files = Files.list(Renders.EXAMPLES)) {
            return files.filter(f -> f.toString().endsWith(".yaml")).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Test
    void everyExample_isStrictlyValid_inV1Apis() {
        assertThat(exampleFiles()).extracting(f -> f.getFileName().toString()).containsExactly(
                "clone.yaml", "dynamic-volume.yaml", "nfs-server.yaml", "restore.yaml", "snapshot.yaml",
                "static-volume.yaml", "storageclass.yaml", "volumeattributesclass.yaml");
        List<HasMetadata> all = examples();
        assertThat(all).allSatisfy(o -> assertThat(o.getApiVersion()).matches("(.+/)?v1"));
        assertThat(all).extracting(KubeYaml::id).doesNotHaveDuplicates();
    }

    @Test
    void examples_nameTheDriverOfTheBase() {
        List<HasMetadata> all = examples();
        assertThat(Workloads.all(all, PersistentVolume.class)).isNotEmpty()
                .allSatisfy(pv -> assertThat(pv.getSpec().getCsi().getDriver()).isEqualTo(DRIVER_NAME));
        assertThat(Workloads.all(all, StorageClass.class)).isNotEmpty()
                .allSatisfy(sc -> assertThat(sc.getProvisioner()).isEqualTo(DRIVER_NAME));
        assertThat(Workloads.all(all, VolumeSnapshotClass.class)).isNotEmpty()
                .allSatisfy(vsc -> assertThat(vsc.getDriver()).isEqualTo(DRIVER_NAME));
        assertThat(Renders.kustomize(Renders.BASE)).extracting(KubeYaml::id).contains("CSIDriver " + DRIVER_NAME);
    }

    @Test
    void staticVolume_isTheWalkthrough_nginxReadingTheShareAtVarWww() {
        List<HasMetadata> all = examples();
        PersistentVolume pv = Workloads.one(all, PersistentVolume.class, "data-nfsplugin");
        Map<String, String> attributes = pv.getSpec().getCsi().getVolumeAttributes();
        assertThat(attributes).containsKeys("server", "share");
        VolumeContext context = VolumeContext.parse(attributes);
        assertThat(context.source().server()).isEqualTo(attributes.get("server"));
        assertThat(pv.getSpec().getPersistentVolumeReclaimPolicy()).isEqualTo("Retain");

        PersistentVolumeClaim claim = Workloads.one(all, PersistentVolumeClaim.class, "data-nfsplugin");
        assertThat(claim.getSpec().getVolumeName()).isEqualTo(pv.getMetadata().getName());
        assertThat(claim.getSpec().getStorageClassName()).as("no provisioning for a static volume").isEmpty();
        assertThat(pv.getSpec().getStorageClassName()).isEmpty();

        Pod nginx = Workloads.one(all, Pod.class, "nginx-static");
        Container container = nginx.getSpec().getContainers().getFirst();
        assertThat(container.getImage()).startsWith("nginx:");
        String volume = container.getVolumeMounts().stream().filter(m -> m.getMountPath().equals("/var/www"))
                .findFirst().orElseThrow().getName();
        assertThat(nginx.getSpec().getVolumes()).filteredOn(v -> v.getName().equals(volume))
                .extracting(v -> v.getPersistentVolumeClaim().getClaimName()).containsExactly("data-nfsplugin");
    }

    @Test
    void storageClass_usesTemplatesAndOnDelete_thatTheDriverAccepts() {
        StorageClass sc = Workloads.one(examples(), StorageClass.class, "nfs");
        Map<String, String> parameters = sc.getParameters();
        assertThat(parameters.get("subDir")).contains("${pvc.metadata.namespace}", "${pvc.metadata.name}");
        assertThat(parameters).containsKey("onDelete");
        // what csi-provisioner --extra-create-metadata adds to the StorageClass's parameters
        Map<String, String> request = new HashMap<>(parameters);
        request.put(VolumeParameters.PVC_NAME_KEY, "data");
        request.put(VolumeParameters.PVC_NAMESPACE_KEY, "default");
        request.put(VolumeParameters.PV_NAME_KEY, "pvc-1234");
        VolumeParameters parsed = VolumeParameters.parse(request, "pvc-1234", OnDelete.DELETE);
        assertThat(parsed.subDir()).isEqualTo("default/data");
        assertThat(parsed.onDelete()).isEqualTo(OnDelete.ARCHIVE);
        assertThat(sc.getAllowVolumeExpansion()).isTrue();
    }

    /** Its parameters pass the driver's own check of mutable_parameters, and change what the StorageClass set. */
    @Test
    void volumeAttributesClass_namesTheDriver_andParametersTheDriverAccepts() {
        List<HasMetadata> all = examples();
        VolumeAttributesClass vac = Workloads.one(all, VolumeAttributesClass.class, "nfs-strict");
        assertThat(vac.getDriverName()).isEqualTo(DRIVER_NAME);
        MutableParameters parsed = MutableParameters.parse("mutable_parameters", vac.getParameters());
        StorageClass sc = Workloads.one(all, StorageClass.class, "nfs");
        assertThat(parsed.onDelete()).isPresent().get().isNotEqualTo(OnDelete.parse("onDelete",
                sc.getParameters().get("onDelete")));
        assertThat(parsed.mountOptions()).isPresent();
        assertThat(parsed.mountOptions().get()).isNotEqualTo(sc.getMountOptions());
        assertThat(parsed.mountPermissions()).isPresent();
    }

    @Test
    void snapshotClass_parameters_areOnesTheDriverKnows() {
        for (VolumeSnapshotClass vsc : Workloads.all(examples(), VolumeSnapshotClass.class)) {
            for (String key : vsc.getParameters().keySet()) {
                assertThat(key.toLowerCase(java.util.Locale.ROOT)).as(vsc.getMetadata().getName())
                        .satisfiesAnyOf(k -> assertThat(SNAPSHOT_CLASS_KEYS).contains(k),
                                k -> assertThat(k).startsWith("csi.storage.k8s.io/"));
            }
        }
    }

    @Test
    void references_resolve_withinTheExamples() {
        List<HasMetadata> all = examples();
        Set<String> classes = names(Workloads.all(all, StorageClass.class));
        Set<String> claims = names(Workloads.all(all, PersistentVolumeClaim.class));
        Set<String> snapshots = names(Workloads.all(all, VolumeSnapshot.class));
        Set<String> snapshotClasses = names(Workloads.all(all, VolumeSnapshotClass.class));
        for (PersistentVolumeClaim pvc : Workloads.all(all, PersistentVolumeClaim.class)) {
            String sc = pvc.getSpec().getStorageClassName();
            assertThat(sc.isEmpty() || classes.contains(sc)).as("class of %s", pvc.getMetadata().getName()).isTrue();
            TypedLocalObjectReference source = pvc.getSpec().getDataSource();
            if (source != null) {
                if (source.getKind().equals("VolumeSnapshot")) {
                    assertThat(source.getApiGroup()).isEqualTo("snapshot.storage.k8s.io");
                    assertThat(snapshots).contains(source.getName());
                } else {
                    assertThat(source.getKind()).isEqualTo("PersistentVolumeClaim");
                    assertThat(claims).contains(source.getName());
                }
            }
        }
        assertThat(Workloads.all(all, PersistentVolumeClaim.class)).extracting(c -> c.getSpec().getDataSource())
                .extracting(s -> s == null ? "none" : s.getKind())
                .contains("VolumeSnapshot", "PersistentVolumeClaim");
        for (VolumeSnapshot snap : Workloads.all(all, VolumeSnapshot.class)) {
            assertThat(snapshotClasses).contains(snap.getSpec().getVolumeSnapshotClassName());
            assertThat(claims).contains(snap.getSpec().getSource().getPersistentVolumeClaimName());
        }
        for (Pod pod : Workloads.all(all, Pod.class)) {
            for (Volume v : pod.getSpec().getVolumes()) {
                assertThat(claims).as("claim of pod %s", pod.getMetadata().getName())
                        .contains(v.getPersistentVolumeClaim().getClaimName());
            }
        }
    }

    @Test
    void theExamplesServer_isTheInClusterNfsServer() {
        List<HasMetadata> all = examples();
        Service service = Workloads.one(all, Service.class, "nfs-server");
        assertThat(service.getSpec().getPorts()).extracting(ServicePort::getPort).contains(2049);
        String dns = service.getMetadata().getName() + "." + service.getMetadata().getNamespace()
                + ".svc.cluster.local";
        assertThat(Workloads.all(all, StorageClass.class))
                .allSatisfy(sc -> assertThat(sc.getParameters()).containsEntry("server", dns));
        assertThat(Workloads.all(all, PersistentVolume.class))
                .allSatisfy(pv -> assertThat(pv.getSpec().getCsi().getVolumeAttributes()).containsEntry("server",
                        dns));
    }

    private static Set<String> names(List<? extends HasMetadata> objects) {
        Set<String> out = new java.util.TreeSet<>();
        objects.forEach(o -> out.add(o.getMetadata().getName()));
        return out;
    }
}
