package io.nfscsi.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.nfscsi.csi.v1.Csi;
import io.nfscsi.testing.Scrape;
import java.io.IOException;
import java.io.InputStream;
import java.lang.module.ModuleDescriptor;
import java.lang.module.ModuleFinder;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The image's contents, run outside a container: the launcher on the jlinked runtime that
 * {@code ./mvnw -Pruntime package} leaves in {@code target/runtime}, with and without the AOT cache that the same
 * build records. Skipped when the build ran without that profile.
 */
@Timeout(120)
class JlinkRuntimeTest {

    private static final Path HOME = Path.of(System.getProperty("nfscsi.home", ".")).toAbsolutePath().normalize();
    private static final Path TARGET = HOME.resolve("target");
    private static final Path RUNTIME = TARGET.resolve("runtime");
    private static final Path LAUNCHER = HOME.resolve("bin/nfs-csi");
    private static final Path CACHE = TARGET.resolve("nfs-csi.aot");
    private static final Path JAR = TARGET.resolve("nfs-csi.jar");

    /** The exit status of a JVM stopped by SIGTERM after its shutdown hooks ran: 128 + 15. */
    private static final int SIGTERM_EXIT = 143;

    @TempDir
    Path dir;

    @BeforeEach
    void needsRuntime() {
        assumeTrue(Files.isExecutable(RUNTIME.resolve("bin/java")), "no target/runtime: build with -Pruntime");
    }

    @Test
    void driver_onRuntimeWithAotCache_servesAndStopsOnSigterm() throws Exception {
        assumeTrue(Files.isRegularFile(CACHE), "no target/nfs-csi.aot: build with -Pruntime, without -Daot.skip");
        assumeTrue(Files.getLastModifiedTime(CACHE).compareTo(Files.getLastModifiedTime(JAR)) > 0,
                "target/nfs-csi.aot is older than the jar, which a build without -Pruntime has replaced");

        String log = serveOnce(Map.of("JAVA_HOME", RUNTIME.toString(), "NFSCSI_AOT", CACHE.toString(),
                "NFSCSI_JAVA_OPTS", "-Xlog:aot"), "with the AOT cache");

        // a cache that does not fit (another runtime, other jars or flags) is dropped with a log line, not an error
        assertThat(log).contains("Using AOT-linked classes: true").doesNotContain("[error]");
    }

    @Test
    void driver_onRuntimeWithoutAotCache_servesAndStopsOnSigterm() throws Exception {
        serveOnce(Map.of("JAVA_HOME", RUNTIME.toString(), "NFSCSI_AOT", ""), "without an AOT cache");
    }

    @Test
    void release_listsOnlyTheModulesJdepsFound() throws IOException {
        Set<String> linked = releaseModules();
        Set<String> jdeps = moduleList(TARGET.resolve("jdeps-modules.txt"));
        Set<String> requested = moduleList(TARGET.resolve("runtime-modules.txt"));

        assertThat(linked).isEqualTo(withRequirements(requested));
        // jdk.httpserver: the metrics endpoint (prometheus-metrics-exporter-httpserver); jdk.management, and through
        // it java.management: the JVM and process metrics (prometheus-metrics-instrumentation-jvm), whose process CPU
        // time and open descriptors come from com.sun.management's operating-system bean
        assertThat(linked).isSubsetOf(withRequirements(union(jdeps, Set.of("java.logging"))))
                .contains("java.base", "java.logging", "java.naming", "jdk.unsupported", "jdk.httpserver",
                        "jdk.management", "java.management")
                .doesNotContain("java.desktop", "java.sql", "java.xml", "java.compiler", "jdk.compiler",
                        "jdk.jshell");
    }

