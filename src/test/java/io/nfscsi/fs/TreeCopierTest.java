package io.nfscsi.fs;

import static java.nio.file.LinkOption.NOFOLLOW_LINKS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.nfscsi.concurrent.Deadline;
import io.grpc.Status;
import io.nfscsi.error.CsiException;
import io.nfscsi.fs.TreeCopier.Result;
import io.nfscsi.posix.PathCalls;
import io.nfscsi.testing.TestPools;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Runs as root (owners are set and compared). The jqwik property at the end makes its own directories: jqwik has no
 * {@code @TempDir}, and ignores (with a warning) a class-level {@code @Timeout}, hence one per test.
 */
class TreeCopierTest {

    private static final String CANARY = "canary: never copied as content";
    private static final FileTime OLD = FileTime.from(Instant.parse("2001-02-03T04:05:06.123456789Z"));

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

    // --- every kind of entry ---

    @ParameterizedTest
    @Timeout(120)
    @ValueSource(ints = {1, 16})
    void copy_everyKindOfEntry_preservesContentsModesOwnersTimesAndLinks(int parallelism) throws Exception {
        Path source = Files.createDirectory(work.resolve("source"));
        Path target = Files.createDirectory(work.resolve("target"));
        Path canary = Files.writeString(outside.resolve("canary.txt"), CANARY);
        Map<String, String> outsideBefore = snapshot(outside);
        byte[] big = new byte[3 * 1024 * 1024 + 17];
        new Random(42).nextBytes(big);

        Files.createDirectories(source.resolve("a/b/c"));
        Files.writeString(source.resolve("a/b/c/deep.txt"), "deep");
        Files.createDirectory(source.resolve("empty"));
        Files.createFile(source.resolve("zero"));
        Files.write(source.resolve("big"), big);
        Files.createSymbolicLink(source.resolve("to-root"), Path.of("/"));
        Files.createSymbolicLink(source.resolve("to-canary"), canary);
        Files.createSymbolicLink(source.resolve("a/to-outside"), outside);
        Files.createSymbolicLink(source.resolve("relative"), Path.of("a/b/c/deep.txt"));
        Files.createSymbolicLink(source.resolve("a/b/up"), Path.of("../../../.."));
        Files.createSymbolicLink(source.resolve("dangling"), Path.of("no/such/thing"));
        Files.writeString(source.resolve("hard1"), "shared inode");
        Files.createLink(source.resolve("a/hard2"), source.resolve("hard1"));
        assertThat(HostileTree.mkfifo(source.resolve("a/fifo"))).isTrue();
        Files.writeString(source.resolve("suid"), "#!/bin/sh\n");
        Files.createDirectory(source.resolve("sgid"));
        Files.writeString(source.resolve("sgid/inside"), "group");
        Files.createDirectory(source.resolve("sticky"));
        Files.writeString(source.resolve("private"), "secret");
        Files.writeString(source.resolve("owned"), "someone else's");
        Files.createSymbolicLink(source.resolve("owned-link"), Path.of("owned"));
        Files.createDirectory(source.resolve("readonly"));
        Files.writeString(source.resolve("readonly/inside"), "x");
        PathCalls.chmod(source.resolve("suid"), 04755);
        PathCalls.chmod(source.resolve("sgid"), 02775);
        PathCalls.chmod(source.resolve("sticky"), 01777);
        PathCalls.chmod(source.resolve("private"), 0600);
        PathCalls.chmod(source.resolve("readonly"), 0500);
        PathCalls.chmod(source, 0750);
        for (String owned : List.of("owned", "owned-link", "sgid", "sgid/inside", "a/b/c", "")) {
            Files.setAttribute(source.resolve(owned), "unix:uid", 1234, NOFOLLOW_LINKS);
            Files.setAttribute(source.resolve(owned), "unix:gid", 5678, NOFOLLOW_LINKS);
        }
        ageEverything(source);

        Result result = TreeCopier.copy(source, target, TestPools.walkers(parallelism), minutes(), TreeCopier.Progress.NONE);

        // files: deep.txt zero big hard1 hard2 suid inside private owned inside; links: to-root to-canary
        // to-outside relative up dangling owned-link; directories: a b c empty sgid sticky readonly
        assertThat(result).isEqualTo(new Result(10, 7, 7, 4 + 3 * 1024 * 1024 + 17 + 12 + 10 + 6 + 14 + 5 + 1, 1));
        Map<String, String> expected = new TreeMap<>(snapshot(source));
        expected.remove("a/fifo");
        assertThat(snapshot(target)).isEqualTo(expected);
        assertThat(linkGroups(target)).containsExactly(Set.of("a/hard2", "hard1"));
        assertThat(Files.readAllBytes(target.resolve("big"))).isEqualTo(big);
        assertThat(Files.readSymbolicLink(target.resolve("to-root"))).isEqualTo(Path.of("/"));
        assertThat(Files.readSymbolicLink(target.resolve("to-canary"))).isEqualTo(canary);
        assertThat(Files.readSymbolicLink(target.resolve("a/b/up"))).isEqualTo(Path.of("../../../.."));
        assertThat(mode(target.resolve("suid"))).isEqualTo(04755);
        assertThat(mode(target.resolve("sgid"))).isEqualTo(02775);
        assertThat(mode(target.resolve("sticky"))).isEqualTo(01777);
        assertThat(mode(target.resolve("private"))).isEqualTo(0600);
        assertThat(mode(target)).isEqualTo(0750);
        assertThat(Files.getAttribute(target.resolve("owned-link"), "unix:uid", NOFOLLOW_LINKS)).isEqualTo(1234);
        assertThat(Files.getAttribute(target, "unix:gid")).isEqualTo(5678);
        assertThat(Files.getLastModifiedTime(target.resolve("to-root"), NOFOLLOW_LINKS)).isEqualTo(OLD);
        assertThat(Files.getLastModifiedTime(target.resolve("a"))).isEqualTo(OLD);
        assertThat(Files.exists(target.resolve("a/fifo"), NOFOLLOW_LINKS)).isFalse();
        // the canary and everything else outside: untouched, and nowhere in the copy as content
        assertThat(snapshot(outside)).isEqualTo(outsideBefore);
        assertThat(canary).hasContent(CANARY);
        assertThat(regularFileContents(target)).noneMatch(content -> content.contains(CANARY));
    }

