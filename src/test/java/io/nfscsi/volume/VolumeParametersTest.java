package io.nfscsi.volume;

import static io.nfscsi.volume.NfsSourceTest.assertInvalidNaming;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.entry;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

class VolumeParametersTest {

    private static final String PV = "pvc-4bcbf944-b6f7-4bd0-b50f-3c3dd00efc64";

    private static Map<String, String> params(String... keysAndValues) {
        Map<String, String> map = new LinkedHashMap<>();
        map.put("server", "nfs.example.com");
        map.put("share", "/exports");
        for (int i = 0; i < keysAndValues.length; i += 2) {
            map.put(keysAndValues[i], keysAndValues[i + 1]);
        }
        return map;
    }

    private static Map<String, String> metadata(String... keysAndValues) {
        Map<String, String> map = params(keysAndValues);
        map.put("csi.storage.k8s.io/pvc/name", "data");
        map.put("csi.storage.k8s.io/pvc/namespace", "team-a");
        map.put("csi.storage.k8s.io/pv/name", PV);
        return map;
    }

    @Test
    void parse_serverAndShare_defaultsSubDirToPvNameAndOnDeleteToDefault() {
        VolumeParameters p = VolumeParameters.parse(params(), PV, OnDelete.RETAIN);

        assertThat(p).isEqualTo(new VolumeParameters("nfs.example.com", "/exports", null, PV, 0, OnDelete.RETAIN));
        assertThat(p.source().format()).isEqualTo("nfs.example.com:/exports/" + PV);
        assertThat(p.shareSource().format()).isEqualTo("nfs.example.com:/exports");
    }

    @Test
    void parse_share_isNormalized() {
        VolumeParameters p = VolumeParameters.parse(Map.of("server", "nfs", "share", "//exports/./k8s/"), PV,
                OnDelete.DELETE);

        assertThat(p.share()).isEqualTo("/exports/k8s");
    }

