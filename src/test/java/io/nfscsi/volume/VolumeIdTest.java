package io.nfscsi.volume;

import static io.nfscsi.volume.NfsSourceTest.assertInvalidNaming;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.NullAndEmptySource;
import org.junit.jupiter.params.provider.ValueSource;

class VolumeIdTest {

    private static final String PV = "pvc-4bcbf944-b6f7-4bd0-b50f-3c3dd00efc64";
    private static final String SAMPLE =
            "nfs-csi:1#nfs.example.com#/exports#team-a/data-pvc#pvc-4bcbf944-b6f7-4bd0-b50f-3c3dd00efc64#archive";

    static void assertInvalidId(ThrowingCallable call, String field) {
        VolumeId.InvalidException e = catchThrowableOfType(VolumeId.InvalidException.class, call);
        assertThat(e).as("expected VolumeId.InvalidException").isNotNull();
        assertThat(e.field()).isEqualTo(field);
        assertThat(e.getMessage()).startsWith(field);
    }

    // ---- our format ----

    @ParameterizedTest
    @ValueSource(strings = {"nfs-csi:1#nfs#/exports#.nfs-csi#pv#delete", "nfs-csi:1#nfs#/exports#.nfs-csi/volumes#pv#delete",
            "nfs-csi:1#nfs#/exports#.hidden/data#pv#retain", "nfs#exports#.nfs-csi#pv#delete", "nfs#exports#/.nfs-csi",
            "nfs/exports/.nfs-csi"})
    void parse_hiddenSubDir_isInvalidAndReserved(String text) {
        assertInvalidId(() -> VolumeId.parse(text), "subDir");
        assertThat(catchThrowableOfType(VolumeId.InvalidException.class, () -> VolumeId.parse(text)).reserved())
                .isTrue();
    }

    @ParameterizedTest
    @ValueSource(strings = {"nfs-csi:1#nfs#/exports#a/.b#pv#delete", "nfs-csi:1#nfs#/exports#a.b#pv#delete",
            "nfs-csi:1#nfs#/exports#ns/.nfs-csi#pv#delete"})
    void parse_dotBelowTheFirstSegmentOrInsideAName_isAccepted(String text) {
        assertThat(VolumeId.parse(text).format()).isEqualTo(text);
    }

    @Test
    void parse_otherInvalidField_isNotReserved() {
        assertThat(catchThrowableOfType(VolumeId.InvalidException.class,
                () -> VolumeId.parse("nfs-csi:1#nfs#/exports#../x#pv#delete")).reserved()).isFalse();
    }

    @Test
    void create_sampleFields_formatsSample() {
        VolumeId id = VolumeId.create("nfs.example.com", "/exports", "team-a/data-pvc", PV, OnDelete.ARCHIVE);

        assertThat(id.format()).isEqualTo(SAMPLE);
        assertThat(id.toString()).isEqualTo(SAMPLE);
        assertThat(id.legacy()).isFalse();
        assertThat(id.original()).isNull();
    }

    @Test
    void parse_sample_readsEveryField() {
        VolumeId id = VolumeId.parse(SAMPLE);

        assertThat(id).isEqualTo(new VolumeId("nfs.example.com", "/exports", "team-a/data-pvc", PV,
                OnDelete.ARCHIVE, false));
        assertThat(id.source().format()).isEqualTo("nfs.example.com:/exports/team-a/data-pvc");
        assertThat(id.shareSource().format()).isEqualTo("nfs.example.com:/exports");
    }

    @Test
    void create_shareNotNormalized_isNormalized() {
        VolumeId id = VolumeId.create("nfs", "//exports/./k8s/", "a", "pv", OnDelete.DELETE);

        assertThat(id.share()).isEqualTo("/exports/k8s");
        assertThat(id.format()).isEqualTo("nfs-csi:1#nfs#/exports/k8s#a#pv#delete");
    }

