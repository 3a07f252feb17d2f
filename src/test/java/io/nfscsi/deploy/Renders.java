package io.nfscsi.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import com.marcnuri.helm.Helm;
import com.marcnuri.helm.TemplateCommand;
import io.fabric8.kubernetes.api.model.HasMetadata;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * Renders the manifests the way users will: the kustomize directories with {@code kubectl kustomize}, the chart
 * with Helm's own template engine (helm-java bundles it as a native library: no helm binary, nothing downloaded).
 * Renders are cached: each distinct input is rendered once per test run.
 */
final class Renders {

    static final Path ROOT = Path.of(System.getProperty("basedir", ".")).toAbsolutePath().normalize();
    static final Path DEPLOY = ROOT.resolve("deploy");
    static final Path BASE = DEPLOY.resolve("kustomize/base");
    static final Path OVERLAYS = DEPLOY.resolve("kustomize/overlays");
    static final Path CHART = DEPLOY.resolve("helm/nfs-csi");
    static final Path EXAMPLES = DEPLOY.resolve("examples");

    /** The release namespace that the chart is rendered into: the kustomize base's namespace. */
    static final String NAMESPACE = "nfs-csi";

    /**
     * The Kubernetes version the chart is rendered for by default: the first that serves storage.k8s.io/v1
     * VolumeAttributesClasses, which the kustomize base's sidecars use, so that the chart's defaults render the base.
     * Helm's engine would otherwise assume v1.20.0, which the chart refuses. {@link #LOWEST_KUBE_VERSION} is the
     * lowest that Chart.yaml admits.
     */
    static final String KUBE_VERSION = "v1.34.0";

    /** The lowest Kubernetes that Chart.yaml admits: renders there must work too (RbacTest renders it). */
    static final String LOWEST_KUBE_VERSION = "v1.25.0";

    private static final Map<String, String> CACHE = new ConcurrentHashMap<>();

    private Renders() {
    }

    /** {@code kubectl kustomize dir}; the test is skipped where kubectl is missing. */
    static List<HasMetadata> kustomize(Path dir) {
        return KubeYaml.parseAll(kustomizeYaml(dir));
    }

    static String kustomizeYaml(Path dir) {
        return CACHE.computeIfAbsent("kustomize " + dir, k -> runKubectlKustomize(dir));
    }

    /** {@code helm template nfs-csi deploy/helm/nfs-csi -n nfs-csi --set k=v ...}. */
    static List<HasMetadata> helm(Map<String, String> set) {
        return KubeYaml.parseAll(helmYaml(set, null));
    }

    /** As {@link #helm(Map)}, with a values file (for lists, which --set spells awkwardly). */
    static List<HasMetadata> helm(Map<String, String> set, String valuesYaml) {
        return KubeYaml.parseAll(helmYaml(set, valuesYaml));
    }

    static String helmYaml(Map<String, String> set, String valuesYaml) {
        return helmYaml(set, valuesYaml, KUBE_VERSION);
    }

    /** As {@link #helmYaml(Map, String)}, for a cluster of the given Kubernetes version. */
    static String helmYaml(Map<String, String> set, String valuesYaml, String kubeVersion) {
        String key = "helm " + kubeVersion + " " + new java.util.TreeMap<>(set) + " " + valuesYaml;
        return CACHE.computeIfAbsent(key, k -> {
            TemplateCommand template = new Helm(CHART).template().withName("nfs-csi").withNamespace(NAMESPACE)
                    .withKubeVersion(kubeVersion);
            set.forEach(template::set);
            if (valuesYaml != null) {
                template.withValuesFile(writeTemp(valuesYaml));
            }
            return template.call();
        });
    }

    private static String runKubectlKustomize(Path dir) {
        Assumptions.assumeTrue(onPath("kubectl"), "kubectl is not on PATH");
        try {
            Path out = Files.createTempFile("kustomize", ".yaml");
            Path err = Files.createTempFile("kustomize", ".err");
            try {
                Process p = new ProcessBuilder("kubectl", "kustomize", dir.toString())
                        .redirectOutput(out.toFile()).redirectError(err.toFile()).start();
                assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("kubectl kustomize %s finished", dir).isTrue();
                assertThat(p.exitValue()).as("kubectl kustomize %s: %s", dir, Files.readString(err)).isZero();
                return Files.readString(out, StandardCharsets.UTF_8);
            } finally {
                Files.deleteIfExists(out);
                Files.deleteIfExists(err);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static boolean onPath(String command) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator)) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, command))) {
                return true;
            }
        }
        return false;
    }

    private static Path writeTemp(String content) {
        try {
            Path file = Files.createTempFile("values", ".yaml");
            file.toFile().deleteOnExit();
            return Files.writeString(file, content);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
