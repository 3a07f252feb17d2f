package io.nfscsi.bench;

import io.nfscsi.fs.UsageWalk;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

/**
 * What {@code --volume-usage=walk} costs (issue 13): the time and the NFS calls of one walk of a volume of 100,000
 * files ({@link UsageWalk}, what the node runs in the background), against, in the same run and on the same
 * mount, {@code du -s} (GNU coreutils: fstatat of every entry) and one statvfs (what {@code --volume-usage=export}
 * costs). The tree is made on the server side, in the test bed's exported tmpfs; each measurement runs on a fresh
 * NFS mount (vers=4.1, so a cold client cache, as a walk a TTL after the last one mostly finds), and counts the
 * calls from the mount's per-op statistics in {@code /proc/self/mountstats}. The three are measured in turn, each
 * round, after one walk that is not counted (the JIT compiling the walk: the driver walks again and again).
 *
 * <p>Run with {@code bench/volume-usage [FILES [ROUNDS]]} (defaults 100000 and 3).
 */
public final class VolumeUsageBenchmark {

    private static final int FILES_PER_DIR = 1000;
    private static final int FILE_BYTES = 100;

    private VolumeUsageBenchmark() {}

    /** One measurement: wall time, and the NFS calls it made by operation. */
    record Run(String what, long nanos, Map<String, Long> ops, String figure) {
        long total() {
            return ops.values().stream().mapToLong(Long::longValue).sum();
        }

        @Override
        public String toString() {
            StringBuilder top = new StringBuilder();
            ops.entrySet().stream().filter(e -> e.getValue() > 0)
                    .sorted(Map.Entry.<String, Long>comparingByValue().reversed()).limit(5)
                    .forEach(e -> top.append(' ').append(e.getKey()).append(' ').append(e.getValue()));
            return String.format("%-8s %9.1f ms  %7d NFS calls (%s )  %s", what, nanos / 1e6, total(),
                    top.toString().trim(), figure);
        }
    }

    public static void main(String[] args) throws Exception {
        int files = args.length > 0 ? Integer.parseInt(args[0]) : 100_000;
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 3;
        Path export = Path.of(System.getenv().getOrDefault("NFS_EXPORT", "/export"));
        String server = System.getenv().getOrDefault("NFS_SERVER", "127.0.0.1");
        Path share = export.resolve("bench-volume-usage");
        Path mount = Path.of("/var/lib/kubelet/bench-volume-usage");
        Files.createDirectories(mount);

        long made = System.nanoTime();
        makeTree(share.resolve("volume"), files);
        System.out.printf("volume of %d files of %d bytes in %d directories, made on the server side in %.1f s%n",
                files, FILE_BYTES, (files + FILES_PER_DIR - 1) / FILES_PER_DIR, (System.nanoTime() - made) / 1e9);

        // the driver walks again and again: its steady state is what counts, not the JIT compiling the walk
        System.out.println("warm-up, not counted: " + measure("walk", server + ":" + share, mount));

        List<List<Run>> all = new ArrayList<>();
        for (int round = 1; round <= rounds; round++) {
            List<Run> runs = new ArrayList<>();
            for (String what : List.of("walk", "du -s", "statvfs")) {
                runs.add(measure(what, server + ":" + share, mount));
            }
            System.out.println("round " + round + ":");
            runs.forEach(r -> System.out.println("  " + r));
            all.add(runs);
        }
        System.out.println("median of " + rounds + " rounds:");
        for (int i = 0; i < all.getFirst().size(); i++) {
            int at = i;
            long[] nanos = all.stream().mapToLong(r -> r.get(at).nanos()).sorted().toArray();
            long[] calls = all.stream().mapToLong(r -> r.get(at).total()).sorted().toArray();
            System.out.printf("  %-8s %9.1f ms  %7d NFS calls  (%.1f µs and %.2f calls per file)%n",
                    all.getFirst().get(at).what(), nanos[nanos.length / 2] / 1e6, calls[calls.length / 2],
                    nanos[nanos.length / 2] / 1e3 / files, (double) calls[calls.length / 2] / files);
        }
        long walk = all.stream().mapToLong(r -> r.get(0).nanos()).sorted().toArray()[rounds / 2];
        long du = all.stream().mapToLong(r -> r.get(1).nanos()).sorted().toArray()[rounds / 2];
        System.out.printf("walk / du -s: %.2f%n", (double) walk / du);
    }

    /** {@code files} files in directories of {@link #FILES_PER_DIR}, unless a previous run left them there. */
    private static void makeTree(Path volume, int files) throws IOException, InterruptedException {
        Path marker = volume.resolve(".made-" + files);
        if (Files.exists(marker)) {
            return;
        }
        if (Files.exists(volume)) {
            run(List.of("rm", "-rf", volume.toString()));
        }
        byte[] content = new byte[FILE_BYTES];
        for (int i = 0; i < files; i++) {
            Path dir = volume.resolve("d" + (i / FILES_PER_DIR));
            if (i % FILES_PER_DIR == 0) {
                Files.createDirectories(dir);
            }
            Files.write(dir.resolve("f" + i), content);
        }
        Files.createFile(marker);
    }

    private static Run measure(String what, String source, Path mount) throws Exception {
        run(List.of("mount", "-t", "nfs", "-o", "vers=4.1", source, mount.toString()));
        try {
            Map<String, Long> before = opCounts(mount);
            long start = System.nanoTime();
            String figure = switch (what) {
                case "walk" -> {
                    UsageWalk.Usage u = UsageWalk.walk(mount.resolve("volume"), () -> false);
                    yield u.bytes() + " bytes, " + u.inodes() + " inodes";
                }
                case "du -s" -> {
                    String bytes = run(List.of("du", "-s", "-B1", mount.resolve("volume").toString()));
                    yield bytes.split("\\s+")[0] + " bytes";
                }
                default -> {
                    var store = Files.getFileStore(mount);
                    yield (store.getTotalSpace() - store.getUnallocatedSpace()) + " bytes (the export's)";
                }
            };
            long nanos = System.nanoTime() - start;
            Map<String, Long> after = opCounts(mount);
            Map<String, Long> ops = new TreeMap<>();
            after.forEach((op, n) -> ops.put(op, n - before.getOrDefault(op, 0L)));
            return new Run(what, nanos, ops, figure);
        } finally {
            run(List.of("umount", mount.toString()));
        }
    }

    /** The per-op call counts of the NFS mount at {@code mount}, from {@code /proc/self/mountstats}. */
    static Map<String, Long> opCounts(Path mount) throws IOException {
        Map<String, Long> ops = new TreeMap<>();
        boolean inMount = false;
        boolean inOps = false;
        for (String line : Files.readAllLines(Path.of("/proc/self/mountstats"))) {
            if (line.startsWith("device ")) {
                inMount = line.contains(" mounted on " + mount + " with fstype nfs");
                inOps = false;
            } else if (inMount && line.trim().equals("per-op statistics")) {
                inOps = true;
            } else if (inMount && inOps) {
                String[] f = line.trim().split("[:\\s]+");
                if (f.length > 1 && f[0].matches("[A-Z_0-9]+")) {
                    ops.put(f[0], Long.parseLong(f[1]));
                }
            }
        }
        if (ops.isEmpty()) {
            throw new IllegalStateException("no NFS per-op statistics for " + mount + " in /proc/self/mountstats");
        }
        return ops;
    }

    private static String run(List<String> argv) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(argv).redirectErrorStream(true).start();
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(30, TimeUnit.MINUTES) || p.exitValue() != 0) {
            throw new IllegalStateException(argv + " failed: " + out);
        }
        return out;
    }
}