    @Test
    @Timeout(120)
    void copy_namesNotInThePlatformEncoding_keepTheirBytesAndAttributes() throws Exception {
        Path source = Files.createDirectory(work.resolve("source"));
        Path target = Files.createDirectory(work.resolve("target"));
        // \377 is invalid UTF-8; "gr\303\266\303\237e" is valid UTF-8 but not ASCII
        sh("cd '" + source + "' && for n in \"$(printf 'x\\377y')\" \"$(printf 'gr\\303\\266\\303\\237e')\"; do"
                + " mkdir \"$n\" && printf data > \"$n/$n\" && ln -s \"$n\" \"$n/link\""
                + " && chown -h 1234:5678 \"$n\" \"$n/$n\" \"$n/link\" && chmod 4751 \"$n/$n\" && chmod 2750 \"$n\""
                + " && touch -h -d '2001-02-03 04:05:06' \"$n/$n\" \"$n/link\" \"$n\"; done");

        Result result = TreeCopier.copy(source, target, TestPools.walkers(4), minutes(), TreeCopier.Progress.NONE);

        assertThat(result).isEqualTo(new Result(2, 2, 2, 8, 0));
        String listing = "cd '%s' && find . -mindepth 1 -printf '%%P %%y %%m %%U:%%G %%TY%%Tm%%Td%%TH%%TM%%TS %%s %%l\\n'"
                + " | LC_ALL=C sort | od -c";
        assertThat(sh(listing.formatted(target))).isEqualTo(sh(listing.formatted(source)));
    }

    // --- parallelism, deadline, preconditions ---

