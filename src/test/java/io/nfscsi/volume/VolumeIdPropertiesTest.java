package io.nfscsi.volume;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/** Whatever a request carries as volume_id, parsing either succeeds or fails with InvalidException; a success is safe. */
class VolumeIdPropertiesTest {

    private static final List<String> FRAGMENTS = List.of(
            "nfs-csi:1#", "nfs-csi:2#", "nfs-csi:", "nfs-csi:1", "#", "##", "/", "//", ".", "..", "...", "a", "pvc-1",
            "nfs.example.com", "10.0.0.1", "fd00::1", "[fd00::1]", "exports", "/exports", "delete", "retain",
            "Archive", ":", "[", "]", " ", ",", "\0", "\n", "\t", "\u0085", "\u007f", "\u00a0", "é", "日本",
            "\uD83D\uDE00", "\uD800", "%2e%2e", "\\");

    private static final List<String> SAMPLES = List.of(
            "nfs-csi:1#nfs.example.com#/exports#team-a/data-pvc#pvc-4bcbf944-b6f7-4bd0-b50f-3c3dd00efc64#archive",
            "nfs-csi:1#fd00::1#/exports#a#pv#delete",
            "nfs-server.default.svc.cluster.local#share#pvc-4bcbf944-b6f7-4bd0-b50f-3c3dd00efc64",
            "nfs-server.default.svc.cluster.local#share#subdir#pvc-4bcbf944-b6f7-4bd0-b50f-3c3dd00efc64",
            "10.0.0.1#exports/k8s#ns/pvc-a#pvc-a#retain",
            "10.0.0.1#exports#pvc-b##delete",
            "nfs-server.default.svc.cluster.local/share/pvc-4bcbf944-b6f7-4bd0-b50f-3c3dd00efc64");

    @Provide
    Arbitrary<String> garbage() {
        Arbitrary<String> fragments = Arbitraries.of(FRAGMENTS).list().ofMaxSize(12)
                .map(parts -> String.join("", parts));
        Arbitrary<String> segmented = Arbitraries.oneOf(fragments, Arbitraries.strings().withChars("a./:").ofMaxLength(6))
                .list().ofMinSize(1).ofMaxSize(7).map(parts -> String.join("#", parts));
        Arbitrary<String> mutated = Combinators.combine(Arbitraries.of(SAMPLES), Arbitraries.integers().between(0, 200),
                        Arbitraries.of(FRAGMENTS), Arbitraries.integers().between(0, 3))
                .as((sample, at, insert, cut) -> {
                    int i = Math.min(at, sample.length());
                    return sample.substring(0, i) + insert + sample.substring(Math.min(sample.length(), i + cut));
                });
        return Arbitraries.oneOf(fragments, segmented, mutated, Arbitraries.of(SAMPLES),
                Arbitraries.strings().all().ofMaxLength(40),
                Arbitraries.strings().withChars("#/.:an\0").ofMaxLength(16));
    }

    @Property(tries = 5000)
    void parse_anyString_succeedsOrIsInvalidException(@ForAll("garbage") String text) {
        try {
            VolumeId.parse(text);
        } catch (VolumeId.InvalidException expected) {
            assertThat(expected.field()).isNotBlank();
            assertThat(expected.getMessage()).startsWith(expected.field());
        }
    }

    @Property(tries = 5000)
    void parse_success_formatsToTheSameStringAndParsesToAnEqualId(@ForAll("garbage") String text) {
        VolumeId id;
        try {
            id = VolumeId.parse(text);
        } catch (VolumeId.InvalidException e) {
            return;
        }
        assertThat(id.format()).isEqualTo(text);
        assertThat(VolumeId.parse(id.format())).isEqualTo(id);
        assertThat(id.legacy()).isEqualTo(!text.startsWith(VolumeId.PREFIX));
    }

    @Property(tries = 5000)
    void parse_success_staysBelowTheShare(@ForAll("garbage") String text) {
        VolumeId id;
        try {
            id = VolumeId.parse(text);
        } catch (VolumeId.InvalidException e) {
            return;
        }
        assertThat(id.subDir()).isNotEmpty().doesNotStartWith("/");
        assertThat(id.subDir().split("/", -1)).doesNotContain("..", ".", "");
        assertThat(id.subDir()).as("hidden directories, the driver's metadata among them, are never volumes")
                .doesNotStartWith(".");
        String source = id.source().format();
        assertThat(source).doesNotContain("/../").doesNotEndWith("/..").doesNotContain("\0");
        String below = id.share().equals("/") ? "/" : id.share() + "/";
        assertThat(id.source().path()).startsWith(below).isNotEqualTo(id.share());
        assertThat(id.shareSource().path()).isEqualTo(id.share());
    }

