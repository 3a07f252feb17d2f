package io.nfscsi.deploy;

import static io.nfscsi.deploy.Workloads.DRIVER;
import static io.nfscsi.deploy.Workloads.container;
import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Quantity;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The driver JVM's memory caps as a container runs it: bin/nfs-csi's flags, then the container's NFSCSI_JAVA_OPTS
 * (the JVM takes the last of a repeated flag). Every cap that can grow must be set explicitly, and together they must
 * leave the container's memory limit room for what has no cap: thread stacks, the C heap (zlib, NSS, malloc arenas),
 * the class-data archive's mapped pages, and page cache charged to the container.
 *
 * @param heap      -Xmx
 * @param direct    -XX:MaxDirectMemorySize
 * @param metaspace -XX:MaxMetaspaceSize
 * @param codeCache -XX:ReservedCodeCacheSize
 */
record JvmMemory(long heap, long direct, long metaspace, long codeCache) {

    /**
     * What the capped parts may take of the container's limit. Measured (README.md, "Memory"): under LoadTest the
     * uncapped part stayed below a quarter of the controller's limit.
     */
    static final double CAPPED_SHARE = 0.75;

    private static final Pattern SIZE = Pattern.compile("(\\d+)([kmg]?)", Pattern.CASE_INSENSITIVE);

    /** The caps of the driver container in every pod of the render, checked against the container's limit. */
    static void fitTheContainers(List<HasMetadata> objects) {
        for (PodSpec pod : Workloads.pods(objects)) {
            Container c = container(pod, DRIVER);
            JvmMemory jvm = of(c);
            long limit = Quantity.getAmountInBytes(c.getResources().getLimits().get("memory")).longValue();
            assertThat(jvm.total()).as("%s: heap %d + direct %d + metaspace %d + code cache %d MiB within %.0f%% of "
                            + "the %d MiB limit", c.getName(), jvm.heap >> 20, jvm.direct >> 20, jvm.metaspace >> 20,
                    jvm.codeCache >> 20, CAPPED_SHARE * 100, limit >> 20)
                    .isLessThanOrEqualTo((long) (limit * CAPPED_SHARE));
        }
    }

    /** The caps for this container: launcher flags, then its NFSCSI_JAVA_OPTS. Every cap must be set. */
    static JvmMemory of(Container c) {
        List<String> flags = new ArrayList<>(launcherFlags());
        Optional<String> env = c.getEnv().stream().filter(e -> e.getName().equals("NFSCSI_JAVA_OPTS"))
                .map(EnvVar::getValue).findFirst();
        assertThat(env).as(c.getName() + ": NFSCSI_JAVA_OPTS").isPresent();
        flags.addAll(Arrays.asList(env.get().trim().split("\\s+")));
        return new JvmMemory(last(flags, "-Xmx", c), last(flags, "-XX:MaxDirectMemorySize=", c),
                last(flags, "-XX:MaxMetaspaceSize=", c), last(flags, "-XX:ReservedCodeCacheSize=", c));
    }

    long total() {
        return heap + direct + metaspace + codeCache;
    }

    /** The JVM flags that bin/nfs-csi always passes: its lines of the form {@code   -X... \}. */
    static List<String> launcherFlags() {
        Path launcher = Path.of("bin/nfs-csi");
        try {
            return Files.readAllLines(launcher).stream().map(String::trim)
                    .filter(l -> l.startsWith("-X") && l.endsWith("\\"))
                    .map(l -> l.substring(0, l.length() - 1).trim()).toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static long last(List<String> flags, String prefix, Container c) {
        String value = null;
        for (String f : flags) {
            if (f.startsWith(prefix)) {
                value = f.substring(prefix.length());
            }
        }
        assertThat(value).as(c.getName() + ": " + prefix + " is set by bin/nfs-csi or NFSCSI_JAVA_OPTS").isNotNull();
        return bytes(value);
    }

    /** A JVM size: 64m, 1g, 512k, or bytes. */
    static long bytes(String size) {
        Matcher m = SIZE.matcher(size);
        assertThat(m.matches()).as("JVM size " + size).isTrue();
        long n = Long.parseLong(m.group(1));
        return switch (m.group(2).toLowerCase(Locale.ROOT)) {
            case "k" -> n << 10;
            case "m" -> n << 20;
            case "g" -> n << 30;
            default -> n;
        };
    }
}
