package io.nfscsi.mount;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.nfscsi.posix.FsStats;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class PosixTest {

    @TempDir
    Path dir;

    @Test
    void statvfs_existingDirectory_reportsConsistentCapacity() throws Exception {
        FsStats stats = Posix.statvfs(dir);

        assertThat(stats.totalBytes()).isPositive();
        assertThat(stats.availableBytes()).isBetween(0L, stats.totalBytes());
        assertThat(stats.usedBytes()).isBetween(0L, stats.totalBytes());
        assertThat(stats.usedBytes() + stats.availableBytes()).isLessThanOrEqualTo(stats.totalBytes());
        assertThat(stats.freeInodes()).isBetween(0L, stats.totalInodes());
        assertThat(stats.usedInodes()).isEqualTo(stats.totalInodes() - stats.freeInodes());
    }

    @Test
    void statvfs_matchesJavaFileStore() throws Exception {
        FsStats stats = Posix.statvfs(dir);
        var store = Files.getFileStore(dir);

        assertThat(stats.totalBytes()).isEqualTo(store.getTotalSpace());
    }

    @Test
    void statvfs_regularFile_reportsItsFileSystem() throws Exception {
        Path file = Files.writeString(dir.resolve("f"), "x");

        assertThat(Posix.statvfs(file).totalBytes()).isEqualTo(Posix.statvfs(dir).totalBytes());
    }

    @ParameterizedTest
    @ValueSource(strings = {"missing", "missing/deeper", "file/below-a-file"})
    void statvfs_missingPath_isNoSuchPath(String relative) throws Exception {
        Files.writeString(dir.resolve("file"), "x");

        MountException e = catchThrowableOfType(MountException.class, () -> Posix.statvfs(dir.resolve(relative)));

        assertThat(e).isNotNull();
        assertThat(e.kind()).isEqualTo(MountException.Kind.NO_SUCH_PATH);
    }

    @ParameterizedTest
    @ValueSource(ints = {02775, 01777, 0755, 0700, 0, 07777, 04755})
    void chmod_directory_setsAllTwelveModeBits(int mode) throws Exception {
        Path d = Files.createDirectory(dir.resolve("d"));

        Posix.chmod(d, mode);

        assertThat(modeOf(d)).isEqualTo(mode);
    }

    @Test
    void chmod_regularFile_setsMode() throws Exception {
        Path f = Files.writeString(dir.resolve("f"), "x");

        Posix.chmod(f, 0640);

        assertThat(modeOf(f)).isEqualTo(0640);
    }

    @Test
    void chmod_ignoresBitsAboveTheTwelveModeBits() throws Exception {
        Path d = Files.createDirectory(dir.resolve("d"));

        Posix.chmod(d, 0170000 | 0750);

        assertThat(modeOf(d)).isEqualTo(0750);
        assertThat(Files.isDirectory(d)).isTrue();
    }

    @Test
    void chmod_symlink_changesTarget() throws Exception {
        Path target = Files.createDirectory(dir.resolve("target"));
        Path link = Files.createSymbolicLink(dir.resolve("link"), target);

        Posix.chmod(link, 02770);

        assertThat(modeOf(target)).isEqualTo(02770);
    }

    @Test
    void chmod_missingPath_isNoSuchPath() {
        MountException e = catchThrowableOfType(MountException.class,
                () -> Posix.chmod(dir.resolve("missing"), 0755));

        assertThat(e).isNotNull();
        assertThat(e.kind()).isEqualTo(MountException.Kind.NO_SUCH_PATH);
    }

    private static int modeOf(Path p) throws Exception {
        return (Integer) Files.getAttribute(p, "unix:mode", java.nio.file.LinkOption.NOFOLLOW_LINKS) & 07777;
    }
}