    @Test
    void parse_rootShare_isAccepted() {
        VolumeParameters p = VolumeParameters.parse(Map.of("server", "fd00::1", "share", "/"), PV, OnDelete.DELETE);

        assertThat(p.source().format()).isEqualTo("[fd00::1]:/" + PV);
        assertThat(p.shareSource().format()).isEqualTo("[fd00::1]:/");
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource(delimiter = '|', textBlock = """
            ${pvc.metadata.namespace}/${pvc.metadata.name}             | team-a/data
            ${pv.metadata.name}                                        | pvc-4bcbf944-b6f7-4bd0-b50f-3c3dd00efc64
            k8s/${pvc.metadata.namespace}-${pvc.metadata.name}/volume | k8s/team-a-data/volume
            fixed                                                      | fixed
            a/b/c                                                      | a/b/c
            cost$/x                                                    | cost$/x
            a${pvc.metadata.name}${pvc.metadata.name}                  | adatadata
            """)
    void parse_subDirTemplate_isResolvedFromMetadata(String template, String expected) {
        VolumeParameters p = VolumeParameters.parse(metadata("subDir", template), PV, OnDelete.DELETE);

        assertThat(p.subDirTemplate()).isEqualTo(template);
        assertThat(p.subDir()).isEqualTo(expected);
        assertThat(p.source().path()).isEqualTo("/exports/" + expected);
    }

    @Test
    void parse_templateValueHoldingTemplate_isNotResolvedAgain() {
        Map<String, String> parameters = params("subDir", "${pvc.metadata.name}",
                "csi.storage.k8s.io/pvc/name", "${pv.metadata.name}");

        // the value is used as written; '$', '{' and '}' are legal in a directory name
        assertThat(VolumeParameters.parse(parameters, PV, OnDelete.DELETE).subDir()).isEqualTo("${pv.metadata.name}");
    }

    @Test
    void parse_emptySubDir_defaultsToPvName() {
        VolumeParameters p = VolumeParameters.parse(params("subDir", ""), PV, OnDelete.DELETE);

        assertThat(p.subDir()).isEqualTo(PV);
        assertThat(p.subDirTemplate()).isNull();
    }

    @ParameterizedTest
    @CsvSource({"${pvc.metadata.name}, pvc.metadata.name", "${pvc.metadata.namespace}, pvc.metadata.namespace",
            "x/${pv.metadata.name}, pv.metadata.name"})
    void parse_templateWithoutMetadata_isInvalidArgumentNamingTemplate(String template, String name) {
        assertInvalidNaming(() -> VolumeParameters.parse(params("subDir", template), PV, OnDelete.DELETE),
                "${" + name + "}");
        assertInvalidNaming(() -> VolumeParameters.parse(params("subDir", template,
                "csi.storage.k8s.io/pvc/name", "", "csi.storage.k8s.io/pvc/namespace", "",
                "csi.storage.k8s.io/pv/name", ""), PV, OnDelete.DELETE), "parameters.subDir");
    }

    @ParameterizedTest
    @ValueSource(strings = {"${pvc.name}", "${PVC.METADATA.NAME}", "${}", "a/${pvc.metadata.labels}",
            "${pvc.metadata.name", "x${", "${ pvc.metadata.name }"})
    void parse_unknownOrUnterminatedTemplate_isInvalidArgumentNamingSubDir(String template) {
        assertInvalidNaming(() -> VolumeParameters.parse(metadata("subDir", template), PV, OnDelete.DELETE),
                "parameters.subDir");
    }

    @ParameterizedTest
    @ValueSource(strings = {"bogus", "server2", "nfsvers", "mountOptions", "storage.k8s.io/pvc/name", " server",
            "csi.storage.k8s.io"})
    void parse_unknownKey_isInvalidArgumentNamingIt(String key) {
        assertInvalidNaming(() -> VolumeParameters.parse(params(key, "x"), PV, OnDelete.DELETE),
                "parameters has unknown key \"" + key + "\"");
    }

    @Test
    void parse_kubernetesKeys_areAccepted() {
        VolumeParameters p = VolumeParameters.parse(params(
                "csi.storage.k8s.io/provisioner-secret-name", "x",
                "CSI.Storage.K8s.IO/fstype", "nfs",
                "csi.storage.k8s.io/pvc/name", "data"), PV, OnDelete.DELETE);

        assertThat(p.subDir()).isEqualTo(PV);
    }

    @Test
    void parse_keysInAnyCase_areAccepted() {
        VolumeParameters p = VolumeParameters.parse(Map.of(
                "SERVER", "nfs", "Share", "/exports", "SUBDIR", "${pvc.metadata.name}", "mountpermissions", "0770",
                "ONDELETE", "Archive", "CSI.STORAGE.K8S.IO/PVC/NAME", "data"), PV, OnDelete.DELETE);

        assertThat(p).isEqualTo(new VolumeParameters("nfs", "/exports", "${pvc.metadata.name}", "data", 0770,
                OnDelete.ARCHIVE));
    }

    @Test
    void parse_sameKeyInTwoCases_isInvalidArgumentNamingKey() {
        assertInvalidNaming(() -> VolumeParameters.parse(params("Server", "other"), PV, OnDelete.DELETE),
                "\"Server\"");
    }

    @Test
    void parse_missingServerOrShare_isInvalidArgumentNamingIt() {
        assertInvalidNaming(() -> VolumeParameters.parse(Map.of("share", "/exports"), PV, OnDelete.DELETE),
                "parameters.server is required");
        assertInvalidNaming(() -> VolumeParameters.parse(Map.of("server", "", "share", "/exports"), PV,
                OnDelete.DELETE), "parameters.server is required");
        assertInvalidNaming(() -> VolumeParameters.parse(Map.of("server", "nfs"), PV, OnDelete.DELETE),
                "parameters.share is required");
        assertInvalidNaming(() -> VolumeParameters.parse(Map.of(), PV, OnDelete.DELETE), "parameters.server");
    }

    @Test
    void parse_missingName_isInvalidArgumentNamingName() {
        assertInvalidNaming(() -> VolumeParameters.parse(params(), "", OnDelete.DELETE), "name");
        assertInvalidNaming(() -> VolumeParameters.parse(params(), null, OnDelete.DELETE), "name");
    }

    @ParameterizedTest
    @EnumSource(OnDelete.class)
    void parse_noOnDelete_usesDefault(OnDelete defaultOnDelete) {
        assertThat(VolumeParameters.parse(params(), PV, defaultOnDelete).onDelete()).isEqualTo(defaultOnDelete);
        assertThat(VolumeParameters.parse(params("onDelete", ""), PV, defaultOnDelete).onDelete())
                .isEqualTo(defaultOnDelete);
    }

    @ParameterizedTest
    @CsvSource({"delete, DELETE", "retain, RETAIN", "archive, ARCHIVE", "RETAIN, RETAIN", "Archive, ARCHIVE"})
    void parse_onDelete_overridesDefault(String value, OnDelete expected) {
        OnDelete defaultOnDelete = expected == OnDelete.DELETE ? OnDelete.RETAIN : OnDelete.DELETE;

        assertThat(VolumeParameters.parse(params("onDelete", value), PV, defaultOnDelete).onDelete())
                .isEqualTo(expected);
    }

    @ParameterizedTest
    @ValueSource(strings = {"keep", "remove", " delete", "true"})
    void parse_badOnDelete_isInvalidArgumentNamingField(String value) {
        assertInvalidNaming(() -> VolumeParameters.parse(params("onDelete", value), PV, OnDelete.DELETE),
                "parameters.onDelete");
    }

    @ParameterizedTest(name = "\"{0}\" -> {1}")
    @CsvSource({"0, 0", "'', 0", "777, 511", "0770, 504", "2775, 1533", "02775, 1533", "7777, 4095"})
    void parse_mountPermissions_isOctal(String value, int expected) {
        assertThat(VolumeParameters.parse(params("mountPermissions", value), PV, OnDelete.DELETE).mountPermissions())
                .isEqualTo(expected);
    }

    @ParameterizedTest
    @ValueSource(strings = {"999", "8", "abc", "-1", "77777", "0x1ff", "+777"})
    void parse_badMountPermissions_isInvalidArgumentNamingField(String value) {
        assertInvalidNaming(() -> VolumeParameters.parse(params("mountPermissions", value), PV, OnDelete.DELETE),
                "parameters.mountPermissions");
    }

    @ParameterizedTest
    @ValueSource(strings = {"/abs", "..", "../x", "a/../..", "a/..", ".", "./a", "a/.", "a//b", "a/", "a#b",
            "a\0b", "a\nb", "\u007f", "a\uD800"})
    void parse_subDirThatEscapesOrIsMalformed_isInvalidArgumentNamingSubDir(String subDir) {
        assertInvalidNaming(() -> VolumeParameters.parse(params("subDir", subDir), PV, OnDelete.DELETE),
                "parameters.subDir");
    }

    @ParameterizedTest
    @ValueSource(strings = {".nfs-csi", ".nfs-csi/volumes", ".hidden", ".x/data", "${pvc.metadata.namespace}"})
    void parse_hiddenSubDir_isInvalidArgumentNamingSubDir(String subDir) {
        Map<String, String> parameters = params("subDir", subDir, "csi.storage.k8s.io/pvc/namespace", ".nfs-csi");
        assertInvalidNaming(() -> VolumeParameters.parse(parameters, PV, OnDelete.DELETE), "parameters.subDir");
    }

    @Test
    void parse_hiddenPvNameAsDefaultSubDir_isInvalidArgumentNamingSubDir() {
        assertInvalidNaming(() -> VolumeParameters.parse(params(), ".nfs-csi", OnDelete.DELETE), "parameters.subDir");
    }

    @ParameterizedTest
    @ValueSource(strings = {"..", ".", "x/..", "a#b"})
    void parse_templateResolvingToEscape_isInvalidArgumentNamingSubDir(String namespace) {
        Map<String, String> parameters = params("subDir", "${pvc.metadata.namespace}/${pvc.metadata.name}",
                "csi.storage.k8s.io/pvc/name", "data", "csi.storage.k8s.io/pvc/namespace", namespace);

        assertInvalidNaming(() -> VolumeParameters.parse(parameters, PV, OnDelete.DELETE), "parameters.subDir");
    }

    @Test
    void parse_pvNameThatEscapes_isInvalidArgumentNamingSubDir() {
        assertInvalidNaming(() -> VolumeParameters.parse(params(), "..", OnDelete.DELETE), "parameters.subDir");
    }

    @ParameterizedTest(name = "{0}={1}")
    @CsvSource(delimiter = '|', textBlock = """
            server | nfs server
            server | nfs/x
            server | a#b
            server | a,b
            server | [fd00::1
            share  | exports
            share  | /exports/../etc
            share  | /exp#orts
            """)
    void parse_invalidServerOrShare_isInvalidArgumentNamingField(String key, String value) {
        assertInvalidNaming(() -> VolumeParameters.parse(params(key, value), PV, OnDelete.DELETE),
                "parameters." + key);
    }

    @Test
    void constructor_invalidFields_isInvalidArgumentNamingField() {
        assertInvalidNaming(() -> new VolumeParameters("nfs", "/e", null, "a", 010000, OnDelete.DELETE),
                "parameters.mountPermissions");
        assertInvalidNaming(() -> new VolumeParameters("nfs", "/e", null, "a", -1, OnDelete.DELETE),
                "parameters.mountPermissions");
        assertInvalidNaming(() -> new VolumeParameters("nfs", "/e", null, "a", 0, null), "parameters.onDelete");
        assertInvalidNaming(() -> new VolumeParameters("nfs", "/e", null, null, 0, OnDelete.DELETE),
                "parameters.subDir");
        assertInvalidNaming(() -> new VolumeParameters("nfs", null, null, "a", 0, OnDelete.DELETE),
                "parameters.share");
    }

    @Test
    void volumeContext_allSet_holdsEveryKey() {
        VolumeParameters p = VolumeParameters.parse(metadata("subDir", "${pvc.metadata.namespace}/x",
                "mountPermissions", "2775", "onDelete", "archive"), PV, OnDelete.DELETE);

        assertThat(p.volumeContext(List.of("nfsvers=4.1", "hard,noatime", "hard"))).containsExactly(
                entry("server", "nfs.example.com"), entry("share", "/exports"), entry("subDir", "team-a/x"),
                entry("mountPermissions", "2775"), entry("onDelete", "archive"),
                entry("mountOptions", "nfsvers=4.1,hard,noatime"));
    }

    @Test
    void volumeContext_noPermissionsNorFlags_leavesThemOut() {
        VolumeParameters p = VolumeParameters.parse(params(), PV, OnDelete.RETAIN);

        assertThat(p.volumeContext(List.of())).containsOnly(entry("server", "nfs.example.com"),
                entry("share", "/exports"), entry("subDir", PV), entry("onDelete", "retain"));
    }

    @Test
    void volumeContext_smallMode_isZeroPaddedOctalThatParsesBack() {
        VolumeParameters p = VolumeParameters.parse(params("mountPermissions", "770"), PV, OnDelete.DELETE);

        String mode = p.volumeContext(List.of()).get("mountPermissions");
        assertThat(mode).isEqualTo("0770");
        assertThat(VolumeContext.parseMode("volume_context.mountPermissions", mode)).isEqualTo(0770);
    }

    @Test
    void volumeContext_isReadByTheNode() {
        VolumeParameters p = VolumeParameters.parse(params("mountPermissions", "0770", "onDelete", "retain"), PV,
                OnDelete.DELETE);

        VolumeContext context = VolumeContext.parse(p.volumeContext(List.of("nfsvers=4.1")));
        assertThat(context.source()).isEqualTo(p.source());
        assertThat(context.mountPermissions()).isEqualTo(0770);
        assertThat(context.mountOptions()).containsExactly("nfsvers=4.1");
    }

    @Test
    void volumeContext_malformedMountFlag_isInvalidArgument() {
        VolumeParameters p = VolumeParameters.parse(params(), PV, OnDelete.DELETE);

        assertInvalidNaming(() -> p.volumeContext(List.of("bad option")), "mount_flags");
    }

    @Test
    void canonical_isSortedEffectiveParameters() {
        VolumeParameters p = VolumeParameters.parse(metadata("subDir", "${pvc.metadata.name}",
                "csi.storage.k8s.io/provisioner-secret-name", "ignored"), PV, OnDelete.ARCHIVE);

        assertThat(p.canonical()).containsExactly(entry("mountPermissions", "0000"), entry("onDelete", "archive"),
                entry("server", "nfs.example.com"), entry("share", "/exports"), entry("subDir", "data"));
    }

    @Test
    void canonical_sameEffectiveParametersWrittenDifferently_isEqual() {
        VolumeParameters a = VolumeParameters.parse(Map.of("server", "nfs", "share", "/exports/",
                "subDir", "${pvc.metadata.name}", "csi.storage.k8s.io/pvc/name", "data"), PV, OnDelete.DELETE);
        VolumeParameters b = VolumeParameters.parse(Map.of("SERVER", "nfs", "share", "//exports",
                "subDir", "data", "onDelete", "Delete", "mountPermissions", "0"), PV, OnDelete.RETAIN);

        assertThat(a.canonical()).isEqualTo(b.canonical());
    }

    @Test
    void parse_resultFitsAVolumeId() {
        VolumeParameters p = VolumeParameters.parse(metadata("subDir", "${pvc.metadata.namespace}/${pv.metadata.name}"),
                PV, OnDelete.RETAIN);

        VolumeId id = VolumeId.create(p.server(), p.share(), p.subDir(), PV, p.onDelete());
        assertThat(VolumeId.parse(id.format()).source()).isEqualTo(p.source());
    }
}
