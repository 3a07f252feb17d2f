package io.nfscsi.bench;

import io.nfscsi.snapshot.Archiver;
import io.nfscsi.snapshot.Compression;
import io.nfscsi.snapshot.Progress;
import io.nfscsi.snapshot.Restorer;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Snapshot and restore speed against GNU tar, measured in the same run on the same local tree: our
 * {@link Archiver} (gzip on every processor) against {@code tar -czf} (GNU tar piping into one gzip), and our
 * {@link Restorer} against {@code tar -xzf} extracting the same archive. Best of N runs each, taken in turns so
 * that a busy neighbour slows both alike. Prints seconds, MB/s of file data and the ratios.
 *
 * <p>The tree (default about 200 MB: 10,000 files of 1 to 20 KB in 100 directories, and four large files) is
 * generated under /tmp and deleted afterwards. Its data is part text built from a random vocabulary, part random
 * bytes, so that gzip does real work (about 2.5:1). Run with {@code bench/archive}; arguments: small files, total
 * MB, runs.
 */
public final class ArchiveBenchmark {

    private ArchiveBenchmark() {}

    public static void main(String[] args) throws Exception {
        int smallFiles = args.length > 0 ? Integer.parseInt(args[0]) : 10_000;
        int totalMb = args.length > 1 ? Integer.parseInt(args[1]) : 200;
        int runs = args.length > 2 ? Integer.parseInt(args[2]) : 3;
        int threads = Runtime.getRuntime().availableProcessors();
        Path work = Files.createTempDirectory(Path.of("/tmp"), "archive-bench-");
        try {
            Path source = Files.createDirectory(work.resolve("source"));
            long bytes = generate(source, smallFiles, totalMb * 1_000_000L);
            double mb = bytes / 1e6;
            System.out.printf("tree: %,d files, %.1f MB; %d processors; best of %d runs%n",
                    smallFiles + 4, mb, threads, runs);

            Path ours = work.resolve("ours.tar.gz");
            Path gnu = work.resolve("gnu.tar.gz");
            double[] archive = new double[2];
            archive[0] = archive[1] = Double.MAX_VALUE;
            for (int run = 0; run < runs; run++) {
                archive[0] = Math.min(archive[0], time(() -> {
                    try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(ours), 1 << 20)) {
                        Archiver.archive(source, out, Compression.GZIP, threads, Progress.NONE);
                    }
                }));
                archive[1] = Math.min(archive[1], time(() -> shell("tar", "-C", source.toString(), "-czf",
                        gnu.toString(), ".")));
            }
            System.out.printf("%nsnapshot (archive + gzip), %.1f MB of file data:%n", mb);
            line("ours, gzip on " + threads + " threads", archive[0], mb, Files.size(ours));
            line("tar -czf", archive[1], mb, Files.size(gnu));
            System.out.printf("  speed-up                        %6.2fx   (goal: 1.5x or more)%n",
                    archive[1] / archive[0]);

            for (Path archiveFile : List.of(ours, gnu)) {
                double[] restore = new double[2];
                restore[0] = restore[1] = Double.MAX_VALUE;
                Path target = work.resolve("target");
                for (int run = 0; run < runs; run++) {
                    shell("rm", "-rf", target.toString());
                    Files.createDirectory(target);
                    restore[0] = Math.min(restore[0], time(() -> {
                        try (InputStream in = Files.newInputStream(archiveFile)) {
                            Restorer.restore(in, target, Progress.NONE);
                        }
                    }));
                    shell("rm", "-rf", target.toString());
                    Files.createDirectory(target);
                    restore[1] = Math.min(restore[1], time(() -> shell("tar", "-C", target.toString(), "-xzf",
                            archiveFile.toString())));
                }
                shell("rm", "-rf", target.toString());
                System.out.printf("%nrestore of %s:%n", archiveFile.getFileName());
                line("ours", restore[0], mb, -1);
                line("tar -xzf", restore[1], mb, -1);
                System.out.printf("  speed-up                        %6.2fx   (goal: 1.0x or more)%n",
                        restore[1] / restore[0]);
            }
        } finally {
            shell("rm", "-rf", work.toString());
        }
    }

    @FunctionalInterface
    private interface Job {
        void run() throws Exception;
    }

    private static double time(Job job) throws Exception {
        long start = System.nanoTime();
        job.run();
        return (System.nanoTime() - start) / 1e9;
    }

    private static void line(String what, double seconds, double mb, long archiveBytes) {
        String size = archiveBytes < 0 ? "" : String.format("   archive %.1f MB", archiveBytes / 1e6);
        System.out.printf("  %-30s %7.2f s  %7.1f MB/s%s%n", what, seconds, mb / seconds, size);
    }

    private static void shell(String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (p.waitFor() != 0) {
            throw new IOException(String.join(" ", command) + " failed: " + output);
        }
    }

    /** Writes the tree; returns its bytes of file data. */
    private static long generate(Path root, int smallFiles, long totalBytes) throws IOException {
        Random random = new Random(20240601);
        List<byte[]> vocabulary = new ArrayList<>();
        for (int i = 0; i < 2000; i++) {
            byte[] word = new byte[2 + random.nextInt(9)];
            for (int j = 0; j < word.length; j++) {
                word[j] = (byte) ('a' + random.nextInt(26));
            }
            vocabulary.add(word);
        }
        long written = 0;
        for (int i = 0; i < smallFiles; i++) {
            Path dir = root.resolve("dir-" + (i % 100));
            if (i < 100) {
                Files.createDirectory(dir);
            }
            byte[] data = content(random, vocabulary, 1024 + random.nextInt(19 * 1024));
            Files.write(dir.resolve("file-" + i + ".dat"), data);
            written += data.length;
        }
        long large = Math.max(0, (totalBytes - written) / 4);
        for (int i = 0; i < 4; i++) {
            try (OutputStream out = Files.newOutputStream(root.resolve("large-" + i + ".bin"))) {
                for (long done = 0; done < large; ) {
                    byte[] chunk = content(random, vocabulary, (int) Math.min(1 << 20, large - done));
                    out.write(chunk);
                    done += chunk.length;
                }
            }
            written += large;
        }
        return written;
    }

    /** Stretches of 4 KB: one in four random bytes, the others words from the vocabulary. */
    private static byte[] content(Random random, List<byte[]> vocabulary, int size) {
        byte[] data = new byte[size];
        int at = 0;
        while (at < size) {
            int end = Math.min(size, at + 4096);
            if (random.nextInt(4) == 0) {
                byte[] noise = new byte[end - at];
                random.nextBytes(noise);
                System.arraycopy(noise, 0, data, at, noise.length);
                at = end;
            } else {
                while (at < end) {
                    byte[] word = vocabulary.get(random.nextInt(vocabulary.size()));
                    int n = Math.min(word.length, end - at);
                    System.arraycopy(word, 0, data, at, n);
                    at += n;
                    if (at < end) {
                        data[at++] = (byte) (random.nextInt(12) == 0 ? '\n' : ' ');
                    }
                }
            }
        }
        return data;
    }
}
