package io.nfscsi.snapshot;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.nfscsi.testing.TestPools;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.apache.commons.compress.archivers.tar.TarConstants;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Archives built to escape the target directory: each is refused, and nothing outside the target changes. */
@Timeout(60)
class MaliciousArchiveTest {

    @TempDir
    Path work;

    Path target;
    Path outside;
    Path canary;

    @BeforeEach
    void setUp() throws IOException {
        target = Files.createDirectory(work.resolve("target"));
        outside = Files.createDirectory(work.resolve("outside"));
        canary = Files.writeString(outside.resolve("canary"), "untouched");
    }

    private Restorer.RejectedException refused(TarBuilder archive) throws IOException {
        byte[] tar = archive.bytes();
        Restorer.RejectedException e = catchThrowableOfType(Restorer.RejectedException.class,
                () -> Restorer.restore(new ByteArrayInputStream(tar), target, TestPools.shared(), Progress.NONE));
        assertThat(e).as("refused").isNotNull();
        assertThat(Files.readString(canary)).isEqualTo("untouched");
        try (Stream<Path> files = Files.list(outside)) {
            assertThat(files.toList()).containsExactly(canary);
        }
        try (Stream<Path> files = Files.list(work)) {
            assertThat(files.toList()).containsExactlyInAnyOrder(target, outside);
        }
        return e;
    }

    @Test
    void restore_absoluteName_isRefused() throws IOException {
        Path absolute = outside.resolve("absolute");

        Restorer.RejectedException e = refused(new TarBuilder().file(absolute.toString(), "pwned"));

        assertThat(e.entry()).isEqualTo(absolute.toString());
        assertThat(e).hasMessageContaining(absolute.toString());
    }

    @Test
    void restore_dotDotName_isRefused() throws IOException {
        Restorer.RejectedException e = refused(new TarBuilder().file("../escape", "pwned"));

        assertThat(e.entry()).isEqualTo("../escape");
    }

    @Test
    void restore_dotDotAfterADirectory_isRefused() throws IOException {
        Restorer.RejectedException e = refused(new TarBuilder().dir("a/").file("a/../../escape", "pwned"));

        assertThat(e.entry()).isEqualTo("a/../../escape");
    }

    @Test
    void restore_fileThroughAnEarlierSymlink_isRefused() throws IOException {
        Restorer.RejectedException e = refused(new TarBuilder()
                .symlink("link", outside.toString())
                .file("link/pwned", "pwned"));

        assertThat(e.entry()).isEqualTo("link/pwned");
        assertThat(Files.isSymbolicLink(target.resolve("link"))).isTrue(); // made, and harmless as a link
    }

    @Test
    void restore_directoryThroughAnEarlierSymlink_isRefused() throws IOException {
        Restorer.RejectedException e = refused(new TarBuilder()
                .symlink("link", outside.toString())
                .dir("link/sub/"));

        assertThat(e.entry()).isEqualTo("link/sub/");
    }

    @Test
    void restore_deepFileThroughARelativeSymlinkToTheParent_isRefused() throws IOException {
        Restorer.RejectedException e = refused(new TarBuilder()
                .dir("a/")
                .symlink("a/up", "../..")
                .file("a/up/outside/pwned", "pwned"));

        assertThat(e.entry()).isEqualTo("a/up/outside/pwned");
    }

    @Test
    void restore_hardLinkToAnAbsolutePath_isRefused() throws IOException {
        Restorer.RejectedException e = refused(new TarBuilder().hardLink("passwd", "/etc/passwd"));

        assertThat(e.entry()).isEqualTo("passwd");
        assertThat(target.resolve("passwd")).doesNotExist();
    }

    @Test
    void restore_hardLinkOutOfTheTarget_isRefused() throws IOException {
        refused(new TarBuilder().hardLink("canary", "../outside/canary"));
    }

    @Test
    void restore_hardLinkThroughASymlink_isRefused() throws IOException {
        Restorer.RejectedException e = refused(new TarBuilder()
                .symlink("out", outside.toString())
                .hardLink("stolen", "out/canary"));

        assertThat(e.entry()).isEqualTo("stolen");
    }

    @Test
    void restore_hardLinkToAnAbsentTarget_isRefused() throws IOException {
        refused(new TarBuilder().hardLink("dangling", "not-there"));
    }

    @Test
    void restore_hardLinkToADirectory_isRefused() throws IOException {
        refused(new TarBuilder().dir("d/").hardLink("d2", "d"));
    }

    @Test
    void restore_deviceAndFifoEntries_areSkipped_butTheirNamesAreStillChecked() throws IOException {
        for (byte type : List.of(TarConstants.LF_CHR, TarConstants.LF_BLK, TarConstants.LF_FIFO)) {
            Restorer.restore(new java.io.ByteArrayInputStream(new TarBuilder().entry("special", type, null).bytes()),
                    target, TestPools.shared(), Progress.NONE);
            assertThat(target.resolve("special")).doesNotExist();
            Restorer.RejectedException e = refused(new TarBuilder().entry("../special", type, null));
            assertThat(e.entry()).isEqualTo("../special");
        }
    }

    @Test
    void restore_fileReplacingAnEarlierSymlink_writesANewFileNotTheLinkTarget() throws IOException {
        byte[] tar = new TarBuilder()
                .symlink("a", canary.toString())
                .file("a", "new content")
                .bytes();

        Restorer.restore(new ByteArrayInputStream(tar), target, TestPools.shared(), Progress.NONE);

        assertThat(Files.readString(canary)).isEqualTo("untouched");
        assertThat(Files.isRegularFile(target.resolve("a"), LinkOption.NOFOLLOW_LINKS)).isTrue();
        assertThat(Files.readString(target.resolve("a"))).isEqualTo("new content");
    }

    @Test
    void restore_directoryReplacingAFile_isRefused() throws IOException {
        refused(new TarBuilder().file("x", "file").dir("x/"));
    }

    @Test
    void restore_absoluteSymlinkTarget_isKeptAsALinkAndNeverFollowed() throws IOException {
        byte[] tar = new TarBuilder()
                .symlink("etc", "/etc")
                .symlink("canary-link", canary.toString())
                .bytes();

        Restorer.Result result = Restorer.restore(new ByteArrayInputStream(tar), target, TestPools.shared(), Progress.NONE);

        assertThat(result.entries()).isEqualTo(2);
        assertThat(Files.readSymbolicLink(target.resolve("etc"))).isEqualTo(Path.of("/etc"));
        assertThat(Files.readString(canary)).isEqualTo("untouched");
    }

    @Test
    void restore_symlinkAsTheTargetDirectoryEntry_isRefused() throws IOException {
        refused(new TarBuilder().symlink("./", outside.toString()));
    }

    @Test
    void restore_longNameWithDotDotInAPaxHeader_isRefused() throws IOException {
        String name = "a/" + "x".repeat(120) + "/../../../escape";

        Restorer.RejectedException e = refused(new TarBuilder().file(name, "pwned"));

        assertThat(e.entry()).isEqualTo(name);
    }

    @Test
    void rejectedException_messageNamesTheEntry() throws IOException {
        Restorer.RejectedException e = refused(new TarBuilder().file("../escape", "pwned"));

        assertThat(e).hasMessageContaining("\"../escape\"").hasMessageContaining("..");
    }
}
