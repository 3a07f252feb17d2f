package io.nfscsi.fs;

import static org.assertj.core.api.Assertions.assertThat;

import io.nfscsi.concurrent.Deadline;
import io.nfscsi.concurrent.TreeWorkPool;
import io.nfscsi.error.CsiException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Many walks at once on one {@link TreeWorkPool}: its caps on threads and handles hold, and every walk finishes. */
@Timeout(180)
class SharedTreeWorkPoolTest {

    private static final int WALKS = 16;
    private static final int BUDGET = 6;

    @TempDir
    Path work;

    private static Deadline minutes() {
        return Deadline.after(5, TimeUnit.MINUTES);
    }

    /** Eight directories, each four deep, with a few files at every level. */
    private static void tree(Path dir) throws IOException {
        for (int d = 0; d < 8; d++) {
            Path level = dir.resolve("d" + d);
            for (int depth = 0; depth < 4; depth++) {
                level = Files.createDirectories(level.resolve("l" + depth));
                for (int f = 0; f < 3; f++) {
                    Files.writeString(level.resolve("f" + f), "x".repeat(f * 100));
                }
            }
        }
    }

    @Test
    void manyConcurrentCopiesAndDeletes_stayWithinTheThreadAndHandleCaps() throws Exception {
        // room for two walks' handle leases at once: the others wait for theirs
        TreeWorkPool.Limits limits = new TreeWorkPool.Limits(2, 3, 1, 2 * (BUDGET + 1), TreeWorkPool.Limits.MIN_BUFFER_BYTES);
        try (TreeWorkPool pool = new TreeWorkPool(limits)) {
            Path source = Files.createDirectory(work.resolve("source"));
            tree(source);
            List<Callable<Integer>> walks = new ArrayList<>();
            for (int i = 0; i < WALKS; i++) {
                Path copy = Files.createDirectory(work.resolve("copy" + i));
                Path doomed = Files.createDirectory(work.resolve("doomed" + i));
                tree(doomed);
                walks.add(() -> TreeCopier.run(source, copy, pool, minutes(), TreeCopier.Progress.NONE, BUDGET)
                        .peakOpenHandles());
                walks.add(() -> TreeDeleter.run(work, work.relativize(doomed), pool, minutes(), BUDGET)
                        .peakOpenHandles());
            }
            List<Integer> peaks = new ArrayList<>();
            try (ExecutorService starters = Executors.newFixedThreadPool(walks.size())) {
                List<Future<Integer>> futures = new ArrayList<>();
                for (Callable<Integer> walk : walks) {
                    futures.add(starters.submit(walk));
                }
                for (Future<Integer> f : futures) {
                    peaks.add(f.get());
                }
            }

            int maxPeak = peaks.stream().mapToInt(Integer::intValue).max().orElseThrow();
            System.out.printf("%d walks at once: pool threads peak %d (cap %d), handle leases peak %d (cap %d),"
                            + " most handles of one walk %d (budget %d)%n", walks.size(), pool.peakThreads(),
                    limits.maxThreads(), pool.handles().peak(), limits.handles(), maxPeak, BUDGET);
            assertThat(pool.peakThreads()).isLessThanOrEqualTo(limits.walkThreads());
            assertThat(pool.handles().peak()).isLessThanOrEqualTo(limits.handles());
            assertThat(pool.handles().used()).isZero();
            // a walk's budget is soft by the handles its running tasks hold: two per walker
            assertThat(maxPeak).isLessThanOrEqualTo(BUDGET + 2 * limits.walkThreads());
            for (int i = 0; i < WALKS; i++) {
                assertThat(work.resolve("doomed" + i)).doesNotExist();
                assertThat(work.resolve("copy" + i + "/d7/l0/l1/l2/l3/f2")).hasContent("x".repeat(200));
            }
        }
    }

    @Test
    void delete_handleBudgetHeldByOthersUntilTheDeadline_isDeadlineExceededAndTouchesNothing() throws Exception {
        TreeWorkPool.Limits limits = new TreeWorkPool.Limits(1, 2, 1, BUDGET + 1, TreeWorkPool.Limits.MIN_BUFFER_BYTES);
        try (TreeWorkPool pool = new TreeWorkPool(limits)) {
            Path doomed = Files.createDirectory(work.resolve("doomed"));
            tree(doomed);
            pool.handles().acquire(1, minutes()); // another walk holds part of the budget

            CsiException e = org.assertj.core.api.Assertions.catchThrowableOfType(CsiException.class,
                    () -> TreeDeleter.run(work, Path.of("doomed"), pool, Deadline.after(200, TimeUnit.MILLISECONDS),
                            BUDGET));

            assertThat(e).isInstanceOf(CsiException.DeadlineExceeded.class);
            assertThat(doomed.resolve("d0/l0/f0")).exists();
            pool.handles().release(1);
            TreeDeleter.run(work, Path.of("doomed"), pool, minutes(), BUDGET);
            assertThat(doomed).doesNotExist();
        }
    }
}
