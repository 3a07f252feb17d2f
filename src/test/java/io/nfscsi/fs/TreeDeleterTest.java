package io.nfscsi.fs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.nfscsi.concurrent.Deadline;
import io.grpc.Status;
import io.nfscsi.error.CsiException;
import io.nfscsi.fs.TreeDeleter.DeleteResult;
import io.nfscsi.testing.TestPools;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

@Timeout(60)
class TreeDeleterTest {

    @TempDir
    Path work;

    @TempDir
    Path outside;

    private static Deadline minutes() {
        return Deadline.after(5, TimeUnit.MINUTES);
    }

    /** A clock that moves one second each time it is read: a deadline N seconds away expires after N reads. */
    private static final class SteppingTicker implements Deadline.Ticker {
        private final AtomicLong now = new AtomicLong();

        @Override
        public long nanoTime() {
            return now.addAndGet(TimeUnit.SECONDS.toNanos(1));
        }
    }

    /** {@code subdirs} directories two deep with {@code perSubdir} files each, and {@code top} files at the top. */
    private static int tree(Path dir, int subdirs, int perSubdir, int top) throws IOException {
        int files = 0;
        for (int d = 0; d < subdirs; d++) {
            Path sub = Files.createDirectories(dir.resolve("d" + d + "/deeper" + (d % 3)));
            for (int f = 0; f < perSubdir; f++) {
                Files.writeString(sub.resolve("f" + f), "x");
                files++;
            }
        }
        for (int f = 0; f < top; f++) {
            Files.writeString(dir.resolve("top" + f), "x");
            files++;
        }
        return files;
    }

    /** 2,000 files in 41 directories. */
    private static int wideTree(Path dir) throws IOException {
        return tree(dir, 20, 50, 1000);
    }