    @Test
    @Timeout(120)
    void copy_parallelism1And16_giveIdenticalTrees() throws Exception {
        Path source = Files.createDirectory(work.resolve("source"));
        for (int d = 0; d < 20; d++) {
            Path sub = Files.createDirectories(source.resolve("d" + d + "/deeper" + (d % 3)));
            for (int f = 0; f < 50; f++) {
                Files.writeString(sub.resolve("f" + f), "file " + d + "/" + f);
            }
            Files.createLink(source.resolve("d" + d + "/hard"), sub.resolve("f0"));
            Files.createSymbolicLink(source.resolve("d" + d + "/link"), Path.of("deeper" + (d % 3) + "/f1"));
        }
        for (int f = 0; f < 1000; f++) {
            Files.writeString(source.resolve("top" + f), "top " + f);
        }
        ageEverything(source);
        Path one = Files.createDirectory(work.resolve("one"));
        Path sixteen = Files.createDirectory(work.resolve("sixteen"));

        Result byOne = TreeCopier.copy(source, one, TestPools.walkers(1), minutes(), TreeCopier.Progress.NONE);
        Result bySixteen = TreeCopier.copy(source, sixteen, TestPools.walkers(16), minutes(), TreeCopier.Progress.NONE);

        assertThat(byOne).isEqualTo(bySixteen);
        assertThat(byOne.files()).isEqualTo(2020);
        assertThat(byOne.directories()).isEqualTo(40);
        assertThat(byOne.symlinks()).isEqualTo(20);
        Map<String, String> expected = snapshot(source);
        assertThat(snapshot(one)).isEqualTo(expected);
        assertThat(snapshot(sixteen)).isEqualTo(expected);
        assertThat(linkGroups(one)).isEqualTo(linkGroups(source)).hasSize(20);
        assertThat(linkGroups(sixteen)).isEqualTo(linkGroups(source));
    }

    @Test
    @Timeout(120)
    void copy_expiredDeadline_throwsDeadlineExceededAndWritesNothing() throws Exception {
        Path source = Files.createDirectory(work.resolve("source"));
        Files.writeString(source.resolve("f"), "x");
        Path target = Files.createDirectory(work.resolve("target"));

        CsiException e = catchThrowableOfType(CsiException.class, () -> TreeCopier.copy(source, target, TestPools.walkers(4),
                Deadline.after(-1, TimeUnit.SECONDS), TreeCopier.Progress.NONE));

        assertThat(e.code()).isEqualTo(Status.Code.DEADLINE_EXCEEDED);
        assertThat(target).isEmptyDirectory();
    }

    @ParameterizedTest
    @Timeout(120)
    @ValueSource(ints = {1, 8})
    void copy_deadlineExpiringMidway_throwsDeadlineExceededWithAPartialCopy(int parallelism) throws Exception {
        Path source = Files.createDirectory(work.resolve("source"));
        for (int f = 0; f < 300; f++) {
            Files.writeString(Files.createDirectories(source.resolve("d" + f % 10)).resolve("f" + f), "x");
        }
        Path target = Files.createDirectory(work.resolve("target"));
        // the deadline is read a few times per entry: it expires well before 310 entries are copied
        Deadline soon = Deadline.after(300, TimeUnit.SECONDS, new SteppingTicker());

        CsiException e = catchThrowableOfType(CsiException.class,
                () -> TreeCopier.copy(source, target, TestPools.walkers(parallelism), soon, TreeCopier.Progress.NONE));

        assertThat(e.code()).isEqualTo(Status.Code.DEADLINE_EXCEEDED);
        assertThat(HostileTree.count(target).files()).isPositive().isLessThan(300);
    }

    @Test
    @Timeout(120)
    void copy_targetNotEmpty_failsPreconditionAndWritesNothing() throws Exception {
        Path source = Files.createDirectory(work.resolve("source"));
        Files.writeString(source.resolve("f"), "new");
        Path target = Files.createDirectory(work.resolve("target"));
        Files.writeString(target.resolve("old"), "old");

        CsiException e = catchThrowableOfType(CsiException.class,
                () -> TreeCopier.copy(source, target, TestPools.walkers(4), minutes(), TreeCopier.Progress.NONE));

        assertThat(e.code()).isEqualTo(Status.Code.FAILED_PRECONDITION);
        assertThat(snapshot(target).keySet()).containsExactly("", "old");
    }

