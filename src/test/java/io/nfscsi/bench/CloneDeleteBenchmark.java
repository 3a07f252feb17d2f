package io.nfscsi.bench;

import static java.nio.file.LinkOption.NOFOLLOW_LINKS;

import io.nfscsi.concurrent.Deadline;
import io.nfscsi.fs.TreeCopier;
import io.nfscsi.fs.TreeDeleter;
import io.nfscsi.testing.TestPools;
import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

/**
 * Cloning and deleting a volume of many small files over NFS with a network round trip: {@link TreeCopier} against
 * {@code cp -a}, {@link TreeDeleter} against {@code rm -rf}, all in the same test-bed run, on the same mount, each
 * after the client's caches were dropped. Prints seconds, files per second and ratios.
 *
 * <p>Run inside the test bed by {@code bench/clone-delete}, which mounts the export and passes: the mount point, the
 * export's path on the server, the number of files, and the parallelisms to try (comma-separated). The round trip
 * is added here ({@code tc qdisc add dev lo root netem delay 1ms}), checked to be there, and removed at the end.
 */
public final class CloneDeleteBenchmark {

    private static final int DIRECTORIES = 100;
    private static final int WARMUP_FILES = 1000;
    private static final int OWNER = 1000;

    private CloneDeleteBenchmark() {}

    private record Timing(String label, double seconds, long files) {
        double rate() {
            return files / seconds;
        }
    }

    public static void main(String[] args) throws Exception {
        Path mount = Path.of(args.length > 0 ? args[0] : "/var/lib/nfs-csi/bench");
        Path export = Path.of(args.length > 1 ? args[1] : System.getenv().getOrDefault("NFS_EXPORT", "/export"));
        int files = args.length > 2 ? Integer.parseInt(args[2]) : 10_000;
        int[] parallelisms = Arrays.stream((args.length > 3 ? args[3] : "16,32,64").split(","))
                .mapToInt(Integer::parseInt).toArray();

        Path probe = mount.resolve("rtt-probe");
        double bare = nfsRoundTripMillis(probe);
        run("tc", "qdisc", "add", "dev", "lo", "root", "netem", "delay", "1ms");
        try {
            double rtt = nfsRoundTripMillis(probe);
            System.out.printf("NFS round trip (half a mkdir and rmdir, median of 21): %.2f ms bare, %.2f ms with"
                    + " netem delay 1ms on loopback%n", bare, rtt);
            if (rtt - bare < 1.5) {
                throw new IllegalStateException("netem adds no delay on loopback");
            }
            measure(mount, export, files, parallelisms, rtt);
        } finally {
            run("tc", "qdisc", "del", "dev", "lo", "root");
        }
    }

