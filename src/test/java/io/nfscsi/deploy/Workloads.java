package io.nfscsi.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.apps.DaemonSet;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Lookups in rendered objects: the two workloads, their containers, flags and volumes. */
final class Workloads {

    static final String CONTROLLER = "nfs-csi-controller";
    static final String NODE = "nfs-csi-node";
    /** The driver's own container, in both pods. */
    static final String DRIVER = "nfs";

    /** What a fieldRef env var stands for when args are resolved: any plausible value. */
    private static final Map<String, String> FIELD_VALUES = Map.of("spec.nodeName", "node-1",
            "metadata.namespace", Renders.NAMESPACE);
    private static final Pattern VAR = Pattern.compile("\\$\\(([A-Za-z_][A-Za-z0-9_]*)\\)");

    private Workloads() {
    }

    static <T extends HasMetadata> List<T> all(List<HasMetadata> objects, Class<T> type) {
        return objects.stream().filter(type::isInstance).map(type::cast).toList();
    }

    static <T extends HasMetadata> T one(List<HasMetadata> objects, Class<T> type, String name) {
        List<T> found = all(objects, type).stream().filter(o -> o.getMetadata().getName().equals(name)).toList();
        assertThat(found).as("%s %s", type.getSimpleName(), name).hasSize(1);
        return found.getFirst();
    }

    static PodSpec controller(List<HasMetadata> objects) {
        return one(objects, Deployment.class, CONTROLLER).getSpec().getTemplate().getSpec();
    }

    static PodSpec node(List<HasMetadata> objects) {
        return one(objects, DaemonSet.class, NODE).getSpec().getTemplate().getSpec();
    }

    static List<PodSpec> pods(List<HasMetadata> objects) {
        return List.of(controller(objects), node(objects));
    }

    static Container container(PodSpec pod, String name) {
        return pod.getContainers().stream().filter(c -> c.getName().equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError("no container " + name));
    }

    static Optional<Container> findContainer(PodSpec pod, String name) {
        return pod.getContainers().stream().filter(c -> c.getName().equals(name)).findFirst();
    }

    /** The container's args with $(VAR) expanded from its env, as kubelet expands them. */
    static List<String> args(Container c) {
        List<String> out = new ArrayList<>();
        for (String arg : c.getArgs() == null ? List.<String>of() : c.getArgs()) {
            Matcher m = VAR.matcher(arg);
            StringBuilder sb = new StringBuilder();
            while (m.find()) {
                m.appendReplacement(sb, Matcher.quoteReplacement(env(c, m.group(1))));
            }
            m.appendTail(sb);
            out.add(sb.toString());
        }
        return out;
    }

    private static String env(Container c, String name) {
        EnvVar var = c.getEnv().stream().filter(e -> e.getName().equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError(c.getName() + ": $(" + name + ") has no env var"));
        if (var.getValue() != null) {
            return var.getValue();
        }
        String path = var.getValueFrom().getFieldRef().getFieldPath();
        return Optional.ofNullable(FIELD_VALUES.get(path))
                .orElseThrow(() -> new AssertionError(c.getName() + ": unexpected fieldRef " + path));
    }

    /** The value of {@code --name=value} or {@code -name=value}, with $(VAR) expanded. */
    static Optional<String> flag(Container c, String name) {
        for (String arg : args(c)) {
            String bare = arg.replaceFirst("^--?", "");
            if (bare.startsWith(name + "=")) {
                return Optional.of(bare.substring(name.length() + 1));
            }
        }
        return Optional.empty();
    }

    static String requiredFlag(Container c, String name) {
        return flag(c, name).orElseThrow(() -> new AssertionError(c.getName() + " has no --" + name));
    }

    /** A boolean flag given as {@code --name} or {@code --name=true}. */
    static boolean switchedOn(Container c, String name) {
        return args(c).stream().map(a -> a.replaceFirst("^--?", ""))
                .anyMatch(a -> a.equals(name) || a.equals(name + "=true"));
    }

    static Volume volume(PodSpec pod, String name) {
        return pod.getVolumes().stream().filter(v -> v.getName().equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError("no volume " + name));
    }

    /** The mount in this container whose mount path is the longest prefix of path, if any. */
    static Optional<VolumeMount> mountHolding(Container c, String path) {
        return c.getVolumeMounts().stream()
                .filter(m -> path.equals(m.getMountPath()) || path.startsWith(m.getMountPath() + "/"))
                .max((a, b) -> Integer.compare(a.getMountPath().length(), b.getMountPath().length()));
    }

    /** The image's name without registry, path or tag: "csi-provisioner" for any mirror of it. */
    static String imageName(Container c) {
        String ref = c.getImage();
        String withoutDigest = ref.contains("@") ? ref.substring(0, ref.indexOf('@')) : ref;
        String last = withoutDigest.substring(withoutDigest.lastIndexOf('/') + 1);
        return last.contains(":") ? last.substring(0, last.indexOf(':')) : last;
    }
}