    @Test
    @Timeout(120)
    void copy_targetInsideSource_failsPrecondition() throws Exception {
        Path source = Files.createDirectory(work.resolve("source"));
        Files.writeString(source.resolve("f"), "x");
        Path target = Files.createDirectory(source.resolve("clone"));

        CsiException e = catchThrowableOfType(CsiException.class,
                () -> TreeCopier.copy(source, target, TestPools.walkers(4), minutes(), TreeCopier.Progress.NONE));

        assertThat(e.code()).isEqualTo(Status.Code.FAILED_PRECONDITION);
        assertThat(e).hasMessageContaining("inside the source");
    }

    @Test
    @Timeout(120)
    void copy_sameDirectory_invalidArgument() throws Exception {
        Path source = Files.createDirectory(work.resolve("source"));

        CsiException e = catchThrowableOfType(CsiException.class,
                () -> TreeCopier.copy(source, source, TestPools.walkers(4), minutes(), TreeCopier.Progress.NONE));

        assertThat(e.code()).isEqualTo(Status.Code.INVALID_ARGUMENT);
    }

    @Test
    @Timeout(120)
    void copy_setgidTarget_entriesStillGetTheSourceGroups() throws Exception {
        Path source = Files.createDirectory(work.resolve("source"));
        Files.createDirectory(source.resolve("dir"));
        Files.writeString(source.resolve("dir/f"), "x");
        Path target = Files.createDirectory(work.resolve("target"));
        Files.setAttribute(target, "unix:gid", 5678);
        PathCalls.chmod(target, 02775);

        TreeCopier.copy(source, target, TestPools.walkers(2), minutes(), TreeCopier.Progress.NONE);

        assertThat(snapshot(target)).isEqualTo(snapshot(source));
    }

    @Test
    @Timeout(120)
    void copy_deepTreeWithSmallHandleBudget_staysWithinIt() throws Exception {
        Path source = Files.createDirectory(work.resolve("source"));
        int depth = 300;
        Path bottom = Files.createDirectories(source.resolve("d/".repeat(depth)));
        for (Path p = bottom; !p.equals(source); p = p.getParent()) {
            Files.writeString(p.resolve("f"), "x");
            Files.createDirectory(p.resolve("side"));
        }
        Path target = Files.createDirectory(work.resolve("target"));
        int parallelism = 4;
        int budget = 8;

        TreeCopier.Run run = TreeCopier.run(source, target, TestPools.walkers(parallelism), minutes(), TreeCopier.Progress.NONE, budget);

        assertThat(run.result()).isEqualTo(new Result(depth, 2L * depth, 0, depth, 0));
        assertThat(snapshot(target)).isEqualTo(snapshot(source));
        // in use at once: at most three per thread (a directory, its parent, one being opened)
        assertThat(run.peakOpenHandles()).isLessThanOrEqualTo(budget + 3 * parallelism);
    }

    @Test
    @Timeout(120)
    void copy_progress_endsWithTheTotals() throws Exception {
        Path source = Files.createDirectory(work.resolve("source"));
        Files.createDirectory(source.resolve("dir"));
        Files.writeString(source.resolve("dir/f"), "12345");
        Files.createSymbolicLink(source.resolve("link"), Path.of("dir"));
        Path target = Files.createDirectory(work.resolve("target"));
        List<long[]> updates = new ArrayList<>();

        TreeCopier.copy(source, target, TestPools.walkers(2), minutes(), (entries, bytes) -> updates.add(new long[] {entries, bytes}));

        assertThat(updates).isNotEmpty();
        assertThat(updates.getLast()).containsExactly(3, 5);
    }

    // --- random trees ---

    enum Kind { DIRECTORY, FILE, EMPTY_FILE, HARD_LINK, LINK_TO_OUTSIDE, LINK_TO_ROOT, LINK_UP, DANGLING }