    @ParameterizedTest
    @EnumSource(OnDelete.class)
    void create_eachOnDelete_roundTrips(OnDelete onDelete) {
        VolumeId id = VolumeId.create("nfs", "/", "pv", "pv", onDelete);

        assertThat(id.format()).isEqualTo("nfs-csi:1#nfs#/#pv#pv#" + onDelete.value());
        assertThat(VolumeId.parse(id.format())).isEqualTo(id);
    }

    @ParameterizedTest
    @ValueSource(strings = {"fd00::1", "[fd00::1]", "::1", "10.0.0.1"})
    void parse_ipAddressServerInOurs_roundTrips(String server) {
        String text = "nfs-csi:1#" + server + "#/exports#a#pv-1#delete";
        VolumeId id = VolumeId.parse(text);

        assertThat(id.server()).isEqualTo(server);
        assertThat(id.format()).isEqualTo(text);
        assertThat(id.source().path()).isEqualTo("/exports/a");
    }

    @Test
    void parse_ipv6ServerInOurs_sourceHasBrackets() {
        VolumeId id = VolumeId.parse("nfs-csi:1#fd00::1#/exports#ns/pvc-1#pvc-1#retain");

        assertThat(id.source().format()).isEqualTo("[fd00::1]:/exports/ns/pvc-1");
        assertThat(id.shareSource().format()).isEqualTo("[fd00::1]:/exports");
        assertThat(id.onDelete()).isEqualTo(OnDelete.RETAIN);
    }

