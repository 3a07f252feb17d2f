package io.nfscsi.snapshot;

import static org.assertj.core.api.Assertions.assertThat;

import io.nfscsi.concurrent.TreeWorkPool;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Many archives and restores at once on one {@link TreeWorkPool}: compression blocks and read-ahead chunks stay
 * within its buffer budget, the compressing threads within their cap, and every stream comes out whole.
 */
@Timeout(180)
class SharedBuffersTest {

    private static final int STREAMS = 6;

    @TempDir
    Path work;

    private static byte[] data(int size, long seed) {
        Random random = new Random(seed);
        byte[] b = new byte[size];
        for (int i = 0; i < size; i++) {
            b[i] = (i / 4096) % 2 == 0 ? (byte) random.nextInt() : (byte) ('a' + i % 26);
        }
        return b;
    }

    @Test
    void manyGzipStreamsAtOnce_stayWithinTheBufferBudgetAndCompressionThreads() throws Exception {
        long budget = 6 * TreeWorkPool.MIB; // room for two 1 MiB blocks (each with its compressed copy)
        TreeWorkPool.Limits limits = new TreeWorkPool.Limits(1, 1, 2, 64, budget);
        try (TreeWorkPool pool = new TreeWorkPool(limits);
             ExecutorService writers = Executors.newFixedThreadPool(STREAMS)) {
            List<Future<byte[]>> outputs = new ArrayList<>();
            List<byte[]> inputs = new ArrayList<>();
            for (int s = 0; s < STREAMS; s++) {
                byte[] in = data(8 << 20, s);
                inputs.add(in);
                outputs.add(writers.submit(() -> {
                    ByteArrayOutputStream out = new ByteArrayOutputStream();
                    try (ParallelGzipOutputStream gz = new ParallelGzipOutputStream(out, pool,
                            ParallelGzipOutputStream.DEFAULT_BLOCK_SIZE, 1)) {
                        for (int i = 0; i < in.length; i += 100_000) {
                            gz.write(in, i, Math.min(100_000, in.length - i));
                        }
                    }
                    return out.toByteArray();
                }));
            }
            for (int s = 0; s < STREAMS; s++) {
                try (GZIPInputStream gunzip = new GZIPInputStream(new ByteArrayInputStream(outputs.get(s).get()))) {
                    assertThat(gunzip.readAllBytes()).isEqualTo(inputs.get(s));
                }
            }

            System.out.printf("%d gzip streams of 8 MiB at once: buffered bytes peak %.1f MiB (budget %.1f MiB),"
                            + " pool threads peak %d (compressing threads %d)%n", STREAMS,
                    pool.buffers().peak() / (double) TreeWorkPool.MIB, budget / (double) TreeWorkPool.MIB,
                    pool.peakThreads(), limits.compressionThreads());
            assertThat(pool.buffers().peak()).isLessThanOrEqualTo(budget);
            assertThat(pool.buffers().used()).isZero();
            assertThat(pool.peakThreads()).isLessThanOrEqualTo(limits.compressionThreads());
        }
    }

    @Test
    void manyRestoresAtOnce_waitForTheReadAheadBudgetAndAllComeOutWhole() throws Exception {
        long budget = TreeWorkPool.Limits.MIN_BUFFER_BYTES; // one restore's read-ahead at a time
        TreeWorkPool.Limits limits = new TreeWorkPool.Limits(2, 1, 1, 1024, budget);
        Path source = Files.createDirectory(work.resolve("source"));
        Trees.populate(source);
        ByteArrayOutputStream archive = new ByteArrayOutputStream();
        try (TreeWorkPool pool = new TreeWorkPool(limits);
             ExecutorService restorers = Executors.newFixedThreadPool(STREAMS)) {
            Archiver.archive(source, archive, Compression.GZIP, pool, Progress.NONE);
            List<Callable<Path>> restores = new ArrayList<>();
            for (int r = 0; r < STREAMS; r++) {
                Path target = Files.createDirectory(work.resolve("target" + r));
                restores.add(() -> {
                    Restorer.restore(new ByteArrayInputStream(archive.toByteArray()), target, pool, Progress.NONE);
                    return target;
                });
            }
            var expected = Trees.describe(source, ChronoUnit.MICROS); // tar keeps microseconds
            expected.remove("fifo"); // an archive keeps no FIFO
            for (Future<Path> restored : restorers.invokeAll(restores)) {
                assertThat(Trees.describe(restored.get(), ChronoUnit.MICROS)).isEqualTo(expected);
            }

            System.out.printf("%d restores at once: buffered bytes peak %.1f MiB (budget %.1f MiB), open-handle "
                            + "leases peak %d (cap %d), pool threads peak %d (cap %d)%n", STREAMS,
                    pool.buffers().peak() / (double) TreeWorkPool.MIB, budget / (double) TreeWorkPool.MIB,
                    pool.handles().peak(), limits.handles(), pool.peakThreads(), limits.maxThreads());
            assertThat(pool.buffers().peak()).isLessThanOrEqualTo(budget);
            assertThat(pool.handles().peak()).isLessThanOrEqualTo(limits.handles());
            assertThat(pool.peakThreads()).isLessThanOrEqualTo(limits.maxThreads());
        }
    }

    @Test
    void readAhead_closedEarly_givesTheBudgetBack() throws IOException {
        TreeWorkPool.Limits limits = new TreeWorkPool.Limits(1, 1, 1, 16, TreeWorkPool.Limits.MIN_BUFFER_BYTES);
        try (TreeWorkPool pool = new TreeWorkPool(limits)) {
            ReadAheadInputStream in = new ReadAheadInputStream(new ByteArrayInputStream(new byte[10]), 1 << 20, 4,
                    pool);
            in.close();
            assertThat(pool.buffers().used()).isZero();
        }
    }
}
