package io.nfscsi.fs;

import static org.assertj.core.api.Assertions.assertThat;

import io.nfscsi.concurrent.Deadline;
import io.nfscsi.fs.TreeDeleter.DeleteResult;
import io.nfscsi.testing.TestPools;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;

/** Random trees full of links aimed out of them (kept apart from TreeDeleterTest: jqwik has no @TempDir). */
class TreeDeleterPropertiesTest {

    enum Kind { DIRECTORY, FILE, TO_OUTSIDE_DIR, TO_OUTSIDE_FILE, TO_SIBLING, UP_TO_SHARE, TO_SHARE, PARENT, SELF, DANGLING }

    /** An entry of the kind, placed in the directory picked (modulo the directories made so far). */
    record Entry(Kind kind, int parentPick) {}

    @Provide
    Arbitrary<List<Entry>> trees() {
        return Combinators.combine(Arbitraries.of(Kind.class), Arbitraries.integers().between(0, 1_000))
                .as(Entry::new).list().ofMaxSize(40);
    }

    @Property(tries = 150)
    void delete_randomTreeWithLinksOut_removesExactlyTheTree(@ForAll("trees") List<Entry> entries,
                                                             @ForAll @IntRange(min = 1, max = 8) int parallelism)
            throws Exception {
        Path work = Files.createTempDirectory("tree-deleter-");
        Path outside = Files.createTempDirectory("tree-deleter-outside-");
        try {
            HostileTree tree = HostileTree.under(work, outside);
            plant(tree, entries);
            HostileTree.Counts planted = HostileTree.count(tree.victim);

            DeleteResult result = TreeDeleter.delete(tree.share, Path.of("vols/victim"), TestPools.walkers(parallelism),
                    Deadline.after(5, TimeUnit.MINUTES));

            assertThat(result).isEqualTo(new DeleteResult(planted.files(), planted.directories(), true));
            assertThat(Files.exists(tree.victim, LinkOption.NOFOLLOW_LINKS)).isFalse();
            assertThat(tree.damagedCanaries()).isEmpty();
            assertThat(tree.sibling).isDirectory();
            assertThat(outside.resolve("dir")).isDirectory();
        } finally {
            HostileTree.removeQuietly(work);
            HostileTree.removeQuietly(outside);
        }
    }

    private static void plant(HostileTree tree, List<Entry> entries) throws Exception {
        List<Path> dirs = new ArrayList<>(List.of(tree.victim));
        List<Integer> depths = new ArrayList<>(List.of(0)); // below the victim, which is share/vols/victim
        for (int i = 0; i < entries.size(); i++) {
            Entry e = entries.get(i);
            int pick = e.parentPick() % dirs.size();
            Path at = dirs.get(pick).resolve("e" + i);
            switch (e.kind()) {
                case DIRECTORY -> {
                    dirs.add(Files.createDirectory(at));
                    depths.add(depths.get(pick) + 1);
                }
                case FILE -> Files.writeString(at, "file " + i);
                case TO_OUTSIDE_DIR -> Files.createSymbolicLink(at, tree.outside);
                case TO_OUTSIDE_FILE -> Files.createSymbolicLink(at, tree.outside.resolve("canary.txt"));
                case TO_SIBLING -> Files.createSymbolicLink(at, tree.sibling);
                case UP_TO_SHARE -> Files.createSymbolicLink(at, Path.of("../".repeat(depths.get(pick) + 2)));
                case TO_SHARE -> Files.createSymbolicLink(at, tree.share);
                case PARENT -> Files.createSymbolicLink(at, Path.of(".."));
                case SELF -> Files.createSymbolicLink(at, Path.of("."));
                case DANGLING -> Files.createSymbolicLink(at, Path.of("nowhere"));
            }
        }
    }
}
