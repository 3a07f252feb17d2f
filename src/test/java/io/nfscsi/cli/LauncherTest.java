package io.nfscsi.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * bin/nfs-csi choosing its Java among fake ones: directories with a {@code release} file and a {@code bin/java}
 * script that prints the path it was run as and its arguments. Installed JDKs are looked for in a directory of the
 * test's ({@code NFSCSI_JVM_DIRS}), never in the machine's /usr/lib/jvm.
 */
@Timeout(60)
class LauncherTest {

    private static final Path LAUNCHER = Path.of("bin/nfs-csi").toAbsolutePath();

    @TempDir
    Path dir;
    Path jvms;
    Path pathDir;
    Path tools;

    record Run(int code, List<String> out, List<String> err) {
    }

    @BeforeEach
    void dirs() throws IOException {
        jvms = Files.createDirectories(dir.resolve("jvm"));
        pathDir = Files.createDirectories(dir.resolve("path"));
        // the tools the launcher runs, without the machine's java (/usr/bin/java) beside them
        tools = Files.createDirectories(dir.resolve("tools"));
        for (String tool : List.of("dirname", "readlink")) {
            Path script = tools.resolve(tool);
            Files.writeString(script, "#!/bin/sh\nexec /usr/bin/" + tool + " \"$@\"\n");
            Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwxr-xr-x"));
        }
    }

    /** A fake Java home: {@code release} says {@code version}; bin/java (and bin/javac, if asked) print their argv. */
    private Path fakeJava(Path home, String version, boolean javac) throws IOException {
        Files.createDirectories(home.resolve("bin"));
        Files.writeString(home.resolve("release"), "IMPLEMENTOR=\"Test\"\nJAVA_VERSION=\"" + version
                + "\"\nMODULES=\"java.base\"\n");
        for (String tool : javac ? List.of("java", "javac") : List.of("java")) {
            Path script = home.resolve("bin").resolve(tool);
            Files.writeString(script, "#!/bin/sh\nprintf '%s\\n' \"$0\" \"$@\"\n");
            Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwxr-xr-x"));
        }
        return home;
    }

    /** Runs the launcher with only this environment, PATH being the test's directory, then the tools it needs. */
    private Run launch(Map<String, String> env, String... args) throws Exception {
        List<String> argv = new java.util.ArrayList<>(List.of(LAUNCHER.toString()));
        argv.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(argv)
                .redirectOutput(dir.resolve("out").toFile()).redirectError(dir.resolve("err").toFile());
        pb.environment().clear();
        pb.environment().put("PATH", pathDir + ":" + tools);
        pb.environment().put("NFSCSI_JVM_DIRS", jvms.toString());
        pb.environment().put("NFSCSI_JAR", "/opt/test/nfs-csi.jar");
        pb.environment().putAll(env);
        Process p = pb.start();
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        return new Run(p.exitValue(), Files.readAllLines(dir.resolve("out"), StandardCharsets.UTF_8),
                Files.readAllLines(dir.resolve("err"), StandardCharsets.UTF_8));
    }

    @Test
    void noJava25Anywhere_exits2WithOneLineNamingEachJavaFound() throws Exception {
        Path home = fakeJava(dir.resolve("java-17"), "17.0.15", true);
        Path onPath = fakeJava(dir.resolve("other-17"), "17.0.9", true);
        Files.createSymbolicLink(pathDir.resolve("java"), onPath.resolve("bin/java"));
        Path installed = fakeJava(jvms.resolve("java-21-openjdk-amd64"), "21.0.2", true);
        Files.createSymbolicLink(jvms.resolve("default-java"), installed);

        Run run = launch(Map.of("JAVA_HOME", home.toString()), "--help");

        assertThat(run.code()).isEqualTo(2);
        assertThat(run.out()).as("no java was run").isEmpty();
        assertThat(run.err()).containsExactly("nfs-csi: needs Java 25 or newer (set JAVA_HOME to one); found: "
                + home + " (17.0.15), " + onPath + " (17.0.9), " + installed + " (21.0.2)");
    }

