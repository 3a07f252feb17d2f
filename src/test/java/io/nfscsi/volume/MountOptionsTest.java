package io.nfscsi.volume;

import static io.nfscsi.volume.NfsSourceTest.assertInvalidNaming;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class MountOptionsTest {

    private static final String FLAGS = "volume_capability.mount.mount_flags";
    private static final String ATTRIBUTE = "volume_context.mountOptions";

    @Test
    void merge_nothing_isEmpty() {
        assertThat(MountOptions.merge(List.of(), List.of(), false)).isEmpty();
    }

    @Test
    void merge_flagsThenAttributes_keepsFirstSeenOrderWithoutDuplicates() {
        List<String> merged = MountOptions.merge(List.of("hard", "nfsvers=4.1", "hard"),
                List.of("nfsvers=4.1", "timeo=600", "hard", "noresvport"), false);

        assertThat(merged).containsExactly("hard", "nfsvers=4.1", "timeo=600", "noresvport");
    }

    @Test
    void merge_commaListsInsideMountFlags_areSplitAndStripped() {
        List<String> merged = MountOptions.merge(List.of("hard, nfsvers=4.1", ",,timeo=600,", " proto=tcp "),
                List.of(), false);

        assertThat(merged).containsExactly("hard", "nfsvers=4.1", "timeo=600", "proto=tcp");
    }

    @Test
    void merge_readOnly_addsRoAtTheEndAndDropsRw() {
        List<String> merged = MountOptions.merge(List.of("rw", "hard"), List.of("rw", "nfsvers=3"), true);

        assertThat(merged).containsExactly("hard", "nfsvers=3", "ro");
    }

    @Test
    void merge_readOnlyWithRoAlreadyPresent_keepsOneRo() {
        List<String> merged = MountOptions.merge(List.of("ro", "hard"), List.of("ro"), true);

        assertThat(merged).containsExactly("ro", "hard");
    }

    @Test
    void merge_notReadOnly_keepsRwAndAddsNoRo() {
        List<String> merged = MountOptions.merge(List.of("rw"), List.of("hard"), false);

        assertThat(merged).containsExactly("rw", "hard");
    }

    @Test
    void merge_result_isImmutable() {
        List<String> merged = MountOptions.merge(List.of("hard"), List.of(), true);

        org.assertj.core.api.Assertions.assertThatThrownBy(() -> merged.add("soft"))
                .isInstanceOf(UnsupportedOperationException.class);
    }

    @ParameterizedTest
    @ValueSource(strings = {"=4", "-o", "hard soft", "nfsvers =4", "a\u007fb", "é", "/etc/passwd", "!x", ".hidden"})
    void merge_malformedMountFlag_isInvalidArgumentNamingField(String flag) {
        assertInvalidNaming(() -> MountOptions.merge(List.of("hard", flag), List.of(), false), FLAGS);
    }

    @ParameterizedTest
    @ValueSource(strings = {"hard\nsoft", "hard\0", "hard\r", "\n", "a=b\0c"})
    void merge_mountFlagWithNewlineOrNul_isInvalidArgumentNamingField(String flag) {
        assertInvalidNaming(() -> MountOptions.merge(List.of(flag), List.of(), false), FLAGS);
    }

    @ParameterizedTest
    @ValueSource(strings = {"hard", "nfsvers=4.1", "sec=krb5p", "proto=tcp6", "addr=fd00::1", "_netdev",
            "context=system_u:object_r:nfs_t:s0", "lookupcache=none", "x-systemd.automount", "port=", "0"})
    void split_wellFormedOption_isKept(String option) {
        assertThat(MountOptions.split(ATTRIBUTE, option)).containsExactly(option);
    }

    @Test
    void split_commaList_dedupesKeepingOrderAndSkipsBlanks() {
        assertThat(MountOptions.split(ATTRIBUTE, " hard ,, nfsvers=3 ,hard,  ,ro"))
                .containsExactly("hard", "nfsvers=3", "ro");
    }

    @ParameterizedTest
    @ValueSource(strings = {"", ",", " , ,"})
    void split_blankList_isEmpty(String csv) {
        assertThat(MountOptions.split(ATTRIBUTE, csv)).isEmpty();
    }

    @ParameterizedTest
    @ValueSource(strings = {"hard,=x", "hard,soft hard", "a\nb", "a\0", "x\r\n", "--bind", "hard,;rm"})
    void split_malformed_isInvalidArgumentNamingField(String csv) {
        assertInvalidNaming(() -> MountOptions.split(ATTRIBUTE, csv), ATTRIBUTE);
    }

    @ParameterizedTest
    @ValueSource(strings = {"a,b c,SENTINEL-x1", "ok,SENTINEL-x1 y", "=SENTINEL-x1", "SENTINEL-x1\n", "!SENTINEL-x1",
            "SENTINEL/x1", "hard,,SENTINEL-x1=a b"})
    void split_malformed_namesTheEntryByPositionNeverByValue(String csv) {
        var e = org.assertj.core.api.Assertions.catchThrowableOfType(io.nfscsi.error.CsiException.class,
                () -> MountOptions.split("secrets.mountOptions", csv));

        assertThat(e).isNotNull();
        assertThat(e.getMessage()).startsWith("secrets.mountOptions").doesNotContain("SENTINEL").doesNotContain("x1");
    }

    @Test
    void split_malformed_countsEntriesFromOne() {
        var e = org.assertj.core.api.Assertions.catchThrowableOfType(io.nfscsi.error.CsiException.class,
                () -> MountOptions.split(ATTRIBUTE, "hard,,b c"));

        assertThat(e.getMessage()).contains("entry 3 of 3");
    }

    @ParameterizedTest
    @ValueSource(strings = {"vers=9", "nfsvers=4.5", "vers=", "NFSVERS=v4", "vers=4.1.1"})
    void split_unknownNfsVersion_isInvalidArgument(String option) {
        assertInvalidNaming(() -> MountOptions.split(ATTRIBUTE, "hard," + option), ATTRIBUTE);
    }

    @ParameterizedTest
    @ValueSource(strings = {"vers=3", "nfsvers=4", "vers=4.0", "vers=4.1", "NFSVERS=4.2", "vers=2"})
    void split_knownNfsVersion_isKept(String option) {
        assertThat(MountOptions.split(ATTRIBUTE, option)).containsExactly(option);
    }
}
