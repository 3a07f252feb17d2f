package io.nfscsi.volume;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.nfscsi.error.CsiException;
import java.nio.file.Path;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class SharePatternTest {

    @ParameterizedTest(name = "{0} vs {1}:{2} + {3} -> {4}")
    @CsvSource(delimiter = '|', nullValues = "NULL", textBlock = """
            nfs.example.com:/exports        | nfs.example.com          | /exports        | NULL        | true
            nfs.example.com:/exports        | NFS.Example.COM          | /exports/       | NULL        | true
            nfs.example.com:/exports/       | nfs.example.com          | //exports//./   | NULL        | true
            nfs.example.com:/exports        | nfs.example.com          | /exports        | a           | false
            nfs.example.com:/exports        | nfs.example.com          | /               | exports     | true
            nfs.example.com:/exports/**     | nfs.example.com          | /exports        | a/b         | true
            nfs.example.com:/exports/**     | nfs.example.com          | /exports        | NULL        | true
            nfs.example.com:/exports/**     | nfs.example.com          | /               | exports/a   | true
            nfs.example.com:/exports/**     | nfs.example.com          | /exports2       | NULL        | false
            nfs.example.com:/exports/**     | nfs.example.com          | /               | NULL        | false
            nfs.example.com:/exports/**     | nfs.example.com          | /srv            | exports     | false
            nfs.example.com:/exports/**     | other.example.com        | /exports        | NULL        | false
            nfs.example.com:/exports/**     | nfs.example.com.evil.org | /exports        | NULL        | false
            nfs.example.com:/exports/**     | nfs                      | /exports        | NULL        | false
            nfs.example.com:/home/*/data    | nfs.example.com          | /home/alice     | data        | true
            nfs.example.com:/home/*/data    | nfs.example.com          | /home/data      | NULL        | false
            nfs.example.com:/home/*/data    | nfs.example.com          | /home/a/b/data  | NULL        | false
            nfs.example.com:/home/*         | nfs.example.com          | /home           | alice/      | true
            nfs.example.com:/home/*         | nfs.example.com          | /home           | NULL        | false
            nfs.example.com:/**             | nfs.example.com          | /               | NULL        | true
            nfs.example.com:/               | nfs.example.com          | /a              | NULL        | false
            *.example.com:/x                | a.example.com            | /x              | NULL        | true
            *.Example.com:/x                | A.EXAMPLE.com            | /x              | NULL        | true
            *.example.com:/x                | example.com              | /x              | NULL        | false
            *.example.com:/x                | a.b.example.com          | /x              | NULL        | false
            *.example.com:/x                | aexample.com             | /x              | NULL        | false
            *:/x                            | 10.0.0.1                 | /x              | NULL        | true
            *:/x                            | [fd00::1]                | /x              | NULL        | true
            *:/x                            | 10.0.0.1                 | /y              | NULL        | false
            [fd00::1]:/x                    | fd00:0::1                | /x              | NULL        | true
            fd00::1:/x                      | [FD00::1]                | /x              | NULL        | true
            fd00::1:/x                      | fd00::2                  | /x              | NULL        | false
            10.0.0.1:/x                     | 10.0.0.1                 | /x              | NULL        | true
            10.0.0.1:/x                     | 010.0.0.1                | /x              | NULL        | false
            10.0.0.1:/x                     | ::ffff:a00:1             | /x              | NULL        | true
            """)
    void matches_effectivePathAndServer(String pattern, String server, String share, String subDir,
                                        boolean expected) {
        assertThat(SharePattern.parse(pattern).matches(NfsSource.of(server, share, subDir))).isEqualTo(expected);
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "nfs", ":/a", "nfs:a", "nfs:/a/../b", "nfs:/a/**/b", "nfs:/a*", "nfs:/**x",
            "a.*.com:/a", "*a.com:/x", "*.0.0.1:/x", "*.:/x", "nfs x:/a", "nfs:/a\u0000", "[fd00::1:/x"})
    void parse_malformed_isIllegalArgument(String text) {
        assertThatThrownBy(() -> SharePattern.parse(text)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageNotContaining("null");
    }

    @Test
    void allowedShares_parse_namesTheFlagAndTheEntry() {
        assertThatThrownBy(() -> AllowedShares.parse("--inline-allowed-shares", List.of("a:/x, b:/../y")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("--inline-allowed-shares entry \"b:/../y\"");
    }

    @Test
    void allowedShares_firstMatchingPatternIsNamed_andNoneAllowsNothing() {
        AllowedShares shares = AllowedShares.parse("f", List.of("a.example.com:/x, *:/x/**", ""));
        NfsSource source = NfsSource.of("a.example.com", "/x", "y");

        assertThat(shares.allowing(source)).map(SharePattern::format).hasValue("*:/x/**");
        assertThat(AllowedShares.NONE.allowing(source)).isEmpty();
        assertThat(AllowedShares.parse("f", List.of(" , ")).isEmpty()).isTrue();
    }

    // --- properties ---

    private static final List<String> BASE = List.of("exports", "inline");

    /** Path pieces a hostile pod author would try: dots, empty segments, look-alike names. */
    @Provide
    Arbitrary<String> hostilePath() {
        Arbitrary<String> segment = Arbitraries.of("..", ".", "", "exports", "inline", "inline2", "secret", "a",
                "...", ".a", "*", "**");
        Arbitrary<String> sep = Arbitraries.of("/", "//", "/./");
        return Arbitraries.oneOf(segment, sep).list().ofMaxSize(10).map(l -> String.join("", l));
    }

    @Property(tries = 3000)
    void noShareOrSubDir_escapesAnAllowedSubtree(@ForAll("hostilePath") String share,
                                                 @ForAll("hostilePath") String subDir) {
        SharePattern pattern = SharePattern.parse("nfs.example.com:/exports/inline/**");
        NfsSource source;
        try {
            source = NfsSource.of("nfs.example.com", "/" + share, subDir);
        } catch (CsiException.InvalidArgument refused) {
            return;
        }
        // what a POSIX path walk from the server's root reaches, '..' and all, computed apart from NfsSource
        Path walked = Path.of("/").resolve(share).resolve(subDir.replaceAll("^/+", "")).normalize();
        boolean inside = walked.startsWith(Path.of("/", BASE.toArray(String[]::new)));

        assertThat(pattern.matches(source)).as("%s (walks to %s)", source, walked).isEqualTo(inside);
    }

    @Provide
    Arbitrary<SharePattern> patterns() {
        Arbitrary<String> server = Arbitraries.of("*", "*.example.com", "nfs.example.com", "10.0.0.1", "[fd00::1]",
                "fd00::1", "NFS.EXAMPLE.COM");
        Arbitrary<String> path = Arbitraries.of("a", "b-c", "*", "d_e", ".x").list().ofMaxSize(4)
                .map(l -> "/" + String.join("/", l));
        Arbitrary<String> tail = Arbitraries.of("", "/", "/**");
        return net.jqwik.api.Combinators.combine(server, path, tail)
                .as((s, p, t) -> SharePattern.parse(s + ":" + (p.equals("/") && t.equals("/**") ? "" : p) + t));
    }

    @Property(tries = 1000)
    void format_parse_roundTrips(@ForAll("patterns") SharePattern pattern) {
        assertThat(SharePattern.parse(pattern.format())).isEqualTo(pattern);
    }

    @Property(tries = 1000)
    void parse_anyText_succeedsOrIsIllegalArgument(@ForAll String text) {
        try {
            SharePattern.parse(text);
        } catch (IllegalArgumentException expected) {
            assertThat(expected.getMessage()).isNotBlank();
        }
    }
}