    /** An entry of the kind in the directory picked (modulo the directories made so far), with picked attributes. */
    record Entry(Kind kind, int parentPick, int modePick, int ownerPick, int size, int time) {}

    private static final int[] FILE_MODES = {0644, 0600, 0400, 0000, 04755, 02711, 06777, 0777};
    private static final int[] DIRECTORY_MODES = {0755, 0700, 0500, 02775, 01777, 03770, 0555, 0711};
    private static final int[][] OWNERS = {{0, 0}, {1234, 5678}, {1, 2}, {65534, 0}};

    @Provide
    Arbitrary<List<Entry>> trees() {
        return Combinators.combine(Arbitraries.of(Kind.class), Arbitraries.integers().between(0, 1000),
                        Arbitraries.integers().between(0, 7), Arbitraries.integers().between(0, 3),
                        Arbitraries.integers().between(0, 70_000), Arbitraries.integers().between(0, 2_000_000_000))
                .as(Entry::new).list().ofMaxSize(30);
    }

    @Property(tries = 100)
    void copy_randomTree_copyComparesEqual(@ForAll("trees") List<Entry> entries,
                                           @ForAll @IntRange(min = 1, max = 8) int parallelism) throws Exception {
        Path base = Files.createTempDirectory("tree-copier-");
        try {
            Path source = Files.createDirectory(base.resolve("source"));
            Path target = Files.createDirectory(base.resolve("target"));
            Path outsideDir = Files.createDirectory(base.resolve("outside"));
            Path canary = Files.writeString(outsideDir.resolve("canary"), CANARY);
            plant(source, canary, entries);

            TreeCopier.copy(source, target, TestPools.walkers(parallelism), minutes(), TreeCopier.Progress.NONE);

            assertThat(snapshot(target)).isEqualTo(snapshot(source));
            assertThat(linkGroups(target)).isEqualTo(linkGroups(source));
            assertThat(snapshot(outsideDir).keySet()).containsExactly("", "canary");
            assertThat(canary).hasContent(CANARY);
        } finally {
            HostileTree.removeQuietly(base);
        }
    }

    private static void plant(Path source, Path canary, List<Entry> entries) throws IOException {
        List<Path> dirs = new ArrayList<>(List.of(source));
        List<Path> files = new ArrayList<>();
        List<Entry> attributed = new ArrayList<>();
        List<Path> made = new ArrayList<>();
        Random random = new Random(entries.size());
        for (int i = 0; i < entries.size(); i++) {
            Entry e = entries.get(i);
            Path at = dirs.get(e.parentPick() % dirs.size()).resolve("e" + i);
            switch (e.kind()) {
                case DIRECTORY -> dirs.add(Files.createDirectory(at));
                case FILE -> {
                    byte[] content = new byte[e.size()];
                    random.nextBytes(content);
                    files.add(Files.write(at, content));
                }
                case EMPTY_FILE -> files.add(Files.createFile(at));
                case HARD_LINK -> {
                    if (files.isEmpty()) {
                        files.add(Files.writeString(at, "first of its inode"));
                    } else {
                        Files.createLink(at, files.get(e.size() % files.size()));
                    }
                }
                case LINK_TO_OUTSIDE -> Files.createSymbolicLink(at, canary);
                case LINK_TO_ROOT -> Files.createSymbolicLink(at, Path.of("/"));
                case LINK_UP -> Files.createSymbolicLink(at, Path.of("../".repeat(1 + e.size() % 4)));
                case DANGLING -> Files.createSymbolicLink(at, Path.of("nowhere/" + i));
            }
            attributed.add(e);
            made.add(at);
        }
        // children before parents: setting an entry's attributes changes nothing of its directory's
        for (int i = made.size() - 1; i >= 0; i--) {
            Entry e = attributed.get(i);
            Path p = made.get(i);
            int[] owner = OWNERS[e.ownerPick()];
            Files.setAttribute(p, "unix:uid", owner[0], NOFOLLOW_LINKS);
            Files.setAttribute(p, "unix:gid", owner[1], NOFOLLOW_LINKS);
            if (!Files.isSymbolicLink(p)) {
                boolean dir = Files.isDirectory(p, NOFOLLOW_LINKS);
                PathCalls.chmod(p, (dir ? DIRECTORY_MODES : FILE_MODES)[e.modePick()]);
            }
            FileTime time = FileTime.from(Instant.ofEpochSecond(e.time(), e.size()));
            PathCalls.setTimes(p, time, time);
        }
    }

