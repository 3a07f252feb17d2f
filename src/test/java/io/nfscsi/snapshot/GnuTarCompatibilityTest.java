package io.nfscsi.snapshot;

import static org.assertj.core.api.Assertions.assertThat;

import io.nfscsi.testing.TestPools;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Our archives against GNU tar and gzip, both ways: csi-driver-nfs's "tar" mode runs {@code tar -C src -czvf
 * out.tar.gz .}, and an administrator may restore a snapshot by hand with {@code tar -xzf}.
 */
@Timeout(120)
class GnuTarCompatibilityTest {

    @TempDir
    Path work;

    Path source;
    Path target;

    @BeforeEach
    void setUp() throws Exception {
        source = Files.createDirectory(work.resolve("source"));
        target = Files.createDirectory(work.resolve("target"));
        Trees.populate(source);
    }

    private Path ourArchive(Compression compression) throws Exception {
        Path archive = work.resolve("ours" + compression.suffix());
        try (OutputStream out = Files.newOutputStream(archive)) {
            Archiver.archive(source, out, compression, TestPools.compressing(2), Progress.NONE);
        }
        return archive;
    }

    private Map<String, Trees.Node> expected(ChronoUnit precision) throws Exception {
        Map<String, Trees.Node> tree = Trees.describe(source, precision);
        tree.remove("fifo");
        return tree;
    }

    @Test
    void gnuTarExtract_ourGzipArchive_restoresTheSameTree() throws Exception {
        Path archive = ourArchive(Compression.GZIP);

        Trees.run(work, "tar", "-C", target.toString(), "-xzf", archive.toString());

        assertThat(Trees.describe(target, ChronoUnit.MICROS)).isEqualTo(expected(ChronoUnit.MICROS));
    }

    @Test
    void gnuTarExtract_ourPlainArchive_restoresTheSameTree() throws Exception {
        Path archive = ourArchive(Compression.NONE);

        Trees.run(work, "tar", "-C", target.toString(), "-xf", archive.toString());

        assertThat(Trees.describe(target, ChronoUnit.MICROS)).isEqualTo(expected(ChronoUnit.MICROS));
    }

    @Test
    void gnuTarList_ourGzipArchive_listsEveryEntryWithoutWarnings() throws Exception {
        Path archive = ourArchive(Compression.GZIP);

        String listing = Trees.run(work, "tar", "-tzvf", archive.toString());

        List<String> lines = listing.lines().toList();
        assertThat(lines).hasSize(expected(ChronoUnit.SECONDS).size());
        assertThat(lines.getFirst()).endsWith(" ./");
        assertThat(listing).contains("hard-a link to dirs/hard-b", "abs-link -> /", Trees.LONG_NAME,
                "1234/5678").doesNotContain("tar:");
    }

    @Test
    void gzipTest_ourMultiMemberOutput_isValid() throws Exception {
        Path archive = ourArchive(Compression.GZIP);

        Trees.run(work, "gzip", "-t", archive.toString());
        String members = Trees.run(work, "sh", "-c", "gzip -lv " + archive + " | tail -1");

        assertThat(members).isNotBlank();
    }

    /**
     * GNU tar's default format stores whole seconds; its pax format, nanoseconds. The FIFO is left out: GNU tar
     * would archive it, and a restore refuses it, as csi-driver-nfs's does.
     */
    @ParameterizedTest
    @ValueSource(strings = {"-czf", "-cf", "--format=posix -czf"})
    void restore_gnuTarArchiveOfDot_restoresTheSameTree(String options) throws Exception {
        Path archive = work.resolve("gnu.tar");
        Trees.run(work, Stream.concat(Stream.of("tar", "-C", source.toString(), "--exclude=./fifo"),
                Stream.concat(Stream.of(options.split(" ")), Stream.of(archive.toString(), "."))).toArray(String[]::new));

        try (InputStream in = Files.newInputStream(archive)) {
            Restorer.restore(in, target, TestPools.shared(), Progress.NONE);
        }

        ChronoUnit precision = options.contains("posix") ? ChronoUnit.MICROS : ChronoUnit.SECONDS;
        assertThat(Trees.describe(target, precision)).isEqualTo(expected(precision));
    }

    @Test
    void restore_gnuTarArchiveOfNamesWithoutDot_restoresTheSameTree() throws Exception {
        Path archive = work.resolve("gnu.tar.gz");
        List<String> names;
        try (Stream<Path> top = Files.list(source)) {
            names = top.map(p -> p.getFileName().toString()).filter(n -> !n.equals("fifo")).sorted().toList();
        }
        Trees.run(work, Stream.concat(Stream.of("tar", "-C", source.toString(), "-czf", archive.toString()),
                names.stream()).toArray(String[]::new));

        try (InputStream in = Files.newInputStream(archive)) {
            Restorer.restore(in, target, TestPools.shared(), Progress.NONE);
        }

        Map<String, Trees.Node> restored = Trees.describe(target, ChronoUnit.SECONDS);
        Map<String, Trees.Node> expected = expected(ChronoUnit.SECONDS);
        restored.remove(""); // no "./" entry: the target keeps its own mode, owner and time
        expected.remove("");
        assertThat(restored).isEqualTo(expected);
    }

    @Test
    void restore_gzipOfConcatenatedMembers_readsEveryMember() throws Exception {
        Path plain = ourArchive(Compression.NONE);
        // Cut the tar in two and gzip each half on its own: a two-member file, as pigz or "cat a.gz b.gz" make.
        Path archive = work.resolve("two-members.tar.gz");
        Trees.run(work, "sh", "-c", "head -c 1000000 " + plain + " | gzip -c > " + archive
                + " && tail -c +1000001 " + plain + " | gzip -c >> " + archive);

        try (InputStream in = Files.newInputStream(archive)) {
            Restorer.restore(in, target, TestPools.shared(), Progress.NONE);
        }

        assertThat(Trees.describe(target, ChronoUnit.MICROS)).isEqualTo(expected(ChronoUnit.MICROS));
    }
}