    private static boolean exists(Path p) {
        return Files.exists(p, LinkOption.NOFOLLOW_LINKS);
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 4, 16})
    void delete_hostileTree_removesExactlyTheTree(int parallelism) throws Exception {
        HostileTree tree = HostileTree.under(work, outside);
        HostileTree.Counts planted = tree.populateVictim();
        HostileTree.Counts outsideBefore = HostileTree.count(outside);
        HostileTree.Counts siblingBefore = HostileTree.count(tree.sibling);

        DeleteResult result = TreeDeleter.delete(tree.share, Path.of("vols/victim"), TestPools.walkers(parallelism), minutes());

        assertThat(result).isEqualTo(new DeleteResult(planted.files(), planted.directories(), true));
        assertThat(exists(tree.victim)).isFalse();
        assertThat(tree.share.resolve("vols")).isDirectory();
        assertThat(tree.damagedCanaries()).isEmpty();
        assertThat(HostileTree.count(outside)).isEqualTo(outsideBefore);
        assertThat(HostileTree.count(tree.sibling)).isEqualTo(siblingBefore);
    }

    @Test
    void delete_symlinkAtIntermediateComponent_failsPreconditionAndDeletesNothing() throws Exception {
        HostileTree tree = HostileTree.under(work, outside);
        Path lookalike = Files.createDirectories(outside.resolve("victim"));
        Files.writeString(lookalike.resolve("precious"), "keep");
        Files.createSymbolicLink(tree.share.resolve("vols/link"), outside);

        CsiException e = catchThrowableOfType(CsiException.class,
                () -> TreeDeleter.delete(tree.share, Path.of("vols/link/victim"), TestPools.walkers(4), minutes()));

        assertThat(e.code()).isEqualTo(Status.Code.FAILED_PRECONDITION);
        assertThat(e).hasMessageContaining("vols/link");
        assertThat(lookalike.resolve("precious")).hasContent("keep");
        assertThat(tree.damagedCanaries()).isEmpty();
    }

    @Test
    void delete_symlinkAsFirstComponent_failsPrecondition() throws Exception {
        Path share = Files.createDirectories(work.resolve("share"));
        Files.createDirectories(outside.resolve("x"));
        Files.writeString(outside.resolve("x/precious"), "keep");
        Files.createSymbolicLink(share.resolve("vols"), outside);

        CsiException e = catchThrowableOfType(CsiException.class,
                () -> TreeDeleter.delete(share, Path.of("vols/x"), TestPools.walkers(1), minutes()));

        assertThat(e.code()).isEqualTo(Status.Code.FAILED_PRECONDITION);
        assertThat(outside.resolve("x/precious")).hasContent("keep");
    }

    @Test
    void delete_regularFileAtIntermediateComponent_failsPrecondition() throws Exception {
        Path share = Files.createDirectories(work.resolve("share"));
        Files.writeString(share.resolve("file"), "x");

        CsiException e = catchThrowableOfType(CsiException.class,
                () -> TreeDeleter.delete(share, Path.of("file/child"), TestPools.walkers(1), minutes()));

        assertThat(e.code()).isEqualTo(Status.Code.FAILED_PRECONDITION);
        assertThat(share.resolve("file")).hasContent("x");
    }

    @ParameterizedTest
    @ValueSource(strings = {"vols/absent", "absent/victim", "absent"})
    void delete_absentTarget_reportsNothingExisted(String relative) throws Exception {
        Path share = Files.createDirectories(work.resolve("share/vols"));

        DeleteResult result = TreeDeleter.delete(work.resolve("share"), Path.of(relative), TestPools.walkers(4), minutes());

        assertThat(result).isEqualTo(new DeleteResult(0, 0, false));
        assertThat(share).isDirectory();
    }

    @ParameterizedTest
    @ValueSource(strings = {"/abs", "a/../b", "a/./b", "..", ""})
    void delete_relativeNotPlain_invalidArgument(String relative) throws Exception {
        Path share = Files.createDirectories(work.resolve("share"));

        CsiException e = catchThrowableOfType(CsiException.class,
                () -> TreeDeleter.delete(share, Path.of(relative), TestPools.walkers(1), minutes()));

        assertThat(e.code()).isEqualTo(Status.Code.INVALID_ARGUMENT);
    }

    @Test
    void delete_targetIsSymlinkToDirectory_removesOnlyTheLink() throws Exception {
        HostileTree tree = HostileTree.under(work, outside);
        Files.createSymbolicLink(tree.share.resolve("vols/link"), tree.sibling);

        DeleteResult result = TreeDeleter.delete(tree.share, Path.of("vols/link"), TestPools.walkers(4), minutes());

        assertThat(result).isEqualTo(new DeleteResult(1, 0, true));
        assertThat(exists(tree.share.resolve("vols/link"))).isFalse();
        assertThat(tree.sibling).isDirectory();
        assertThat(tree.damagedCanaries()).isEmpty();
    }

    @Test
    void delete_targetIsRegularFile_removesIt() throws Exception {
        Path share = Files.createDirectories(work.resolve("share"));
        Files.writeString(share.resolve("file"), "x");

        DeleteResult result = TreeDeleter.delete(share, Path.of("file"), TestPools.walkers(4), minutes());

        assertThat(result).isEqualTo(new DeleteResult(1, 0, true));
        assertThat(exists(share.resolve("file"))).isFalse();
    }

    @Test
    void delete_expiredDeadline_throwsDeadlineExceededAndRetryFinishes() throws Exception {
        HostileTree tree = HostileTree.under(work, outside);
        HostileTree.Counts planted = tree.populateVictim();
        Deadline expired = Deadline.after(-1, TimeUnit.SECONDS);

        CsiException e = catchThrowableOfType(CsiException.class,
                () -> TreeDeleter.delete(tree.share, Path.of("vols/victim"), TestPools.walkers(4), expired));

        assertThat(e.code()).isEqualTo(Status.Code.DEADLINE_EXCEEDED);
        assertThat(HostileTree.count(tree.victim)).isEqualTo(planted);

        DeleteResult retry = TreeDeleter.delete(tree.share, Path.of("vols/victim"), TestPools.walkers(4), minutes());

        assertThat(retry).isEqualTo(new DeleteResult(planted.files(), planted.directories(), true));
        assertThat(exists(tree.victim)).isFalse();
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 8})
    void delete_deadlineExpiringMidway_leavesTheRestForARetry(int parallelism) throws Exception {
        Path share = Files.createDirectories(work.resolve("share"));
        Path victim = Files.createDirectories(share.resolve("victim"));
        int files = tree(victim, 10, 20, 100);
        // the deadline is read once per call or so: it expires about halfway through 300 files and 21 directories
        Deadline soon = Deadline.after(150, TimeUnit.SECONDS, new SteppingTicker());

        CsiException e = catchThrowableOfType(CsiException.class,
                () -> TreeDeleter.delete(share, Path.of("victim"), TestPools.walkers(parallelism), soon));

        assertThat(e.code()).isEqualTo(Status.Code.DEADLINE_EXCEEDED);
        HostileTree.Counts left = HostileTree.count(victim);
        assertThat(left.files()).isPositive().isLessThan(files);

        DeleteResult retry = TreeDeleter.delete(share, Path.of("victim"), TestPools.walkers(parallelism), minutes());

        assertThat(retry).isEqualTo(new DeleteResult(left.files(), left.directories(), true));
        assertThat(exists(victim)).isFalse();
    }

    @Test
    void delete_parallelism1And16_giveTheSameResult() throws Exception {
        Path share = Files.createDirectories(work.resolve("share"));
        int files = wideTree(Files.createDirectories(share.resolve("one")));
        wideTree(Files.createDirectories(share.resolve("sixteen")));

        DeleteResult one = TreeDeleter.delete(share, Path.of("one"), TestPools.walkers(1), minutes());
        DeleteResult sixteen = TreeDeleter.delete(share, Path.of("sixteen"), TestPools.walkers(16), minutes());

        assertThat(one).isEqualTo(sixteen).isEqualTo(new DeleteResult(files, 1 + 20 * 2, true));
        assertThat(share).isEmptyDirectory();
    }

    @Test
    void delete_deepTreeWithSmallHandleBudget_staysWithinIt() throws Exception {
        Path share = Files.createDirectories(work.resolve("share"));
        int depth = 1000;
        Path dir = share.resolve("deep");
        StringBuilder relative = new StringBuilder("deep");
        for (int i = 0; i < depth; i++) {
            relative.append("/d");
        }
        Path bottom = Files.createDirectories(share.resolve(relative.toString()));
        for (Path p = bottom; !p.equals(share); p = p.getParent()) {
            Files.writeString(p.resolve("f"), "x");
            Files.createDirectory(p.resolve("side"));
        }
        int parallelism = 4;
        int budget = 8;

        TreeDeleter.Run run = TreeDeleter.run(share, Path.of("deep"), TestPools.walkers(parallelism), minutes(), budget);

        assertThat(run.result()).isEqualTo(new DeleteResult(depth + 1, 2 * (depth + 1), true));
        assertThat(exists(dir)).isFalse();
        // in use at once: at most three per thread (a directory, its parent, one being reopened)
        assertThat(run.peakOpenHandles()).isLessThanOrEqualTo(budget + 3 * parallelism);
    }

    @Test
    void delete_twoCallsAtOnce_bothFinishAndTheTreeIsGone() throws Exception {
        Path share = Files.createDirectories(work.resolve("share"));
        int files = tree(Files.createDirectories(share.resolve("victim")), 10, 20, 100);

        var other = java.util.concurrent.CompletableFuture.supplyAsync(
                () -> TreeDeleter.delete(share, Path.of("victim"), TestPools.walkers(4), minutes()));
        DeleteResult mine = TreeDeleter.delete(share, Path.of("victim"), TestPools.walkers(4), minutes());
        DeleteResult theirs = other.get();

        // each may see an entry the other removed first; between them, everything was removed once
        assertThat(exists(share.resolve("victim"))).isFalse();
        assertThat(mine.files() + theirs.files()).isEqualTo(files);
    }

    @Test
    void removeEmptyParents_afterDeletingLeaf_removesEmptyParentsButNotRoot() throws Exception {
        Path share = Files.createDirectories(work.resolve("share"));
        Files.createDirectories(share.resolve("a/b/c/d"));
        TreeDeleter.delete(share, Path.of("a/b/c"), TestPools.walkers(2), minutes());

        TreeDeleter.removeEmptyParents(share, Path.of("a/b/c"));

        assertThat(share).isEmptyDirectory();
    }

    @Test
    void removeEmptyParents_nonEmptySibling_keepsTheSharedParent() throws Exception {
        Path share = Files.createDirectories(work.resolve("share"));
        Files.createDirectories(share.resolve("a/b/c"));
        Files.createDirectories(share.resolve("a/keep"));
        Files.writeString(share.resolve("a/keep/file"), "x");
        TreeDeleter.delete(share, Path.of("a/b/c"), TestPools.walkers(2), minutes());

        TreeDeleter.removeEmptyParents(share, Path.of("a/b/c"));

        assertThat(exists(share.resolve("a/b"))).isFalse();
        assertThat(share.resolve("a/keep/file")).hasContent("x");
    }

    @Test
    void removeEmptyParents_singleComponent_neverRemovesRoot() throws Exception {
        Path share = Files.createDirectories(work.resolve("share"));

        TreeDeleter.removeEmptyParents(share, Path.of("gone"));
        TreeDeleter.removeEmptyParents(share, Path.of("gone/too"));

        assertThat(share).isEmptyDirectory();
    }

    @Test
    void removeEmptyParents_symlinkAmongParents_removesNothingThroughOrAboveIt() throws Exception {
        Path share = Files.createDirectories(work.resolve("share"));
        Files.createDirectories(outside.resolve("b"));
        Files.createDirectories(share.resolve("a"));
        Files.createSymbolicLink(share.resolve("a/link"), outside);

        TreeDeleter.removeEmptyParents(share, Path.of("a/link/b/c"));

        assertThat(outside.resolve("b")).isEmptyDirectory();
        assertThat(exists(share.resolve("a/link"))).isTrue();
        assertThat(share.resolve("a")).isDirectory();
    }

    @Test
    void removeEmptyParents_parentAlreadyGone_removesTheEmptyOnesAbove() throws Exception {
        Path share = Files.createDirectories(work.resolve("share"));
        Files.createDirectories(share.resolve("a"));

        TreeDeleter.removeEmptyParents(share, Path.of("a/b/c"));

        assertThat(share).isEmptyDirectory();
    }
}
