package io.nfscsi.deploy;

import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.BeanDescription;
import com.fasterxml.jackson.databind.DeserializationConfig;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.deser.BeanDeserializerBuilder;
import com.fasterxml.jackson.databind.deser.BeanDeserializerModifier;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.PersistentVolume;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.apps.DaemonSet;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBinding;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import io.fabric8.kubernetes.api.model.storage.CSIDriver;
import io.fabric8.kubernetes.api.model.storage.StorageClass;
import io.fabric8.kubernetes.api.model.storage.VolumeAttributesClass;
import io.fabric8.volumesnapshot.api.model.VolumeSnapshot;
import io.fabric8.volumesnapshot.api.model.VolumeSnapshotClass;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Strict parsing of Kubernetes manifests into the fabric8 model. Every fabric8 model class collects unknown fields
 * in an "additionalProperties" map through a Jackson any-setter, which would make a misspelt field pass silently;
 * this mapper removes the any-setters, so an unknown field fails with {@code UnrecognizedPropertyException}, as the
 * API server's strict field validation would reject it. Duplicate keys fail too (YAML would keep the last one).
 * Only the API versions listed in {@link #KINDS} are accepted: a beta API or an unknown kind fails.
 */
final class KubeYaml {

    /** The kinds that the manifests and examples may contain, by "apiVersion/kind". */
    static final Map<String, Class<? extends HasMetadata>> KINDS = Map.ofEntries(
            Map.entry("v1/Namespace", Namespace.class),
            Map.entry("v1/ServiceAccount", ServiceAccount.class),
            Map.entry("v1/Service", Service.class),
            Map.entry("v1/ConfigMap", ConfigMap.class),
            Map.entry("v1/Pod", Pod.class),
            Map.entry("v1/PersistentVolume", PersistentVolume.class),
            Map.entry("v1/PersistentVolumeClaim", PersistentVolumeClaim.class),
            Map.entry("apps/v1/Deployment", Deployment.class),
            Map.entry("apps/v1/DaemonSet", DaemonSet.class),
            Map.entry("rbac.authorization.k8s.io/v1/ClusterRole", ClusterRole.class),
            Map.entry("rbac.authorization.k8s.io/v1/ClusterRoleBinding", ClusterRoleBinding.class),
            Map.entry("rbac.authorization.k8s.io/v1/Role", Role.class),
            Map.entry("rbac.authorization.k8s.io/v1/RoleBinding", RoleBinding.class),
            Map.entry("storage.k8s.io/v1/CSIDriver", CSIDriver.class),
            Map.entry("storage.k8s.io/v1/StorageClass", StorageClass.class),
            Map.entry("storage.k8s.io/v1/VolumeAttributesClass", VolumeAttributesClass.class),
            Map.entry("snapshot.storage.k8s.io/v1/VolumeSnapshotClass", VolumeSnapshotClass.class),
            Map.entry("snapshot.storage.k8s.io/v1/VolumeSnapshot", VolumeSnapshot.class),
            Map.entry("monitoring.coreos.com/v1/ServiceMonitor", Monitors.ServiceMonitor.class),
            Map.entry("monitoring.coreos.com/v1/PodMonitor", Monitors.PodMonitor.class));

    static final ObjectMapper MAPPER = YAMLMapper.builder()
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_READING_DUP_TREE_KEY)
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .addModule(new SimpleModule("strict-fabric8").setDeserializerModifier(new BeanDeserializerModifier() {
                @Override
                public BeanDeserializerBuilder updateBuilder(DeserializationConfig config, BeanDescription bean,
                                                             BeanDeserializerBuilder builder) {
                    builder.setAnySetter(null);
                    return builder;
                }
            }))
            .build();

    private KubeYaml() {
    }

    /** Every non-empty document of a multi-document YAML stream, parsed strictly into its model class. */
    static List<HasMetadata> parseAll(String yaml) {
        List<HasMetadata> objects = new ArrayList<>();
        for (JsonNode doc : documents(yaml)) {
            objects.add(parse(doc));
        }
        return objects;
    }

    static HasMetadata parse(JsonNode doc) {
        String key = doc.path("apiVersion").asText() + "/" + doc.path("kind").asText();
        Class<? extends HasMetadata> type = KINDS.get(key);
        if (type == null) {
            throw new IllegalArgumentException("unexpected apiVersion/kind " + key + " in\n" + doc.toPrettyString());
        }
        try {
            return MAPPER.treeToValue(doc, type);
        } catch (IOException e) {
            throw new IllegalArgumentException(key + " " + doc.path("metadata").path("name").asText() + ": "
                    + e.getMessage(), e);
        }
    }

    static List<JsonNode> documents(String yaml) {
        List<JsonNode> docs = new ArrayList<>();
        try (MappingIterator<JsonNode> it = MAPPER.readerFor(JsonNode.class).readValues(yaml)) {
            while (it.hasNextValue()) {
                JsonNode doc = it.nextValue();
                if (doc != null && !doc.isNull() && !doc.isMissingNode() && !doc.isEmpty()) {
                    docs.add(doc);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return docs;
    }

    /** The object as the API server would store it from this manifest: canonical JSON, for comparisons. */
    static ObjectNode tree(HasMetadata object) {
        return MAPPER.valueToTree(object);
    }

    /** "Kind namespace/name", or "Kind name" for a cluster-scoped object. */
    static String id(HasMetadata object) {
        String ns = object.getMetadata().getNamespace();
        return object.getKind() + " " + (ns == null ? "" : ns + "/") + object.getMetadata().getName();
    }
}
