package io.nfscsi.volume;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.grpc.Status;
import io.nfscsi.error.CsiException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class NfsSourceTest {

    @ParameterizedTest(name = "{0} {1} {2} -> {3}")
    @CsvSource(delimiter = '|', nullValues = "NULL", textBlock = """
            nfs.example.com | /export       | NULL      | nfs.example.com:/export
            nfs.example.com | /export/      | NULL      | nfs.example.com:/export
            nfs.example.com | //export//a// | NULL      | nfs.example.com:/export/a
            nfs.example.com | /export/./a   | NULL      | nfs.example.com:/export/a
            nfs.example.com | /             | NULL      | nfs.example.com:/
            nfs.example.com | /export       | ''        | nfs.example.com:/export
            nfs.example.com | /export       | pvc-1     | nfs.example.com:/export/pvc-1
            nfs.example.com | /export       | /pvc-1    | nfs.example.com:/export/pvc-1
            nfs.example.com | /export/      | a/b/      | nfs.example.com:/export/a/b
            10.0.0.1        | /srv/nfs      | x         | 10.0.0.1:/srv/nfs/x
            fd00::1         | /export       | NULL      | [fd00::1]:/export
            [fd00::1]       | /export       | NULL      | [fd00::1]:/export
            ::1             | /             | v         | [::1]:/v
            """)
    void of_validParts_formatsMountSource(String server, String share, String subDir, String expected) {
        NfsSource source = NfsSource.of(server, share, subDir);

        assertThat(source.format()).isEqualTo(expected);
        assertThat(source.toString()).isEqualTo(expected);
    }

    @ParameterizedTest
    @CsvSource({"nfs.example.com, nfs.example.com", "10.0.0.1, 10.0.0.1", "fd00::1, [fd00::1]",
            "[fd00::1], [fd00::1]", "::1, [::1]"})
    void host_ipv6GetsBracketsOnce_othersUnchanged(String server, String host) {
        assertThat(NfsSource.of(server, "/export", null).host()).isEqualTo(host);
    }

    @Test
    void of_keepsServerAsGiven() {
        NfsSource source = NfsSource.of("fd00::1", "/export", "sub");

        assertThat(source.server()).isEqualTo("fd00::1");
        assertThat(source.path()).isEqualTo("/export/sub");
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "nfs.example.com:/export", "nfs.example.com:/export/", "nfs.example.com:/export//",
            "nfs.example.com://export", "NFS.Example.COM:/export", "nfs.example.com:/./export"})
    void matches_equivalentMountTableSource_isTrue(String mountSource) {
        assertThat(NfsSource.of("nfs.example.com", "/export", null).matches(mountSource)).isTrue();
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "nfs.example.com:/export/other", "nfs.example.com:/exp", "nfs.example.com:/", "other:/export",
            "nfs.example.com", "/export", "nfs.example.com:export", "", "nfs.example.com.evil:/export"})
    void matches_differentSource_isFalse(String mountSource) {
        assertThat(NfsSource.of("nfs.example.com", "/export", null).matches(mountSource)).isFalse();
    }

    @Test
    void matches_nfs4FormOfSubDirectory_isTrue() {
        NfsSource source = NfsSource.of("127.0.0.1", "/export", "pvc-1");

        assertThat(source.matches("127.0.0.1:/export/pvc-1")).isTrue();
        assertThat(source.matches("127.0.0.1:/export/pvc-1/")).isTrue();
        assertThat(source.matches("127.0.0.1:/export")).isFalse();
    }

    @ParameterizedTest
    @ValueSource(strings = {"fd00::1", "[fd00::1]"})
    void matches_bracketedIpv6MountTableSource_isTrue(String server) {
        NfsSource source = NfsSource.of(server, "/export", null);

        assertThat(source.matches("[fd00::1]:/export")).isTrue();
        assertThat(source.matches("[fd00::1]:/export/")).isTrue();
        assertThat(source.matches("[fd00::2]:/export")).isFalse();
    }

    @Test
    void matches_shareContainingColonSlash_matchesOwnFormat() {
        NfsSource source = NfsSource.of("nfs.example.com", "/a:/b", null);

        assertThat(source.matches(source.format())).isTrue();
    }

    @Test
    void matches_mountTableSourceWithDotDot_isFalseNotThrown() {
        NfsSource source = NfsSource.of("nfs.example.com", "/export", null);

        assertThat(source.matches("nfs.example.com:/export/../etc")).isFalse();
    }

    @ParameterizedTest
    @ValueSource(strings = {"/export/..", "/../etc", "/export/../etc", "/a/b/../../.."})
    void of_shareWithDotDot_isInvalidArgumentNamingShare(String share) {
        assertInvalidNaming(() -> NfsSource.of("nfs", share, null), "share");
    }

    @ParameterizedTest
    @ValueSource(strings = {"..", "../x", "a/../..", "/..", "a/.."})
    void of_subDirWithDotDot_isInvalidArgumentNamingSubDir(String subDir) {
        assertInvalidNaming(() -> NfsSource.of("nfs", "/export", subDir), "subDir");
    }

    @ParameterizedTest
    @ValueSource(strings = {"/export\0", "/ex\0port", "/export\n", "/export\tx", "/export\u007f", "/\u001b[31m"})
    void of_shareWithNulOrControlCharacter_isInvalidArgumentNamingShare(String share) {
        assertInvalidNaming(() -> NfsSource.of("nfs", share, null), "share");
    }

    @ParameterizedTest
    @ValueSource(strings = {"a\0b", "a\nb", "a\rb", "\u0001", "x\u007f"})
    void of_subDirWithNulOrControlCharacter_isInvalidArgumentNamingSubDir(String subDir) {
        assertInvalidNaming(() -> NfsSource.of("nfs", "/export", subDir), "subDir");
    }

    @ParameterizedTest
    @ValueSource(strings = {"/", "//", "///"})
    void of_subDirNamingNoDirectory_isInvalidArgumentNamingSubDir(String subDir) {
        assertInvalidNaming(() -> NfsSource.of("nfs", "/export", subDir), "subDir");
    }

    @ParameterizedTest
    @ValueSource(strings = {"export", "export/a", "./export", "~/export", " /export"})
    void of_relativeShare_isInvalidArgumentNamingShare(String share) {
        assertInvalidNaming(() -> NfsSource.of("nfs", share, null), "share");
    }

    @Test
    void of_emptyOrNullShare_isInvalidArgumentNamingShare() {
        assertInvalidNaming(() -> NfsSource.of("nfs", "", null), "share");
        assertInvalidNaming(() -> NfsSource.of("nfs", null, null), "share");
    }

    @ParameterizedTest
    @ValueSource(strings = {"", " ", "\t"})
    void of_emptyServer_isInvalidArgumentNamingServer(String server) {
        assertInvalidNaming(() -> NfsSource.of(server, "/export", null), "server");
    }

    @Test
    void of_nullServer_isInvalidArgumentNamingServer() {
        assertInvalidNaming(() -> NfsSource.of(null, "/export", null), "server");
    }

    @ParameterizedTest
    @ValueSource(strings = {"nfs server", "nfs\0", "nfs\n", "a/b", "a,b", "nfs\u007f", "[fd00::1", "fd00::1]"})
    void of_malformedServer_isInvalidArgumentNamingServer(String server) {
        assertInvalidNaming(() -> NfsSource.of(server, "/export", null), "server");
    }

    @Test
    void constructor_relativePath_isInvalidArgument() {
        assertThatThrownBy(() -> new NfsSource("nfs", "export"))
                .isInstanceOfSatisfying(CsiException.InvalidArgument.class,
                        e -> assertThat(e.code()).isEqualTo(Status.Code.INVALID_ARGUMENT));
        assertThatThrownBy(() -> new NfsSource("nfs", null)).isInstanceOf(CsiException.InvalidArgument.class);
    }

    @Test
    void printable_controlCharacters_areHexEscaped() {
        assertThat(NfsSource.printable("a\0b\nc\u007fé")).isEqualTo("a\\x00b\\x0ac\\x7fé");
    }

    static void assertInvalidNaming(org.assertj.core.api.ThrowableAssert.ThrowingCallable call, String field) {
        CsiException.InvalidArgument e = catchThrowableOfType(CsiException.InvalidArgument.class, call);
        assertThat(e).as("expected InvalidArgument").isNotNull();
        assertThat(e.code()).isEqualTo(Status.Code.INVALID_ARGUMENT);
        assertThat(e.getMessage()).contains(field);
    }
}