    private static void measure(Path mount, Path export, int files, int[] parallelisms, double rtt)
            throws Exception {

        Path serverSide = export.resolve("bench");
        Path clientSide = mount.resolve("bench");
        if (Files.exists(serverSide)) {
            throw new IllegalStateException(serverSide + " exists: left over from an earlier run?");
        }
        long made = populate(serverSide.resolve("src"), files);
        populate(serverSide.resolve("warmup-src"), WARMUP_FILES);
        System.out.printf("volume: %d files in %d directories, plus one symbolic link per directory, made on the"
                + " server side%n", made, DIRECTORIES);

        // Warm-up, untimed: a long-running driver has its code compiled; a fresh JVM does not.
        long warmStart = System.nanoTime();
        Files.createDirectory(clientSide.resolve("warmup"));
        TreeCopier.copy(clientSide.resolve("warmup-src"), clientSide.resolve("warmup"), TestPools.walkers(parallelisms[0]),
                deadline(), TreeCopier.Progress.NONE);
        TreeDeleter.delete(clientSide, Path.of("warmup"), TestPools.walkers(parallelisms[0]), deadline());
        System.out.printf("warm-up (copy and delete of %d files, untimed): %.1f s%n", WARMUP_FILES,
                (System.nanoTime() - warmStart) / 1e9);

        List<Timing> clones = new ArrayList<>();
        dropCaches();
        clones.add(time("cp -a", files, () -> run("cp", "-a", clientSide.resolve("src").toString(),
                clientSide.resolve("cp").toString())));
        for (int p : parallelisms) {
            Path target = Files.createDirectory(clientSide.resolve("tc-" + p));
            dropCaches();
            clones.add(time("TreeCopier, parallelism " + p, files, () -> {
                TreeCopier.Result r = TreeCopier.copy(clientSide.resolve("src"), target, TestPools.walkers(p), deadline(),
                        progress("TreeCopier " + p));
                if (r.files() != files) {
                    throw new IllegalStateException("copied " + r + ", expected " + files + " files");
                }
            }));
        }

        Map<String, String> expected = snapshot(serverSide.resolve("src"));
        String compared = "identical";
        for (String copy : copies(parallelisms)) {
            if (!snapshot(serverSide.resolve(copy)).equals(expected)) {
                compared = copy + " DIFFERS from the source";
            }
        }
        System.out.printf("copies compared on the server side (names, kinds, modes, owners, mtimes, sizes, link"
                + " texts): %s%n", compared);

        List<Timing> deletes = new ArrayList<>();
        dropCaches();
        deletes.add(time("rm -rf", files, () -> run("rm", "-rf", clientSide.resolve("cp").toString())));
        for (int p : parallelisms) {
            dropCaches();
            deletes.add(time("TreeDeleter, parallelism " + p, files, () -> {
                TreeDeleter.DeleteResult r = TreeDeleter.delete(clientSide, Path.of("tc-" + p), TestPools.walkers(p), deadline());
                if (r.files() != files + DIRECTORIES) {
                    throw new IllegalStateException("deleted " + r + ", expected " + (files + DIRECTORIES));
                }
            }));
        }
        TreeDeleter.delete(export, Path.of("bench"), TestPools.walkers(4), deadline());

        System.out.printf("%nClone and delete of a %d-file volume over NFS 4.1 with %.1f ms round trips (same test"
                + " bed, same run, caches dropped before each):%n", files, rtt);
        report("clone", clones);
        report("delete", deletes);
    }

    private interface Body {
        void run() throws Exception;
    }

    private static Timing time(String label, long files, Body body) throws Exception {
        System.out.printf("%s ...%n", label);
        long start = System.nanoTime();
        body.run();
        Timing t = new Timing(label, (System.nanoTime() - start) / 1e9, files);
        System.out.printf("%s: %.1f s%n", label, t.seconds());
        return t;
    }

    private static void report(String what, List<Timing> timings) {
        Timing baseline = timings.getFirst();
        System.out.printf("  %-6s %-28s %9s %10s %7s%n", what, "", "seconds", "files/s", "ratio");
        for (Timing t : timings) {
            System.out.printf("  %-6s %-28s %9.1f %10.0f %6.1fx%n", "", t.label(), t.seconds(), t.rate(),
                    baseline.seconds() / t.seconds());
        }
    }

    private static List<String> copies(int[] parallelisms) {
        List<String> names = new ArrayList<>(List.of("cp"));
        for (int p : parallelisms) {
            names.add("tc-" + p);
        }
        return names;
    }

    private static Deadline deadline() {
        return Deadline.after(1, TimeUnit.HOURS);
    }

    private static TreeCopier.Progress progress(String label) {
        long start = System.nanoTime();
        long[] last = {start};
        return (entries, bytes) -> {
            long now = System.nanoTime();
            if (now - last[0] >= TimeUnit.SECONDS.toNanos(10)) {
                last[0] = now;
                System.out.printf("  %s: %d entries, %d bytes after %.0f s%n", label, entries, bytes,
                        (now - start) / 1e9);
            }
        };
    }

