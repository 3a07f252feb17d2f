package io.nfscsi.volume;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.nfscsi.error.CsiException;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class MutableParametersTest {

    @Test
    void parse_keysInAnyLetterCase_readsEachValue() {
        var m = MutableParameters.parse("mutable_parameters", Map.of("MountOptions", "nfsvers=4.1, noac",
                "ONDELETE", "Retain", "mountpermissions", "2775"));
        assertThat(m.mountOptions()).contains(List.of("nfsvers=4.1", "noac"));
        assertThat(m.onDelete()).contains(OnDelete.RETAIN);
        assertThat(m.mountPermissions()).hasValue(02775);
        assertThat(m.isEmpty()).isFalse();
    }

    @Test
    void parse_empty_changesNothing() {
        var m = MutableParameters.parse("mutable_parameters", Map.of());
        assertThat(m.isEmpty()).isTrue();
        var now = new MutableParameters.Settings(List.of("hard"), OnDelete.DELETE, 0750);
        assertThat(m.applyTo(now, List.of("hard"))).isEqualTo(now);
    }

    @ParameterizedTest(name = "{0}={1}")
    @CsvSource(delimiter = '|', value = {
            "iops|100", "subDir|other", "server|nfs.example.com", "csi.storage.k8s.io/pv/name|pv-1",
            "mountOptions|a b", "mountOptions|vers=5", "mountOptions|=x", "onDelete|shred",
            "mountPermissions|999", "mountPermissions|rwx"})
    void parse_unknownKeyOrBadValue_isInvalidArgumentNamingTheKey(String key, String value) {
        assertThatThrownBy(() -> MutableParameters.parse("mutable_parameters", Map.of(key, value)))
                .isInstanceOf(CsiException.InvalidArgument.class)
                .hasMessageContaining(key);
    }

    @Test
    void parse_keyTwiceInOtherCase_isInvalidArgument() {
        assertThatThrownBy(() -> MutableParameters.parse("mutable_parameters",
                Map.of("onDelete", "retain", "ondelete", "delete")))
                .isInstanceOf(CsiException.InvalidArgument.class);
    }

    @Test
    void applyTo_replacesNamedOptionsOfTheCreatedOnes_andKeepsTheRest() {
        var created = List.of("nfsvers=4.1", "hard", "noac");
        var now = new MutableParameters.Settings(List.of("nfsvers=4.1", "hard", "noac", "actimeo=3"),
                OnDelete.DELETE, 0);
        var m = new MutableParameters(Optional.of(List.of("nfsvers=4.2", "rsize=65536")), Optional.empty(),
                OptionalInt.empty());
        var after = m.applyTo(now, created);
        // actimeo=3 came from an earlier class: the latest class decides, on top of what the volume was made with
        assertThat(after.mountOptions()).containsExactly("hard", "noac", "nfsvers=4.2", "rsize=65536");
        assertThat(after.onDelete()).isEqualTo(OnDelete.DELETE);
        assertThat(after.mountPermissions()).isZero();
    }

    @Test
    void overlay_sameNameOnce_lastSourceWins() {
        assertThat(MountOptions.overlay(List.of("vers=3", "hard", "timeo=600"), List.of("vers=4.2", "timeo=10")))
                .containsExactly("hard", "vers=4.2", "timeo=10");
        assertThat(MountOptions.overlay(List.of("hard"), List.of())).containsExactly("hard");
    }
}
