package io.nfscsi.mount;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.Optional;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Assume;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/** Properties of mountinfo decoding (kept apart from MountTableTest: jqwik and Jupiter report separately). */
class MountTablePropertiesTest {

    // --- property: unescape inverts the kernel's escaping (fs/proc_namespace.c: mangle() escapes " \t\n\\") ---

    static String kernelEscape(String s) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == ' ' || c == '\t' || c == '\n' || c == '\\') {
                b.append('\\').append(String.format("%03o", (int) c));
            } else {
                b.append(c);
            }
        }
        return b.toString();
    }

    @Provide
    Arbitrary<String> mountPaths() {
        return Arbitraries.oneOf(
                Arbitraries.strings().all().ofMaxLength(40),
                Arbitraries.strings().withChars(" \t\n\\0123478/a-é").ofMaxLength(40),
                Arbitraries.of(" ", "\\", "\\040", "\\\\", "\\134", "\t", "\n", "/", "7", "0", "a")
                        .list().ofMaxSize(12).map(parts -> String.join("", parts)));
    }

    @Property(tries = 2000)
    void unescape_ofKernelEscape_isIdentity(@ForAll("mountPaths") String s) {
        assertThat(MountTable.unescape(kernelEscape(s))).isEqualTo(s);
    }

    @Property(tries = 500, maxDiscardRatio = 10)
    void parse_lineWithKernelEscapedMountPoint_roundTrips(@ForAll("mountPaths") String name) {
        String mountPoint = "/mnt/" + name.replace("\0", "").replace("\r", "");
        Path expected;
        try {
            expected = Path.of(mountPoint);
        } catch (java.nio.file.InvalidPathException e) {
            expected = null;
        }
        // the kernel lists mount points as valid, normalized paths
        Assume.that(expected != null && expected.equals(expected.normalize()));
        String line = "700 28 0:70 / " + kernelEscape(mountPoint) + " rw shared:9 - nfs4 "
                + kernelEscape("srv:" + mountPoint) + " rw,vers=4.2";

        Optional<MountEntry> e = MountTable.parseLine(line);

        assertThat(e).isPresent();
        assertThat(e.get().mountPoint()).isEqualTo(Path.of(mountPoint));
        assertThat(e.get().source()).isEqualTo("srv:" + mountPoint);
        assertThat(MountTable.parse(line).countAt(expected)).isEqualTo(1);
    }
}