    @Property(tries = 2000)
    void create_hiddenFirstSegment_isReservedInvalid(@ForAll("segments") String first, @ForAll("subDirs") String rest) {
        String subDir = "." + first + "/" + rest;
        assertThatThrownBy(() -> VolumeId.create("nfs", "/exports", subDir, "pv", OnDelete.DELETE))
                .isInstanceOfSatisfying(VolumeId.InvalidException.class, e -> {
                    assertThat(e.field()).isEqualTo("subDir");
                    assertThat(e.reserved()).isTrue();
                });
    }

    @Provide
    Arbitrary<String> servers() {
        Arbitrary<String> label = Arbitraries.strings().withChars("abcdefghijklmnopqrstuvwxyz0123456789-")
                .ofMinLength(1).ofMaxLength(12);
        Arbitrary<String> host = label.list().ofMinSize(1).ofMaxSize(4).map(l -> String.join(".", l));
        Arbitrary<String> ipv4 = Arbitraries.integers().between(0, 255).list().ofSize(4)
                .map(l -> String.join(".", l.stream().map(String::valueOf).toList()));
        Arbitrary<String> ipv6 = Arbitraries.strings().withChars("0123456789abcdef").ofMinLength(1).ofMaxLength(4)
                .list().ofMinSize(2).ofMaxSize(8).map(l -> String.join(":", l));
        return Arbitraries.oneOf(host, ipv4, ipv6, ipv6.map(s -> "[" + s + "]"), ipv6.map(s -> "::" + s));
    }

    @Provide
    Arbitrary<String> segments() {
        // anything but '/', '#', control characters and lone surrogates, never "." or ".."
        return Arbitraries.strings().withCharRange(' ', '~').withChars("é日本\u00a0").excludeChars('/', '#')
                .ofMinLength(1).ofMaxLength(10).filter(s -> !s.equals(".") && !s.equals(".."));
    }

    @Provide
    Arbitrary<String> shares() {
        return segments().list().ofMaxSize(4).map(l -> "/" + String.join("/", l));
    }

    @Provide
    Arbitrary<String> subDirs() {
        return segments().list().ofMinSize(1).ofMaxSize(4).map(l -> String.join("/", l))
                .filter(s -> !s.startsWith("."));
    }

    @Property(tries = 3000)
    void create_validFields_roundTripsThroughFormatAndParse(@ForAll("servers") String server,
                                                            @ForAll("shares") String share,
                                                            @ForAll("subDirs") String subDir,
                                                            @ForAll("segments") String name,
                                                            @ForAll OnDelete onDelete) {
        VolumeId id = VolumeId.create(server, share, subDir, name, onDelete);

        VolumeId parsed = VolumeId.parse(id.format());
        assertThat(parsed).isEqualTo(id);
        assertThat(parsed.format()).isEqualTo(id.format());
        assertThat(parsed.legacy()).isFalse();
        assertThat(parsed.source()).isEqualTo(NfsSource.of(server, share, subDir));
    }

    @Property(tries = 3000)
    void legacyConstructor_validFields_roundTripsThroughFormatAndParse(@ForAll("servers") String server,
                                                                      @ForAll("shares") String share,
                                                                      @ForAll("subDirs") String subDir,
                                                                      @ForAll("segments") String name) {
        VolumeId id = new VolumeId(server, share, subDir, name, null, true);

        assertThat(VolumeId.parse(id.format())).isEqualTo(id);
    }

    @Property(tries = 3000)
    void create_anyFields_succeedsOrIsInvalidException(@ForAll("garbage") String server,
                                                       @ForAll("garbage") String share,
                                                       @ForAll("garbage") String subDir,
                                                       @ForAll("garbage") String name) {
        try {
            VolumeId id = VolumeId.create(server, share, subDir, name, OnDelete.DELETE);
            assertThat(VolumeId.parse(id.format())).isEqualTo(id);
        } catch (VolumeId.InvalidException expected) {
            assertThat(expected.getMessage()).startsWith(expected.field());
        }
    }
}
