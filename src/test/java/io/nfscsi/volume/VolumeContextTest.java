package io.nfscsi.volume;

import static io.nfscsi.volume.NfsSourceTest.assertInvalidNaming;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class VolumeContextTest {

    @Test
    void parse_serverAndShare_givesSourceWithNoOptionsAndNoPermissions() {
        VolumeContext context = VolumeContext.parse(Map.of("server", "nfs.example.com", "share", "/export"));

        assertThat(context.source()).isEqualTo(new NfsSource("nfs.example.com", "/export"));
        assertThat(context.mountOptions()).isEmpty();
        assertThat(context.mountPermissions()).isZero();
    }

    @Test
    void parse_allKeys_readsEach() {
        VolumeContext context = VolumeContext.parse(Map.of(
                "server", "fd00::1", "share", "/export/", "subDir", "pvc-1",
                "mountOptions", "nfsvers=4.1,hard,hard", "mountPermissions", "0770"));

        assertThat(context.source().format()).isEqualTo("[fd00::1]:/export/pvc-1");
        assertThat(context.mountOptions()).containsExactly("nfsvers=4.1", "hard");
        assertThat(context.mountPermissions()).isEqualTo(0770);
    }

    @Test
    void parse_keysInAnyCase_areAccepted() {
        VolumeContext context = VolumeContext.parse(Map.of(
                "SERVER", "nfs", "Share", "/export", "SUBDIR", "a", "mountoptions", "hard",
                "MountPermissions", "2775"));

        assertThat(context.source().format()).isEqualTo("nfs:/export/a");
        assertThat(context.mountOptions()).containsExactly("hard");
        assertThat(context.mountPermissions()).isEqualTo(02775);
    }

    @Test
    void parse_kubernetesKeys_areAcceptedAndIgnored() {
        VolumeContext context = VolumeContext.parse(Map.of(
                "server", "nfs", "share", "/export",
                "csi.storage.k8s.io/pod.name", "web-0",
                "csi.storage.k8s.io/pod.namespace", "default",
                "csi.storage.k8s.io/serviceAccount.name", "default",
                "CSI.Storage.K8s.IO/ephemeral", "false",
                "csi.storage.k8s.io/pvc/name", "data"));

        assertThat(context.source().format()).isEqualTo("nfs:/export");
    }

    @ParameterizedTest
    @ValueSource(strings = {"bogus", "server2", "csi.storage.k8s.io", "storage.k8s.io/pod.name", " server",
            "onDeleted", ""})
    void parse_unknownKey_isInvalidArgumentNamingIt(String key) {
        Map<String, String> attributes = new LinkedHashMap<>(Map.of("server", "nfs", "share", "/export"));
        attributes.put(key, "x");

        assertInvalidNaming(() -> VolumeContext.parse(attributes), "\"" + key + "\"");
    }

    @Test
    void parse_missingServer_isInvalidArgumentNamingServer() {
        assertInvalidNaming(() -> VolumeContext.parse(Map.of("share", "/export")), "volume_context.server");
        assertInvalidNaming(() -> VolumeContext.parse(Map.of("server", "", "share", "/export")),
                "volume_context.server");
    }

    @Test
    void parse_missingShare_isInvalidArgumentNamingShare() {
        assertInvalidNaming(() -> VolumeContext.parse(Map.of("server", "nfs")), "volume_context.share");
        assertInvalidNaming(() -> VolumeContext.parse(Map.of("server", "nfs", "share", "")),
                "volume_context.share");
    }

    @Test
    void parse_empty_isInvalidArgument() {
        assertInvalidNaming(() -> VolumeContext.parse(Map.of()), "server");
    }

    @Test
    void parse_malformedMountOptions_isInvalidArgumentNamingField() {
        assertInvalidNaming(() -> VolumeContext.parse(Map.of("server", "nfs", "share", "/export",
                "mountOptions", "hard,bad option")), "volume_context.mountOptions");
        assertInvalidNaming(() -> VolumeContext.parse(Map.of("server", "nfs", "share", "/export",
                "mountOptions", "hard\nsoft")), "volume_context.mountOptions");
    }

    @Test
    void parse_subDirWithDotDot_isInvalidArgumentNamingSubDir() {
        assertInvalidNaming(() -> VolumeContext.parse(Map.of("server", "nfs", "share", "/export",
                "subDir", "../etc")), "subDir");
    }

    @ParameterizedTest
    @ValueSource(strings = {".nfs-csi", ".nfs-csi/volumes", "/.nfs-csi", "//.nfs-csi/snapshots", ".hidden/x",
            "./.nfs-csi"})
    void parse_hiddenSubDir_isInvalidArgumentNamingSubDir(String subDir) {
        assertInvalidNaming(() -> VolumeContext.parse(Map.of("server", "nfs", "share", "/export",
                "subDir", subDir)), "volume_context.subDir");
    }

    @ParameterizedTest(name = "\"{0}\" -> {1}")
    @CsvSource({"0, 0", "'', 0", "'  ', 0", "777, 511", "0777, 511", "0770, 504", "2775, 1533", "02775, 1533",
            "1777, 1023", "7777, 4095", "' 0750 ', 488", "0000, 0"})
    void parse_mountPermissions_isOctal(String value, int expected) {
        VolumeContext context = VolumeContext.parse(Map.of("server", "nfs", "share", "/export",
                "mountPermissions", value));

        assertThat(context.mountPermissions()).isEqualTo(expected);
    }

    @ParameterizedTest
    @ValueSource(strings = {"999", "8", "abc", "-1", "77777", "10000", "0x1ff", "rwxr-xr-x", "7 7", "1e3",
            "99999999999999999999"})
    void parse_badMountPermissions_isInvalidArgumentNamingField(String value) {
        assertInvalidNaming(() -> VolumeContext.parse(Map.of("server", "nfs", "share", "/export",
                "mountPermissions", value)), "volume_context.mountPermissions");
    }

    @ParameterizedTest
    @ValueSource(strings = {"٧٧٧", "+777"})
    void parseMode_nonAsciiDigitsOrSign_isInvalidArgument(String value) {
        assertInvalidNaming(() -> VolumeContext.parseMode("volume_context.mountPermissions", value),
                "volume_context.mountPermissions");
    }

    @ParameterizedTest
    @ValueSource(ints = {-1, 010000, Integer.MAX_VALUE})
    void constructor_modeOutOfRange_isInvalidArgument(int mode) {
        assertInvalidNaming(() -> new VolumeContext(new NfsSource("nfs", "/export"), List.of(), mode),
                "mountPermissions");
    }

    @Test
    void constructor_copiesMountOptions() {
        List<String> options = new java.util.ArrayList<>(List.of("hard"));
        VolumeContext context = new VolumeContext(new NfsSource("nfs", "/export"), options, 0);
        options.add("soft");

        assertThat(context.mountOptions()).containsExactly("hard");
    }
}
