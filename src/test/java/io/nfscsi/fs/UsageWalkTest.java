package io.nfscsi.fs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The walk's figures against {@code du} (GNU coreutils) on the same tree: allocated bytes ({@code du -s -B1}) and
 * entries ({@code du -s --inodes}), both counting a hard-linked file once and following no link.
 */
class UsageWalkTest {

    @TempDir
    Path dir;

    /** {@code du -s} with {@code option}, as a number. */
    private static long du(String option, Path tree) throws Exception {
        Process p = new ProcessBuilder("du", "-s", option, tree.toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(out).isZero();
        return Long.parseLong(out.split("\\s+")[0]);
    }

    private static void write(Path file, int bytes) throws IOException {
        Files.createDirectories(file.getParent());
        Files.write(file, new byte[bytes]);
    }

    @Test
    void walk_tree_matchesDu_inBytesAndInodes() throws Exception {
        Path volume = dir.resolve("volume");
        write(volume.resolve("a/one"), 100_000);
        write(volume.resolve("a/b/two"), 5_000);
        write(volume.resolve("a/b/c/three"), 1);
        Files.createDirectories(volume.resolve("empty"));
        Files.createFile(volume.resolve("zero"));
        Files.createLink(volume.resolve("a/b/link-to-one"), volume.resolve("a/one"));
        Files.createSymbolicLink(volume.resolve("dangling"), Path.of("/nonexistent/x"));

        UsageWalk.Usage usage = UsageWalk.walk(volume, () -> false);

        assertThat(usage.bytes()).isEqualTo(du("-B1", volume)).isGreaterThanOrEqualTo(105_001);
        // volume, a, a/b, a/b/c, empty; one (twice linked, once counted), two, three, zero, dangling
        assertThat(usage.inodes()).isEqualTo(du("--inodes", volume)).isEqualTo(10);
        assertThat(usage.directories()).isEqualTo(5);
    }

    @Test
    void walk_linksToOutside_areCountedAsLinks_neverFollowed() throws Exception {
        Path outside = dir.resolve("outside");
        write(outside.resolve("big"), 4 << 20);
        Path volume = dir.resolve("volume");
        write(volume.resolve("small"), 10);
        Files.createSymbolicLink(volume.resolve("to-dir"), outside);
        Files.createSymbolicLink(volume.resolve("to-file"), outside.resolve("big"));
        Files.createSymbolicLink(volume.resolve("to-parent"), Path.of(".."));

        UsageWalk.Usage usage = UsageWalk.walk(volume, () -> false);

        assertThat(usage.inodes()).isEqualTo(5);
        assertThat(usage.bytes()).isEqualTo(du("-B1", volume)).isLessThan(4 << 20);
    }

    @Test
    void walk_treeDeeperThanTheHandleBudget_isWalkedWhole() throws Exception {
        Path volume = dir.resolve("volume");
        Path deep = volume;
        int depth = 3 * UsageWalk.HANDLE_BUDGET;
        for (int i = 0; i < depth; i++) {
            deep = deep.resolve("d");
            // a sibling at every level: the walk comes back up through the reopened parents to visit it
            write(deep.resolveSibling("f" + i), 10);
        }
        Files.createDirectories(deep);

        UsageWalk.Usage usage = UsageWalk.walk(volume, () -> false);

        assertThat(usage.directories()).isEqualTo(depth + 1);
        assertThat(usage.inodes()).isEqualTo(du("--inodes", volume)).isEqualTo(2L * depth + 1);
        assertThat(usage.bytes()).isEqualTo(du("-B1", volume));
    }

    @Test
    void walk_toldToStop_endsWithInterruptedIo() throws Exception {
        Path volume = dir.resolve("volume");
        write(volume.resolve("a/f"), 1);

        assertThatThrownBy(() -> UsageWalk.walk(volume, () -> true)).isInstanceOf(InterruptedIOException.class);
    }

    @Test
    void walk_missingRoot_fails() {
        assertThatThrownBy(() -> UsageWalk.walk(dir.resolve("absent"), () -> false)).isInstanceOf(IOException.class);
    }
}
