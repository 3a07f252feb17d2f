package io.nfscsi.volume;

import static org.assertj.core.api.Assertions.assertThat;

import io.nfscsi.error.CsiException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Assume;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/** Whatever a request carries, parsing either succeeds or fails with InvalidArgument; a success is safe. */
class VolumePropertiesTest {

    private static final List<String> FRAGMENTS = List.of(
            "/", "//", ".", "..", "...", "a", "export", "pvc-1", ":", "::1", "fd00", "[", "]", " ", ",", "=",
            "\0", "\n", "\t", "\r", "\u001b", "\u007f", "é", "日本", "\u2028", "\uD83D\uDE00", "\uD800", "%2e%2e",
            "\\", "ro", "nfsvers=4.1");

    @Provide
    Arbitrary<String> pathLike() {
        Arbitrary<String> fragments = Arbitraries.of(FRAGMENTS).list().ofMaxSize(10)
                .map(parts -> String.join("", parts));
        return Arbitraries.oneOf(fragments, Arbitraries.strings().all().ofMaxLength(20),
                Arbitraries.strings().withChars("/.a:\0\n").ofMaxLength(12));
    }

    @Provide
    Arbitrary<String> nullablePathLike() {
        return pathLike().injectNull(0.05);
    }

    @Property(tries = 2000)
    void nfsSourceOf_anyInput_succeedsOrIsInvalidArgument(@ForAll("nullablePathLike") String server,
                                                          @ForAll("nullablePathLike") String share,
                                                          @ForAll("nullablePathLike") String subDir) {
        try {
            NfsSource.of(server, share, subDir);
        } catch (CsiException.InvalidArgument expected) {
            assertThat(expected.getMessage()).isNotBlank();
        }
    }

    @Provide
    Arbitrary<String> servers() {
        return Arbitraries.oneOf(
                Arbitraries.of("nfs", "nfs.example.com", "10.0.0.1", "fd00::1", "[fd00::1]", "::1", "日本.example"),
                pathLike());
    }

    @Provide
    Arbitrary<String> shares() {
        return pathLike().map(s -> "/" + s);
    }

    @Property(tries = 2000, maxDiscardRatio = 20)
    void nfsSourceOf_success_formatHasNoDotDotNorNulAndMatchesItself(@ForAll("servers") String server,
                                                                      @ForAll("shares") String share,
                                                                      @ForAll("nullablePathLike") String subDir) {
        NfsSource source;
        try {
            source = NfsSource.of(server, share, subDir);
        } catch (CsiException.InvalidArgument e) {
            Assume.that(false);
            return;
        }
        String formatted = source.format();
        assertThat(formatted).doesNotContain("/../").doesNotContain("\0").doesNotEndWith("/..");
        assertThat(source.path()).startsWith("/").doesNotContain("//");
        assertThat(source.matches(formatted)).isTrue();
    }

    @Provide
    Arbitrary<Map<String, String>> volumeContexts() {
        Arbitrary<String> keys = Arbitraries.oneOf(
                Arbitraries.of("server", "SERVER", "share", "Share", "subDir", "subdir", "mountOptions",
                        "MOUNTOPTIONS", "mountPermissions", "csi.storage.k8s.io/pod.name", "bogus", ""),
                Arbitraries.strings().all().ofMaxLength(12));
        Arbitrary<String> values = Arbitraries.oneOf(pathLike(),
                Arbitraries.of("0", "2775", "0777", "999", "-1", "77777", "+7", "nfsvers=4.1,hard", "nfs", "/export"));
        return Arbitraries.maps(keys, values).ofMaxSize(6).map(LinkedHashMap::new);
    }

    @Property(tries = 3000)
    void volumeContextParse_anyAttributes_succeedsOrIsInvalidArgument(
            @ForAll("volumeContexts") Map<String, String> attributes) {
        try {
            VolumeContext context = VolumeContext.parse(attributes);
            assertThat(context.source().format()).doesNotContain("/../").doesNotContain("\0");
            assertThat(context.mountPermissions()).isBetween(0, 07777);
            assertThat(context.mountOptions()).allSatisfy(o -> assertThat(o).doesNotContain(",", "\n", "\0"));
        } catch (CsiException.InvalidArgument expected) {
            assertThat(expected.getMessage()).isNotBlank();
        }
    }

    @Property(tries = 1000)
    void volumeContextParse_validServerShareAndAnything_succeedsOrIsInvalidArgument(
            @ForAll("pathLike") String subDir, @ForAll("pathLike") String options, @ForAll("pathLike") String mode) {
        Map<String, String> attributes = Map.of("server", "nfs.example.com", "share", "/export", "subDir", subDir,
                "mountOptions", options, "mountPermissions", mode);
        try {
            VolumeContext context = VolumeContext.parse(attributes);
            assertThat(context.source().path()).startsWith("/export");
        } catch (CsiException.InvalidArgument expected) {
            assertThat(expected.getMessage()).isNotBlank();
        }
    }

    @Property(tries = 1000)
    void mountOptionsSplit_anyInput_succeedsOrIsInvalidArgumentNamingField(@ForAll("pathLike") String csv) {
        try {
            List<String> options = MountOptions.split("volume_context.mountOptions", csv);
            assertThat(options).doesNotHaveDuplicates()
                    .allSatisfy(o -> assertThat(o).isNotBlank().doesNotContain(",", " ", "\n", "\0"));
        } catch (CsiException.InvalidArgument expected) {
            assertThat(expected.getMessage()).contains("volume_context.mountOptions");
        }
    }
}
