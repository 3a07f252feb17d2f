package io.nfscsi.volume;

import static io.nfscsi.volume.NfsSourceTest.assertInvalidNaming;
import static org.assertj.core.api.Assertions.assertThat;

import io.nfscsi.csi.v1.Csi;
import io.nfscsi.csi.v1.Csi.VolumeCapability.AccessMode.Mode;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.NullAndEmptySource;
import org.junit.jupiter.params.provider.ValueSource;

class RequestFieldsTest {

    private static final String CAP = "volume_capability";

    @Test
    void required_present_returnsValue() {
        assertThat(RequestFields.required("volume_id", "vol-1")).isEqualTo("vol-1");
    }

    @ParameterizedTest
    @NullAndEmptySource
    void required_nullOrEmpty_isInvalidArgumentNamingField(String value) {
        assertInvalidNaming(() -> RequestFields.required("volume_id", value), "volume_id");
    }

    @ParameterizedTest
    @CsvSource({
            "/var/lib/kubelet/pods/x/volumes, /var/lib/kubelet/pods/x/volumes",
            "/var/lib//kubelet/, /var/lib/kubelet",
            "/, /",
            "/a/.../b, /a/.../b",
            "/a/..b/c., /a/..b/c."})
    void absolutePath_absolute_isNormalizedPath(String value, String expected) {
        assertThat(RequestFields.absolutePath("target_path", value)).isEqualTo(Path.of(expected));
    }

    @ParameterizedTest
    @ValueSource(strings = {"/var/../etc", "/..", "/var/lib/..", "/a/./b", "/.", "relative/path", "./x", "../x",
            "x", "/var/lib\0/x", "\0", " /var"})
    void absolutePath_dotDotNulOrRelative_isInvalidArgumentNamingField(String value) {
        assertInvalidNaming(() -> RequestFields.absolutePath("target_path", value), "target_path");
    }

    @ParameterizedTest
    @NullAndEmptySource
    void absolutePath_nullOrEmpty_isInvalidArgumentNamingField(String value) {
        assertInvalidNaming(() -> RequestFields.absolutePath("staging_target_path", value), "staging_target_path");
    }

    @ParameterizedTest
    @EnumSource(value = Mode.class, names = {"UNKNOWN", "UNRECOGNIZED"}, mode = EnumSource.Mode.EXCLUDE)
    void mountCapability_mountWithKnownMode_returnsMount(Mode mode) {
        Csi.VolumeCapability cap = Csi.VolumeCapability.newBuilder()
                .setMount(Csi.VolumeCapability.MountVolume.newBuilder().addMountFlags("hard").setFsType("nfs"))
                .setAccessMode(Csi.VolumeCapability.AccessMode.newBuilder().setMode(mode))
                .build();

        Csi.VolumeCapability.MountVolume mount = RequestFields.mountCapability(cap, CAP);

        assertThat(mount.getMountFlagsList()).containsExactly("hard");
        assertThat(mount.getFsType()).isEqualTo("nfs");
    }

    @Test
    void mountCapability_block_isInvalidArgumentNamingField() {
        Csi.VolumeCapability cap = Csi.VolumeCapability.newBuilder()
                .setBlock(Csi.VolumeCapability.BlockVolume.getDefaultInstance())
                .setAccessMode(accessMode(Mode.SINGLE_NODE_WRITER))
                .build();

        assertInvalidNaming(() -> RequestFields.mountCapability(cap, CAP), CAP);
    }

    @Test
    void mountCapability_noAccessType_isInvalidArgumentNamingField() {
        Csi.VolumeCapability cap = Csi.VolumeCapability.newBuilder()
                .setAccessMode(accessMode(Mode.SINGLE_NODE_WRITER))
                .build();

        assertInvalidNaming(() -> RequestFields.mountCapability(cap, CAP), CAP + ".access_type");
    }

    @Test
    void mountCapability_noAccessMode_isInvalidArgumentNamingField() {
        Csi.VolumeCapability cap = Csi.VolumeCapability.newBuilder()
                .setMount(Csi.VolumeCapability.MountVolume.getDefaultInstance())
                .build();

        assertInvalidNaming(() -> RequestFields.mountCapability(cap, CAP), CAP + ".access_mode");
    }

    @Test
    void mountCapability_unknownAccessMode_isInvalidArgumentNamingField() {
        Csi.VolumeCapability cap = Csi.VolumeCapability.newBuilder()
                .setMount(Csi.VolumeCapability.MountVolume.getDefaultInstance())
                .setAccessMode(accessMode(Mode.UNKNOWN))
                .build();

        assertInvalidNaming(() -> RequestFields.mountCapability(cap, CAP), CAP + ".access_mode");
    }

    @Test
    void mountCapability_unrecognizedAccessModeNumber_isInvalidArgumentNamingField() {
        Csi.VolumeCapability cap = Csi.VolumeCapability.newBuilder()
                .setMount(Csi.VolumeCapability.MountVolume.getDefaultInstance())
                .setAccessMode(Csi.VolumeCapability.AccessMode.newBuilder().setModeValue(99))
                .build();

        assertInvalidNaming(() -> RequestFields.mountCapability(cap, "volume_capabilities[2]"),
                "volume_capabilities[2].access_mode");
    }

    private static Csi.VolumeCapability.AccessMode accessMode(Mode mode) {
        return Csi.VolumeCapability.AccessMode.newBuilder().setMode(mode).build();
    }
}
