package io.nfscsi.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.api.model.HasMetadata;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Each overlay changes the base in exactly the way it says, and keeps every invariant of the base. */
class KustomizeOverlaysTest {

    @Test
    void inlineVolumes_addsEphemeral_andNothingElse() {
        List<HasMetadata> overlay = Renders.kustomize(Renders.OVERLAYS.resolve("inline-volumes"));
        Map<String, ObjectNode> expected = byId(Renders.kustomize(Renders.BASE));
        expected.get("CSIDriver nfs.csi.io").withArray("/spec/volumeLifecycleModes").add("Ephemeral");
        assertThat(byId(overlay)).isEqualTo(expected);
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
        assertThat(byId(overlay)).isEqualTo(expected);
        DriverChecks.all(overlay, KustomizeBaseTest.KUBELET_DIR);
    }

    static Map<String, ObjectNode> byId(List<HasMetadata> objects) {
        Map<String, ObjectNode> out = new LinkedHashMap<>();
        for (HasMetadata o : objects) {
            assertThat(out.put(KubeYaml.id(o), KubeYaml.tree(o))).as("duplicate %s", KubeYaml.id(o)).isNull();
        }
        return out;
    }
}