    // --- helpers ---

    /** Sets OLD as the times of every entry below {@code root}, children before their directories. */
    private static void ageEverything(Path root) throws IOException {
        Files.walkFileTree(root, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path f, BasicFileAttributes attrs) throws IOException {
                PathCalls.setTimes(f, OLD, OLD); // the JDK's setTimes opens the file: a FIFO would block it
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path d, IOException e) throws IOException {
                if (!d.equals(root)) {
                    PathCalls.setTimes(d, OLD, OLD);
                }
                return FileVisitResult.CONTINUE;
            }
        });
    }

    private static int mode(Path p) throws IOException {
        return (Integer) Files.getAttribute(p, "unix:mode", NOFOLLOW_LINKS) & 07777;
    }

    /**
     * Every entry below {@code root} (the root itself as ""), walked without following links: kind, mode, owner,
     * mtime and, for a file its size and digest, for a link its text.
     */
    static Map<String, String> snapshot(Path root) throws IOException {
        Map<String, String> entries = new TreeMap<>();
        Files.walkFileTree(root, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path d, BasicFileAttributes attrs) throws IOException {
                entries.put(root.relativize(d).toString(), describe(d, "dir", ""));
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path f, BasicFileAttributes attrs) throws IOException {
                String name = root.relativize(f).toString();
                if (attrs.isSymbolicLink()) {
                    entries.put(name, describe(f, "link", Files.readSymbolicLink(f).toString()));
                } else if (attrs.isRegularFile()) {
                    entries.put(name, describe(f, "file", attrs.size() + " " + digest(f)));
                } else {
                    entries.put(name, describe(f, "other", ""));
                }
                return FileVisitResult.CONTINUE;
            }
        });
        return entries;
    }

    private static String describe(Path p, String kind, String content) throws IOException {
        Map<String, Object> a = Files.readAttributes(p, "unix:mode,uid,gid,lastModifiedTime", NOFOLLOW_LINKS);
        int mode = kind.equals("link") ? 0 : (Integer) a.get("mode") & 07777;
        return "%s %04o %s:%s %s %s".formatted(kind, mode, a.get("uid"), a.get("gid"), a.get("lastModifiedTime"),
                content);
    }

    private static String digest(Path f) throws IOException {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(f)));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }

    /** The names that share an inode, as sets of two or more. */
    static Set<Set<String>> linkGroups(Path root) throws IOException {
        Map<Object, Set<String>> byInode = new java.util.HashMap<>();
        Files.walkFileTree(root, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path f, BasicFileAttributes attrs) {
                if (attrs.isRegularFile()) {
                    byInode.computeIfAbsent(attrs.fileKey(), k -> new java.util.TreeSet<>())
                            .add(root.relativize(f).toString());
                }
                return FileVisitResult.CONTINUE;
            }
        });
        return byInode.values().stream().filter(names -> names.size() > 1).collect(Collectors.toSet());
    }

    private static List<String> regularFileContents(Path root) throws IOException {
        List<String> contents = new ArrayList<>();
        Files.walkFileTree(root, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path f, BasicFileAttributes attrs) throws IOException {
                if (attrs.isRegularFile()) {
                    contents.add(new String(Files.readAllBytes(f), StandardCharsets.ISO_8859_1));
                }
                return FileVisitResult.CONTINUE;
            }
        });
        return contents;
    }

    private static String sh(String script) throws IOException, InterruptedException {
        Process p = new ProcessBuilder("sh", "-c", script).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
        assertThat(p.waitFor()).as(out).isZero();
        return out;
    }
}
