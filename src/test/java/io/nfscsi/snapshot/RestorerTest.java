package io.nfscsi.snapshot;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.nfscsi.testing.TestPools;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.GZIPOutputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Archives that other tools write, and damaged ones. */
@Timeout(60)
class RestorerTest {

    @TempDir
    Path target;

    private Restorer.Result restore(byte[] archive) throws IOException {
        return Restorer.restore(new ByteArrayInputStream(archive), target, TestPools.shared(), Progress.NONE);
    }

    private static byte[] gzip(byte[] data) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (GZIPOutputStream gz = new GZIPOutputStream(out)) {
            gz.write(data);
        }
        return out.toByteArray();
    }

    @Test
    void restore_globalPaxHeader_isReadNotRestored() throws IOException {
        Restorer.Result result = restore(new TarBuilder()
                .globalHeader("comment", "6b1e2f0c")
                .file("a", "content")
                .bytes());

        assertThat(result).isEqualTo(new Restorer.Result(1, 7));
        try (var files = Files.list(target)) {
            assertThat(files.toList()).containsExactly(target.resolve("a"));
        }
    }

    @Test
    void restore_namesWithDotSlashAndDoubleSlashes_landWhereTheyPoint() throws IOException {
        restore(new TarBuilder().dir("./").dir("./d/").file("./d//f", "x").file("d/./g", "y").bytes());

        assertThat(Files.readString(target.resolve("d/f"))).isEqualTo("x");
        assertThat(Files.readString(target.resolve("d/g"))).isEqualTo("y");
    }

    @Test
    void restore_missingParentDirectories_areCreated() throws IOException {
        restore(new TarBuilder().file("a/b/c/file", "deep").bytes());

        assertThat(Files.readString(target.resolve("a/b/c/file"))).isEqualTo("deep");
    }

    @Test
    void restore_oldStyleDirectoryEntry_isADirectory() throws IOException {
        restore(new TarBuilder().file("old/", TarConstants.LF_OLDNORM, "").file("old/f", "x").bytes());

        assertThat(target.resolve("old")).isDirectory();
    }

    @Test
    void restore_sameFileTwice_keepsTheLaterOne() throws IOException {
        restore(new TarBuilder().file("f", "first").file("f", "second").bytes());

        assertThat(Files.readString(target.resolve("f"))).isEqualTo("second");
    }

    @Test
    void restore_sameDirectoryTwice_mergesThem() throws IOException {
        restore(new TarBuilder().dir("d/").file("d/a", "a").dir("d/").file("d/b", "b").bytes());

        assertThat(target.resolve("d/a")).exists();
        assertThat(target.resolve("d/b")).exists();
    }

    @Test
    void restore_hardLinkToAnEarlierSymlink_linksTheLinkItself() throws IOException {
        restore(new TarBuilder().symlink("s", "/etc/passwd").hardLink("h", "s").bytes());

        assertThat(Files.readSymbolicLink(target.resolve("h"))).isEqualTo(Path.of("/etc/passwd"));
    }

    @Test
    void restore_truncatedGzip_failsWithoutRejecting() throws IOException {
        byte[] gz = gzip(new TarBuilder().file("f", "x".repeat(100_000)).bytes());

        IOException e = catchThrowableOfType(IOException.class,
                () -> restore(Arrays.copyOf(gz, gz.length / 2)));

        assertThat(e).isNotNull().isNotInstanceOf(Restorer.RejectedException.class);
    }

    @Test
    void restore_garbage_fails() {
        byte[] garbage = new byte[4096];
        Arrays.fill(garbage, (byte) 'x');

        IOException e = catchThrowableOfType(IOException.class, () -> restore(garbage));

        assertThat(e).isNotNull();
    }

    @Test
    void restore_zeroBytes_fails() {
        IOException e = catchThrowableOfType(IOException.class, () -> restore(new byte[0]));

        assertThat(e).hasMessageContaining("empty");
    }

    @Test
    void restore_archiveWithoutEntries_restoresNothing() throws IOException {
        assertThat(restore(gzip(new TarBuilder().bytes()))).isEqualTo(new Restorer.Result(0, 0));
    }

    @Test
    void restore_doesNotCloseTheCallersStream() throws IOException {
        boolean[] closed = {false};
        ByteArrayInputStream in = new ByteArrayInputStream(gzip(new TarBuilder().file("f", "x").bytes())) {
            @Override
            public void close() {
                closed[0] = true;
            }
        };

        Restorer.restore(in, target, TestPools.shared(), Progress.NONE);

        assertThat(closed[0]).isFalse();
    }
}