    /**
     * {@code files} small files (1 to 4,096 bytes) spread over {@link #DIRECTORIES} directories, ten by ten, and
     * a symbolic link in each directory, owned by a non-root user, with mtimes in the past.
     */
    private static long populate(Path root, int files) throws IOException {
        Random random = new Random(files);
        FileTime old = FileTime.from(Instant.parse("2020-01-02T03:04:05Z"));
        List<Path> dirs = new ArrayList<>();
        for (int d = 0; d < DIRECTORIES; d++) {
            dirs.add(Files.createDirectories(root.resolve("g" + d / 10).resolve("d" + d)));
        }
        long made = 0;
        for (int f = 0; f < files; f++) {
            byte[] content = new byte[1 + random.nextInt(4096)];
            random.nextBytes(content);
            Path file = Files.write(dirs.get(f % DIRECTORIES).resolve("f" + f), content);
            own(file);
            Files.setLastModifiedTime(file, old);
            made++;
        }
        for (Path dir : dirs) {
            Path link = Files.createSymbolicLink(dir.resolve("link"), Path.of("../../g0/d0/f0"));
            Files.setAttribute(link, "unix:uid", OWNER, NOFOLLOW_LINKS);
        }
        List<Path> all = new ArrayList<>(dirs);
        for (int g = 0; g < DIRECTORIES / 10; g++) {
            all.add(root.resolve("g" + g));
        }
        for (Path dir : all) {
            own(dir);
            Files.setLastModifiedTime(dir, old);
        }
        return made;
    }

    private static void own(Path p) throws IOException {
        Files.setAttribute(p, "unix:uid", OWNER, NOFOLLOW_LINKS);
        Files.setAttribute(p, "unix:gid", OWNER, NOFOLLOW_LINKS);
    }

    /** The tree seen locally on the server: every entry's kind, mode, owner, mtime, size and link text. */
    private static Map<String, String> snapshot(Path root) throws IOException {
        Map<String, String> entries = new TreeMap<>();
        Files.walkFileTree(root, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path d, BasicFileAttributes attrs) throws IOException {
                entries.put(root.relativize(d).toString(), describe(d, attrs));
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path f, BasicFileAttributes attrs) throws IOException {
                entries.put(root.relativize(f).toString(), describe(f, attrs));
                return FileVisitResult.CONTINUE;
            }
        });
        return entries;
    }

    private static String describe(Path p, BasicFileAttributes basic) throws IOException {
        Map<String, Object> a = Files.readAttributes(p, "unix:mode,uid,gid,lastModifiedTime,size", NOFOLLOW_LINKS);
        String text = basic.isSymbolicLink() ? Files.readSymbolicLink(p).toString() : "";
        return a.get("mode") + " " + a.get("uid") + ":" + a.get("gid") + " " + a.get("lastModifiedTime") + " "
                + (basic.isDirectory() ? "" : a.get("size")) + " " + text;
    }

    /** Half the time of a mkdir and rmdir on NFS: a CREATE and a REMOVE, one round trip each, never cached. */
    private static double nfsRoundTripMillis(Path dir) throws IOException {
        double[] samples = new double[21];
        for (int i = 0; i < samples.length; i++) {
            long start = System.nanoTime();
            Files.createDirectory(dir);
            Files.delete(dir);
            samples[i] = (System.nanoTime() - start) / 2e6;
        }
        Arrays.sort(samples);
        return samples[samples.length / 2];
    }

    /** Drops the client's cached dentries, inodes and pages, so that every run starts with the server's view. */
    private static void dropCaches() throws Exception {
        run("sync");
        Files.writeString(Path.of("/proc/sys/vm/drop_caches"), "3");
    }

    private static void run(String... command) throws Exception {
        Process p = new ProcessBuilder(command).inheritIO().start();
        int rc = p.waitFor();
        if (rc != 0) {
            throw new IllegalStateException(String.join(" ", command) + " exited with " + rc);
        }
    }
}
