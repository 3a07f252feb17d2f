package io.nfscsi.snapshot;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.nfscsi.testing.TestPools;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.RandomAccessFile;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

@Timeout(120)
class RoundTripTest {

    /** commons-compress writes pax times with seven decimals. */
    private static final ChronoUnit ARCHIVE_PRECISION = ChronoUnit.MICROS;

    @TempDir
    Path source;

    @TempDir
    Path target;

    private static byte[] archive(Path dir, Compression compression) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        Archiver.archive(dir, out, compression, TestPools.compressing(2), Progress.NONE);
        return out.toByteArray();
    }

    private static Map<String, Trees.Node> withoutFifo(Map<String, Trees.Node> tree) {
        tree.remove("fifo");
        return tree;
    }

    @ParameterizedTest
    @EnumSource(Compression.class)
    void archiveThenRestore_everyKindOfEntry_restoresContentsAndMetadata(Compression compression) throws Exception {
        assumeTrue(compression != Compression.ZSTD || Trees.zstdLoads(), "zstd-jni's native library does not load");
        Trees.populate(source);
        ByteArrayOutputStream out = new ByteArrayOutputStream();

        Archiver.Result archived = Archiver.archive(source, out, compression, TestPools.compressing(2), Progress.NONE);
        Restorer.Result restored = Restorer.restore(new ByteArrayInputStream(out.toByteArray()), target, TestPools.shared(),
                Progress.NONE);

        assertThat(Trees.describe(target, ARCHIVE_PRECISION))
                .isEqualTo(withoutFifo(Trees.describe(source, ARCHIVE_PRECISION)));
        long expectedEntries = Trees.describe(source, ARCHIVE_PRECISION).size() - 1; // all but the FIFO
        assertThat(archived).isEqualTo(new Archiver.Result(expectedEntries, archived.bytes(), 1));
        assertThat(restored).isEqualTo(new Restorer.Result(expectedEntries, archived.bytes()));
        assertThat(archived.bytes()).isEqualTo(3 * 1024 * 1024 + 17 + 5 + 11 + 20 + 7 + 13 + 10 + 8 + 5);
    }

    @Test
    void restore_hardLinkPair_sharesOneInode() throws Exception {
        Trees.populate(source);

        Restorer.restore(new ByteArrayInputStream(archive(source, Compression.GZIP)), target, TestPools.shared(), Progress.NONE);

        Object a = Files.getAttribute(target.resolve("hard-a"), "unix:ino", LinkOption.NOFOLLOW_LINKS);
        Object b = Files.getAttribute(target.resolve("dirs/hard-b"), "unix:ino", LinkOption.NOFOLLOW_LINKS);
        assertThat(a).isEqualTo(b);
        assertThat(Files.getAttribute(target.resolve("hard-a"), "unix:nlink")).isEqualTo(2);
    }

    @Test
    void archive_entries_volumeDirectoryFirstThenParentsBeforeChildren() throws Exception {
        Trees.populate(source);

        List<TarArchiveEntry> entries = entries(archive(source, Compression.NONE));

        assertThat(entries.getFirst().getName()).isEqualTo("./");
        List<String> names = entries.stream().map(TarArchiveEntry::getName).toList();
        for (String name : names.subList(1, names.size())) {
            assertThat(name).doesNotStartWith("/").doesNotStartWith("./");
            String parent = name.replaceAll("/$", "");
            parent = parent.contains("/") ? parent.substring(0, parent.lastIndexOf('/') + 1) : null;
            if (parent != null) {
                assertThat(names.indexOf(parent)).as("parent of %s", name).isBetween(0, names.indexOf(name));
            }
        }
        TarArchiveEntry link = entries.stream().filter(e -> e.getName().equals("hard-a")
                || e.getName().equals("dirs/hard-b")).filter(TarArchiveEntry::isLink).findFirst().orElseThrow();
        assertThat(link.getName()).isEqualTo("hard-a"); // "dirs/" sorts first: its hard-b is the file
        assertThat(link.getLinkName()).isEqualTo("dirs/hard-b");
        assertThat(entries).allSatisfy(e -> {
            assertThat(e.getUserName()).isEmpty();
            assertThat(e.getGroupName()).isEmpty();
        });
    }

    @Test
    void archive_fifoAndSocketless_skipsTheFifoAndCountsIt() throws Exception {
        Trees.run(source, "mkfifo", "pipe");
        Files.writeString(source.resolve("file"), "x");

        Archiver.Result result = Archiver.archive(source, OutputStream.nullOutputStream(), Compression.NONE, TestPools.compressing(1),
                Progress.NONE);

        assertThat(result).isEqualTo(new Archiver.Result(2, 1, 1));
    }

    @Test
    void archive_nameThatIsNotUtf8_isSkippedAndCounted() throws Exception {
        Trees.run(source, "bash", "-c", "touch $'caf\\xe9' plain");

        byte[] tar = archive(source, Compression.NONE);

        assertThat(entries(tar)).extracting(TarArchiveEntry::getName).containsExactly("./", "plain");
        assertThat(Archiver.archive(source, OutputStream.nullOutputStream(), Compression.NONE, TestPools.compressing(1), Progress.NONE))
                .isEqualTo(new Archiver.Result(2, 0, 1));
    }

    @Test
    void restore_targetNotEmpty_isRefusedBeforeReading() throws Exception {
        Files.writeString(source.resolve("file"), "x");
        Files.writeString(target.resolve("already-here"), "y");

        DirectoryNotEmptyException e = catchThrowableOfType(DirectoryNotEmptyException.class,
                () -> Restorer.restore(new ByteArrayInputStream(archive(source, Compression.GZIP)), target, TestPools.shared(),
                        Progress.NONE));

        assertThat(e).isNotNull();
        assertThat(target.resolve("file")).doesNotExist();
    }

    @Test
    void archiveThenRestore_emptyVolume_roundTrips() throws Exception {
        byte[] gz = archive(source, Compression.GZIP);

        Restorer.Result result = Restorer.restore(new ByteArrayInputStream(gz), target, TestPools.shared(), Progress.NONE);

        assertThat(result).isEqualTo(new Restorer.Result(1, 0));
        assertThat(Trees.describe(target, ARCHIVE_PRECISION)).isEqualTo(Trees.describe(source, ARCHIVE_PRECISION));
    }

    @Test
    void archiveThenRestore_treeDeeperThanTheOpenDirectoryBudget_roundTrips() throws Exception {
        Path dir = source;
        for (int i = 0; i < Archiver.OPEN_DIRECTORIES + 72; i++) {
            dir = Files.createDirectory(dir.resolve("d"));
            Files.writeString(dir.resolve("a" + i), "before " + i); // visited before "d"
            Files.writeString(dir.resolve("z" + i), "after " + i); // visited after returning from "d"
        }
        Trees.setOldTimes(source);

        Archiver.Result archived = Archiver.archive(source, new ByteArrayOutputStream(), Compression.NONE, TestPools.compressing(1),
                Progress.NONE);
        Restorer.restore(new ByteArrayInputStream(archive(source, Compression.GZIP)), target, TestPools.shared(), Progress.NONE);

        assertThat(archived.entries()).isEqualTo(1 + 3L * (Archiver.OPEN_DIRECTORIES + 72));
        assertThat(Trees.describe(target, ARCHIVE_PRECISION)).isEqualTo(Trees.describe(source, ARCHIVE_PRECISION));
    }

    @Test
    void archive_entriesVanishingWhileArchiving_areSkipped() throws Exception {
        int files = Archiver.PROGRESS_ENTRIES + 500;
        for (int i = 0; i < files; i++) {
            Files.writeString(source.resolve("f%05d".formatted(i)), "x");
        }
        Files.createDirectories(source.resolve("zz-dir/sub"));
        Files.writeString(source.resolve("zz-dir/sub/file"), "gone");
        List<Long> reports = new ArrayList<>();
        Progress deleteLaterEntries = (entries, bytes) -> {
            if (reports.isEmpty()) {
                try {
                    // Listed already, not yet visited: the walk finds them gone.
                    for (int i = files - 100; i < files; i++) {
                        Files.delete(source.resolve("f%05d".formatted(i)));
                    }
                    Files.delete(source.resolve("zz-dir/sub/file"));
                    Files.delete(source.resolve("zz-dir/sub"));
                    Files.delete(source.resolve("zz-dir"));
                } catch (IOException e) {
                    throw new AssertionError(e);
                }
            }
            reports.add(entries);
        };
        ByteArrayOutputStream out = new ByteArrayOutputStream();

        Archiver.Result result = Archiver.archive(source, out, Compression.GZIP, TestPools.compressing(2), deleteLaterEntries);

        assertThat(result).isEqualTo(new Archiver.Result(1 + files - 100, files - 100, 101));
        assertThat(reports).first().isEqualTo((long) Archiver.PROGRESS_ENTRIES);
        assertThat(reports).last().isEqualTo(result.entries());
        Restorer.restore(new ByteArrayInputStream(out.toByteArray()), target, TestPools.shared(), Progress.NONE);
        Map<String, Trees.Node> restored = Trees.describe(target, ARCHIVE_PRECISION);
        Map<String, Trees.Node> remaining = Trees.describe(source, ARCHIVE_PRECISION);
        restored.remove(""); // the deletions moved the volume directory's time after it was archived
        remaining.remove("");
        assertThat(restored.keySet()).isEqualTo(remaining.keySet());
        assertThat(restored).isEqualTo(remaining);
    }

    @Test
    void archive_fileShrinkingWhileRead_isPaddedAndLaterEntriesSurvive() throws Exception {
        long size = Archiver.PROGRESS_BYTES + (16 << 20);
        try (RandomAccessFile f = new RandomAccessFile(source.resolve("big").toFile(), "rw")) {
            f.setLength(size); // sparse: zeros that cost no disk
        }
        Files.writeString(source.resolve("later"), "still here");
        Progress truncate = (entries, bytes) -> {
            if (bytes > 0 && bytes < size) {
                try (RandomAccessFile f = new RandomAccessFile(source.resolve("big").toFile(), "rw")) {
                    f.setLength(bytes + 1000);
                } catch (IOException e) {
                    throw new AssertionError(e);
                }
            }
        };
        ByteArrayOutputStream out = new ByteArrayOutputStream();

        Archiver.archive(source, out, Compression.GZIP, TestPools.compressing(2), truncate);
        Restorer.restore(new ByteArrayInputStream(out.toByteArray()), target, TestPools.shared(), Progress.NONE);

        assertThat(Files.size(target.resolve("big"))).isEqualTo(size);
        assertThat(Files.readString(target.resolve("later"))).isEqualTo("still here");
    }

    @Test
    void archive_zeroThreads_isRejected() {
        catchThrowableOfType(IllegalArgumentException.class,
                () -> Archiver.archive(source, OutputStream.nullOutputStream(), Compression.GZIP, TestPools.compressing(0), Progress.NONE));
    }

    @Test
    void restore_progress_reportsTheFinalCounts() throws Exception {
        Trees.populate(source);
        List<long[]> reports = new ArrayList<>();

        Restorer.Result result = Restorer.restore(new ByteArrayInputStream(archive(source, Compression.GZIP)), target, TestPools.shared(),
                (entries, bytes) -> reports.add(new long[] {entries, bytes}));

        assertThat(reports).last().isEqualTo(new long[] {result.entries(), result.bytes()});
    }

    static List<TarArchiveEntry> entries(byte[] tar) throws IOException {
        List<TarArchiveEntry> entries = new ArrayList<>();
        try (InputStream in = new TarArchiveInputStream(new ByteArrayInputStream(tar), "UTF-8")) {
            TarArchiveInputStream tin = (TarArchiveInputStream) in;
            TarArchiveEntry e;
            while ((e = tin.getNextEntry()) != null) {
                entries.add(e);
            }
        }
        return entries;
    }
}