    @Test
    void javaHomeWithoutJava_isNamedInTheMessage() throws Exception {
        Path empty = Files.createDirectories(dir.resolve("not-a-jdk"));

        Run run = launch(Map.of("JAVA_HOME", empty.toString()));

        assertThat(run.code()).isEqualTo(2);
        assertThat(run.err()).singleElement().asString().endsWith("found: " + empty + " (no bin/java)");
    }

    @Test
    void oldJavaHome_andAJava25Installed_runsTheInstalledOne_withTheLaunchersFlags() throws Exception {
        Path home = fakeJava(dir.resolve("java-17"), "17.0.15", true);
        fakeJava(jvms.resolve("java-17-openjdk-amd64"), "17.0.15", true);
        Path jdk25 = fakeJava(jvms.resolve("temurin-25-jdk-amd64"), "25.0.3", true);

        Run run = launch(Map.of("JAVA_HOME", home.toString(), "NFSCSI_AOT", ""), "--endpoint", "unix:///x/csi.sock");

        assertThat(run.err()).isEmpty();
        assertThat(run.code()).isZero();
        assertThat(run.out().getFirst()).isEqualTo(jdk25.resolve("bin/java").toString());
        assertThat(run.out()).contains("--sun-misc-unsafe-memory-access=allow", "--enable-native-access=ALL-UNNAMED",
                "-XX:+ExitOnOutOfMemoryError", "-Xshare:auto");
        assertThat(run.out()).endsWith("-jar", "/opt/test/nfs-csi.jar", "--endpoint", "unix:///x/csi.sock");
    }

    @ParameterizedTest
    @ValueSource(strings = {"25", "25.0.1", "26-ea", "31.0.2"})
    void javaHome25OrNewer_isRunAsIs_beforeAnyOther(String version) throws Exception {
        Path home = fakeJava(dir.resolve("runtime"), version, false);
        fakeJava(jvms.resolve("temurin-25-jdk-amd64"), "25.0.3", true);

        Run run = launch(Map.of("JAVA_HOME", home + "/"));

        assertThat(run.code()).isZero();
        assertThat(run.out().getFirst()).isEqualTo(home.resolve("bin/java").toString());
    }

    @Test
    void noJavaHome_theJavaOnPath_isFollowedToItsHome() throws Exception {
        Path jdk = fakeJava(dir.resolve("sdk/java-25"), "25.0.1", true);
        Files.createSymbolicLink(pathDir.resolve("java"), jdk.resolve("bin/java"));

        Run run = launch(Map.of());

        assertThat(run.code()).isZero();
        assertThat(run.out().getFirst()).isEqualTo(jdk.resolve("bin/java").toString());
    }

    @Test
    void findJavac_skipsARuntimeWithoutJavac_andPrintsTheJdk() throws Exception {
        Path runtime = fakeJava(dir.resolve("runtime"), "25.0.3", false);
        Path jdk = fakeJava(jvms.resolve("temurin-25-jdk-amd64"), "25.0.3", true);

        Run run = launch(Map.of("JAVA_HOME", runtime.toString(), "NFSCSI_FIND_JAVA", "javac"));

        assertThat(run.code()).isZero();
        assertThat(run.out()).containsExactly(jdk.toString());
    }

    @Test
    void javaVersionWithoutMajor_orReleaseFileMissing_isNotTaken() throws Exception {
        Path noRelease = fakeJava(dir.resolve("bare"), "25", false);
        Files.delete(noRelease.resolve("release"));
        Path legacy = fakeJava(jvms.resolve("java-8"), "1.8.0_402", true);

        Run run = launch(Map.of("JAVA_HOME", noRelease.toString()));

        assertThat(run.code()).isEqualTo(2);
        assertThat(run.err()).singleElement().asString()
                .endsWith("found: " + noRelease + " (no release file), " + legacy + " (1.8.0_402)");
    }
}