    // ---- csi-driver-nfs formats ----

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', nullValues = "NULL", textBlock = """
            nfs-server.default.svc.cluster.local#share#pvc-4bcbf944-b6f7-4bd0-b50f-3c3dd00efc64        | nfs-server.default.svc.cluster.local | /share       | pvc-4bcbf944-b6f7-4bd0-b50f-3c3dd00efc64 | ''    | NULL
            nfs-server.default.svc.cluster.local#share#subdir#pvc-4bcbf944-b6f7-4bd0-b50f-3c3dd00efc64 | nfs-server.default.svc.cluster.local | /share       | subdir                                   | pvc-4bcbf944-b6f7-4bd0-b50f-3c3dd00efc64 | NULL
            10.0.0.1#exports/k8s#ns/pvc-a#pvc-a#retain                                                 | 10.0.0.1                             | /exports/k8s | ns/pvc-a                                 | pvc-a | RETAIN
            10.0.0.1#exports#pvc-b##delete                                                             | 10.0.0.1                             | /exports     | pvc-b                                    | ''    | DELETE
            10.0.0.1#exports#pvc-c#pvc-c#Archive                                                       | 10.0.0.1                             | /exports     | pvc-c                                    | pvc-c | ARCHIVE
            10.0.0.1#exports#pvc-d##                                                                   | 10.0.0.1                             | /exports     | pvc-d                                    | ''    | NULL
            10.0.0.1##pvc-e                                                                            | 10.0.0.1                             | /            | pvc-e                                    | ''    | NULL
            10.0.0.1#/exports/#/a/b/#pv                                                                | 10.0.0.1                             | /exports     | a/b                                      | pv    | NULL
            fd00::1#exports#pvc-f                                                                      | fd00::1                              | /exports     | pvc-f                                    | ''    | NULL
            nfs-server.default.svc.cluster.local/share/pvc-4bcbf944-b6f7-4bd0-b50f-3c3dd00efc64        | nfs-server.default.svc.cluster.local | /share       | pvc-4bcbf944-b6f7-4bd0-b50f-3c3dd00efc64 | ''    | NULL
            nfs/exports/k8s/pvc-g                                                                      | nfs                                  | /exports/k8s | pvc-g                                    | ''    | NULL
            nfs//pvc-h                                                                                 | nfs                                  | /            | pvc-h                                    | ''    | NULL
            """)
    void parse_csiDriverNfsId_readsFieldsAndFormatsOriginal(String text, String server, String share, String subDir,
                                                            String name, OnDelete onDelete) {
        VolumeId id = VolumeId.parse(text);

        assertThat(id.legacy()).isTrue();
        assertThat(id.server()).isEqualTo(server);
        assertThat(id.share()).isEqualTo(share);
        assertThat(id.subDir()).isEqualTo(subDir);
        assertThat(id.name()).isEqualTo(name);
        assertThat(id.onDelete()).isEqualTo(onDelete);
        assertThat(id.original()).isEqualTo(text);
        assertThat(id.format()).isEqualTo(text);
        assertThat(VolumeId.parse(id.format())).isEqualTo(id);
    }

    @Test
    void parse_csiDriverNfsSample_sourceIsShareAndSubDir() {
        VolumeId id = VolumeId.parse("nfs-server.default.svc.cluster.local#share#subdir#" + PV);

        assertThat(id.source().format()).isEqualTo("nfs-server.default.svc.cluster.local:/share/subdir");
        assertThat(id.shareSource().format()).isEqualTo("nfs-server.default.svc.cluster.local:/share");
    }

    @Test
    void legacyConstructorWithoutOriginal_recreatesFiveSegmentForm() {
        VolumeId id = new VolumeId("10.0.0.1", "/exports/k8s", "ns/pvc-a", "pvc-a", OnDelete.RETAIN, true);

        assertThat(id.format()).isEqualTo("10.0.0.1#exports/k8s#ns/pvc-a#pvc-a#retain");
        assertThat(VolumeId.parse(id.format())).isEqualTo(id);
        assertThat(new VolumeId("nfs", "/", "a", "", null, true).format()).isEqualTo("nfs##a##");
    }

    @Test
    void constructor_originalNotMatchingFields_isInvalid() {
        assertInvalidId(() -> new VolumeId("nfs", "/exports", "a", "", null, true, "nfs#exports#b"), "original");
        assertInvalidId(() -> new VolumeId("nfs", "/exports", "a", "", null, true, null), "original");
        assertInvalidId(() -> new VolumeId("nfs", "/exports", "a", "pv", OnDelete.DELETE, false, "nfs#exports#a"),
                "original");
    }

    @Test
    void constructor_legacyOriginalInOurFormat_isInvalid() {
        assertInvalidId(() -> new VolumeId("nfs-csi:1", "/e", "a", "", null, true), "original");
    }

    // ---- invalid IDs ----

    @ParameterizedTest
    @NullAndEmptySource
    void parse_nullOrEmpty_isInvalid(String text) {
        assertInvalidId(() -> VolumeId.parse(text), "volume_id");
    }

    @ParameterizedTest
    @ValueSource(strings = {"nfs-csi:2#nfs#/exports#a#pv#delete", "nfs-csi:10#x", "nfs-csi:x#nfs#/e#a#pv#delete",
            "nfs-csi:#nfs#/e#a#pv#delete", "nfs-csi:01#nfs#/e#a#pv#delete", "nfs-csi:1 #nfs#/e#a#pv#delete",
            "nfs-csi:", "nfs-csi:1/a/b"})
    void parse_unknownVersion_isInvalidNamingVersion(String text) {
        assertInvalidId(() -> VolumeId.parse(text), "version");
    }

    @ParameterizedTest
    @ValueSource(strings = {"nfs-csi:1", "nfs-csi:1#nfs", "nfs-csi:1#nfs#/e#a#pv", "nfs-csi:1#nfs#/e#a#pv#delete#x",
            "nfs#exports", "a#b#c#d#e#f", "nfs", "nfs/pvc", "/exports/pvc", "nfs/exports/", "#"})
    void parse_wrongNumberOfSegments_isInvalid(String text) {
        assertInvalidId(() -> VolumeId.parse(text), "volume_id");
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource(delimiter = '|', textBlock = """
            nfs-csi:1##/e#a#pv#delete                | server
            nfs-csi:1#nfs server#/e#a#pv#delete      | server
            nfs-csi:1#nfs<NBSP>x#/e#a#pv#delete      | server
            nfs-csi:1#a,b#/e#a#pv#delete             | server
            nfs-csi:1#[fd00::1#/e#a#pv#delete        | server
            nfs-csi:1#nfs<NUL>#/e#a#pv#delete       | server
            nfs-csi:1#nfs<NEL>#/e#a#pv#delete       | server
            nfs-csi:1#..#/e#a#pv#delete              | server
            nfs-csi:1#nfs#e#a#pv#delete              | share
            nfs-csi:1#nfs##a#pv#delete               | share
            nfs-csi:1#nfs#/e/#a#pv#delete            | share
            nfs-csi:1#nfs#//e#a#pv#delete            | share
            nfs-csi:1#nfs#/e/./f#a#pv#delete         | share
            nfs-csi:1#nfs#/e/../f#a#pv#delete        | share
            nfs-csi:1#nfs#/..#a#pv#delete            | share
            nfs-csi:1#nfs#/e<SOH>#a#pv#delete       | share
            nfs-csi:1#nfs#/e##pv#delete              | subDir
            nfs-csi:1#nfs#/e#/a#pv#delete            | subDir
            nfs-csi:1#nfs#/e#a/#pv#delete            | subDir
            nfs-csi:1#nfs#/e#a//b#pv#delete          | subDir
            nfs-csi:1#nfs#/e#.#pv#delete             | subDir
            nfs-csi:1#nfs#/e#./a#pv#delete           | subDir
            nfs-csi:1#nfs#/e#a/.#pv#delete           | subDir
            nfs-csi:1#nfs#/e#..#pv#delete            | subDir
            nfs-csi:1#nfs#/e#../a#pv#delete          | subDir
            nfs-csi:1#nfs#/e#a/../..#pv#delete       | subDir
            nfs-csi:1#nfs#/e#a<LF>b#pv#delete          | subDir
            nfs-csi:1#nfs#/e#a<DEL>#pv#delete       | subDir
            nfs-csi:1#nfs#/e#a#<SUR>#delete         | name
            nfs-csi:1#nfs#/e#a##delete               | name
            nfs-csi:1#nfs#/e#a#p/v#delete            | name
            nfs-csi:1#nfs#/e#a#..#delete             | name
            nfs-csi:1#nfs#/e#a#p<TAB>v#delete           | name
            nfs-csi:1#nfs#/e#a#pv#                   | onDelete
            nfs-csi:1#nfs#/e#a#pv#Delete             | onDelete
            nfs-csi:1#nfs#/e#a#pv#keep               | onDelete
            """)
    void parse_ourFormatWithInvalidField_isInvalidNamingField(String text, String field) {
        assertInvalidId(() -> VolumeId.parse(unescape(text)), field);
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource(delimiter = '|', textBlock = """
            #exports#pvc                   | server
            nfs x#exports#pvc              | server
            ..#exports#pvc                 | server
            nfs#exports/../etc#pvc         | share
            nfs#..#pvc                     | share
            nfs#exports<NUL>#pvc          | share
            nfs#exports#                   | subDir
            nfs#exports#/                  | subDir
            nfs#exports###                 | subDir
            nfs#exports#..                 | subDir
            nfs#exports#a/../..            | subDir
            nfs#exports#.                  | subDir
            nfs#exports#a//b               | subDir
            nfs#exports#a<LF>b               | subDir
            nfs#exports#pvc#..             | name
            nfs#exports#pvc#a/b            | name
            nfs#exports#pvc#pvc#bogus      | onDelete
            nfs#exports#pvc#pvc#retain<LF>   | onDelete
            ../exports/pvc                 | server
            nfs/../pvc                     | share
            nfs/exports/../pvc             | share
            nfs/exports/..                 | subDir
            nfs/exports/.                  | subDir
            nfs/exports/a<NUL>            | subDir
            """)
    void parse_csiDriverNfsFormatWithInvalidField_isInvalidNamingField(String text, String field) {
        assertInvalidId(() -> VolumeId.parse(unescape(text)), field);
    }

    @ParameterizedTest
    @ValueSource(strings = {"nfs-csi:1#nfs#/e##pv#delete", "nfs#exports#", "nfs#exports##pv#retain", "nfs##/#pv",
            "nfs#/#//"})
    void parse_emptySubDir_isInvalidNamingSubDir(String text) {
        assertInvalidId(() -> VolumeId.parse(text), "subDir");
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', nullValues = "NULL", textBlock = """
            server   | NULL   | /e      | a      | pv      | DELETE
            server   | ''     | /e      | a      | pv      | DELETE
            server   | n#s    | /e      | a      | pv      | DELETE
            server   | n/s    | /e      | a      | pv      | DELETE
            share    | nfs    | NULL    | a      | pv      | DELETE
            share    | nfs    | /e#x    | a      | pv      | DELETE
            share    | nfs    | e       | a      | pv      | DELETE
            share    | nfs    | /e/..   | a      | pv      | DELETE
            subDir   | nfs    | /e      | NULL   | pv      | DELETE
            subDir   | nfs    | /e      | ''     | pv      | DELETE
            subDir   | nfs    | /e      | a#b    | pv      | DELETE
            subDir   | nfs    | /e      | a/..   | pv      | DELETE
            name     | nfs    | /e      | a      | NULL    | DELETE
            name     | nfs    | /e      | a      | ''      | DELETE
            name     | nfs    | /e      | a      | p#v     | DELETE
            onDelete | nfs    | /e      | a      | pv      | NULL
            """)
    void create_invalidField_isInvalidNamingField(String field, String server, String share, String subDir,
                                                  String name, OnDelete onDelete) {
        assertInvalidId(() -> VolumeId.create(server, share, subDir, name, onDelete), field);
    }

    @Test
    void invalidException_isIllegalArgumentException() {
        assertThat(catchThrowableOfType(IllegalArgumentException.class, () -> VolumeId.parse("x")))
                .isInstanceOf(VolumeId.InvalidException.class);
    }

    // ---- OnDelete ----

    @ParameterizedTest
    @CsvSource({"delete, DELETE", "DELETE, DELETE", "Retain, RETAIN", "retain, RETAIN", "ARCHIVE, ARCHIVE",
            "arCHive, ARCHIVE"})
    void onDeleteParse_anyLetterCase_readsPolicy(String value, OnDelete expected) {
        assertThat(OnDelete.parse("parameters.onDelete", value)).isEqualTo(expected);
    }

    @ParameterizedTest
    @ValueSource(strings = {"", " delete", "remove", "archİve", "archıve", "deleted", "\0"})
    void onDeleteParse_otherValue_isInvalidArgumentNamingFieldAndValues(String value) {
        assertInvalidNaming(() -> OnDelete.parse("parameters.onDelete", value), "parameters.onDelete");
        assertInvalidNaming(() -> OnDelete.parse("parameters.onDelete", value), "delete, retain, archive");
    }

    @Test
    void onDeleteParse_null_isInvalidArgument() {
        assertInvalidNaming(() -> OnDelete.parse("f", null), "f");
    }

    @Test
    void onDeleteValue_isLowerCase() {
        assertThat(OnDelete.DELETE.value()).isEqualTo("delete");
        assertThat(OnDelete.RETAIN.value()).isEqualTo("retain");
        assertThat(OnDelete.ARCHIVE.value()).isEqualTo("archive");
    }

    /** Turns the placeholders in the tables above into the characters they stand for. */
    private static String unescape(String s) {
        return s.replace("<NUL>", "\0").replace("<SOH>", "\u0001").replace("<TAB>", "\t").replace("<LF>", "\n")
                .replace("<DEL>", "\u007f").replace("<NEL>", "\u0085").replace("<NBSP>", "\u00a0")
                .replace("<SUR>", "\uD800");
    }
}