    /** The runtime has what the metrics need: the endpoint answers, with the JVM's and the process's own figures. */
    @Test
    void metrics_onRuntime_serveJvmAndProcessFigures() throws Exception {
        int port;
        try (ServerSocket free = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = free.getLocalPort();
        }
        try (LaunchedDriver driver = LaunchedDriver.start(LAUNCHER, Map.of("JAVA_HOME", RUNTIME.toString(),
                "NFSCSI_AOT", ""), dir, List.of("--metrics-address=127.0.0.1:" + port))) {
            Scrape s = Scrape.of("127.0.0.1", port);

            assertThat(s.value("jvm_memory_used_bytes", "area", "heap")).isGreaterThan(0);
            assertThat(s.value("jvm_threads_current")).isGreaterThan(0);
            assertThat(s.value("process_cpu_seconds_total")).as("com.sun.management: jdk.management linked")
                    .isGreaterThan(0);
            assertThat(s.value("process_open_fds")).as("com.sun.management: jdk.management linked")
                    .isGreaterThan(0);
            assertThat(driver.terminate()).as("log:%n%s", driver.log()).isEqualTo(SIGTERM_EXIT);
        }
    }

    @Test
    void runtime_isWellBelowAFullJdk() throws IOException {
        long runtime = size(RUNTIME);
        long jdk = size(Path.of(System.getProperty("java.home")));
        System.out.printf("target/runtime: %d MiB; this JVM's home: %d MiB%n", runtime >> 20, jdk >> 20);

        assertThat(runtime).isLessThan(64L << 20).isLessThan(jdk / 3);
    }

    /** Starts, calls Probe and GetPluginInfo, stops with SIGTERM; returns the driver's log. */
    private String serveOnce(Map<String, String> env, String how) throws Exception {
        try (LaunchedDriver driver = LaunchedDriver.start(LAUNCHER, env, dir)) {
            System.out.printf("target/runtime %s: first Probe answered %d ms after start%n", how,
                    driver.startup().toMillis());

            Csi.ProbeResponse probe = driver.identity().probe(Csi.ProbeRequest.getDefaultInstance());
            Csi.GetPluginInfoResponse info =
                    driver.identity().getPluginInfo(Csi.GetPluginInfoRequest.getDefaultInstance());
            int exit = driver.terminate();

            assertThat(probe.hasReady()).as("Probe says whether it is ready").isTrue();
            assertThat(info.getName()).isEqualTo("nfs.csi.io");
            assertThat(info.getVendorVersion()).isEqualTo(projectVersion());
            assertThat(exit).as("exit on SIGTERM; log:%n%s", driver.log()).isEqualTo(SIGTERM_EXIT);
            assertThat(driver.socket()).as("socket removed on exit").doesNotExist();
            return driver.log();
        }
    }

    private static String projectVersion() throws IOException {
        try (InputStream in = JlinkRuntimeTest.class.getResourceAsStream("/io/nfscsi/version.properties")) {
            Properties p = new Properties();
            p.load(in);
            return p.getProperty("version");
        }
    }

    private static Set<String> releaseModules() throws IOException {
        Properties release = new Properties();
        try (InputStream in = Files.newInputStream(RUNTIME.resolve("release"))) {
            release.load(in);
        }
        String modules = release.getProperty("MODULES", "").replace("\"", "");
        return new TreeSet<>(Arrays.asList(modules.trim().split("\\s+")));
    }

    private static Set<String> moduleList(Path file) throws IOException {
        return Arrays.stream(Files.readString(file).trim().split(","))
                .map(String::trim).filter(m -> !m.isEmpty()).collect(Collectors.toCollection(TreeSet::new));
    }

    /** The modules and everything they require at run time (not {@code requires static}), as jlink links them. */
    private static Set<String> withRequirements(Set<String> roots) {
        ModuleFinder system = ModuleFinder.ofSystem();
        Set<String> all = new TreeSet<>();
        Deque<String> todo = new ArrayDeque<>(roots);
        while (!todo.isEmpty()) {
            String name = todo.pop();
            if (all.add(name)) {
                ModuleDescriptor module = system.find(name).orElseThrow().descriptor();
                module.requires().stream()
                        .filter(r -> !r.modifiers().contains(ModuleDescriptor.Requires.Modifier.STATIC))
                        .forEach(r -> todo.push(r.name()));
            }
        }
        return all;
    }

    private static Set<String> union(Set<String> a, Set<String> b) {
        Set<String> all = new TreeSet<>(a);
        all.addAll(b);
        return all;
    }

    private static long size(Path root) throws IOException {
        try (Stream<Path> files = Files.walk(root)) {
            return files.filter(Files::isRegularFile).mapToLong(p -> p.toFile().length()).sum();
        }
    }
}
