package io.nfscsi.bench;

import io.nfscsi.snapshot.Archiver;
import io.nfscsi.snapshot.Compression;
import io.nfscsi.snapshot.Progress;
import io.nfscsi.snapshot.Restorer;
import com.sun.management.OperatingSystemMXBean;
import io.nfscsi.testing.TestPools;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Snapshot and restore speed against GNU tar, measured in the same run on the same local tree: our
 * {@link Archiver} (gzip on every processor) against {@code tar -czf} (GNU tar piping into one gzip), and our
 * {@link Restorer} against {@code tar -xzf} extracting the same archive (ours, then GNU tar's). Best of N runs
 * each, taken in turns so that a busy neighbour slows both alike, after one untimed archive and restore that warm up
 * the JIT compiler. Prints seconds, MB/s of file data and the ratios, and the processor time each took (user +
 * system; ours is the whole JVM's): on a shared machine, elapsed time depends on what else runs, processor time
 * much less.
 *
 * <p>The tree (default about 200 MB: 10,000 files of 1 to 20 KB in 100 directories, and four large files) is
 * generated under /tmp and deleted afterwards. Its data is three parts text built from a random vocabulary to one
 * part random bytes, so that gzip does real work (it compresses to about 57%). Run with {@code bench/archive};
 * arguments: small files, total MB, runs.
 */
public final class ArchiveBenchmark {

    private ArchiveBenchmark() {}

    public static void main(String[] args) throws Exception {
        int smallFiles = args.length > 0 ? Integer.parseInt(args[0]) : 10_000;
        int totalMb = args.length > 1 ? Integer.parseInt(args[1]) : 200;
        int runs = args.length > 2 ? Integer.parseInt(args[2]) : 3;
        int threads = Math.min(4, Runtime.getRuntime().availableProcessors()); // --compression-threads caps at 4
        Path work = Files.createTempDirectory(Path.of("/tmp"), "archive-bench-");
        try {
            Path source = Files.createDirectory(work.resolve("source"));
            long bytes = generate(source, smallFiles, totalMb * 1_000_000L);
            double mb = bytes / 1e6;
            System.out.printf("tree: %,d files, %.1f MB; %d processors; best of %d runs; load average %.1f%n",
                    smallFiles + 4, mb, threads, runs, loadAverage());

            Path ours = work.resolve("ours.tar.gz");
            Path gnu = work.resolve("gnu.tar.gz");
            // One untimed archive and restore first, so that the timed runs measure compiled code, as in a driver
            // that has been up for a while, and not the JIT compiler.
            try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(ours), 1 << 20)) {
                Archiver.archive(source, out, Compression.GZIP, TestPools.compressing(threads), Progress.NONE);
            }
            try (InputStream in = Files.newInputStream(ours)) {
                Restorer.restore(in, Files.createDirectory(work.resolve("warm-up")), TestPools.shared(), Progress.NONE);
            }
            Best oursArchive = new Best();
            Best tarArchive = new Best();
            for (int run = 0; run < runs; run++) {
                oursArchive.add(inJvm(() -> {
                    try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(ours), 1 << 20)) {
                        Archiver.archive(source, out, Compression.GZIP, TestPools.compressing(threads), Progress.NONE);
                    }
                }));
                tarArchive.add(command("tar -C '" + source + "' -czf '" + gnu + "' ."));
            }
            System.out.printf("%nsnapshot (archive + gzip) of %.1f MB of file data:%n", mb);
            line("ours, gzip on " + threads + " threads", oursArchive, mb, Files.size(ours));
            line("tar -czf", tarArchive, mb, Files.size(gnu));
            System.out.printf("  speed-up                        %6.2fx   (goal: 1.5x or more)%n",
                    tarArchive.seconds / oursArchive.seconds);

            for (Path archive : List.of(ours, gnu)) {
                Best oursRestore = new Best();
                Best tarRestore = new Best();
                for (int run = 0; run < runs; run++) {
                    // A new target each time, the old ones deleted only at the end: ext4 skips inodes deleted in
                    // the last minutes when it allocates, which slows down whoever creates files after a deletion.
                    Path oursTarget = Files.createDirectory(work.resolve("ours-" + archive.getFileName() + "-" + run));
                    oursRestore.add(inJvm(() -> {
                        try (InputStream in = Files.newInputStream(archive)) {
                            Restorer.restore(in, oursTarget, TestPools.shared(), Progress.NONE);
                        }
                    }));
                    Path tarTarget = Files.createDirectory(work.resolve("tar-" + archive.getFileName() + "-" + run));
                    tarRestore.add(command("tar -C '" + tarTarget + "' -xzf '" + archive + "'"));
                }
                System.out.printf("%nrestore of %s:%n", archive.getFileName());
                line("ours", oursRestore, mb, -1);
                line("tar -xzf", tarRestore, mb, -1);
                System.out.printf("  speed-up                        %6.2fx   (goal: 1.0x or more)%n",
                        tarRestore.seconds / oursRestore.seconds);
            }
            System.out.printf("%nload average at the end: %.1f%n", loadAverage());
        } finally {
            command("rm -rf '" + work + "'");
        }
    }

    /** Elapsed and processor seconds of one run. */
    private record Timing(double seconds, double cpu) {}

    /** The fastest run so far, and the processor time it took. */
    private static final class Best {
        double seconds = Double.MAX_VALUE;
        double cpu;

        void add(Timing t) {
            if (t.seconds() < seconds) {
                seconds = t.seconds();
                cpu = t.cpu();
            }
        }
    }

    @FunctionalInterface
    private interface Job {
        void run() throws Exception;
    }

    private static Timing inJvm(Job job) throws Exception {
        OperatingSystemMXBean os = (OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        long cpu = os.getProcessCpuTime();
        long start = System.nanoTime();
        job.run();
        return new Timing((System.nanoTime() - start) / 1e9, (os.getProcessCpuTime() - cpu) / 1e9);
    }

    /** Runs a bash command; its processor time is what bash's "times" reports for its children. */
    private static Timing command(String script) throws IOException, InterruptedException {
        long start = System.nanoTime();
        Process p = new ProcessBuilder("bash", "-c", script + " && times").redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        double seconds = (System.nanoTime() - start) / 1e9;
        if (p.waitFor() != 0) {
            throw new IOException(script + " failed: " + output);
        }
        // "times": the shell's user and system time, then its children's: "0m1.234s 0m0.056s" on each line
        List<String> lines = output.lines().toList();
        String[] children = lines.getLast().trim().split("\\s+");
        return new Timing(seconds, minutes(children[0]) + minutes(children[1]));
    }

    private static double minutes(String time) {
        int m = time.indexOf('m');
        return Integer.parseInt(time.substring(0, m)) * 60 + Double.parseDouble(time.substring(m + 1, time.length() - 1));
    }

    private static double loadAverage() {
        return ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
    }

    private static void line(String what, Best best, double mb, long archiveBytes) {
        String size = archiveBytes < 0 ? "" : String.format("   archive %.1f MB", archiveBytes / 1e6);
        System.out.printf("  %-30s %7.2f s  %7.1f MB/s   cpu %6.2f s%s%n", what, best.seconds, mb / best.seconds,
                best.cpu, size);
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
