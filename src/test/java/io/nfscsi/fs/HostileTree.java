package io.nfscsi.fs;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Test trees: a share with a victim volume, a sibling volume and, outside the share, canary files, plus helpers to
 * populate and inspect trees without following links.
 */
final class HostileTree {

    static final String CANARY = "do not delete me";

    final Path share;
    final Path victim;
    final Path sibling;
    final Path outside;
    /** Every canary file and its expected content. */
    final Map<Path, String> canaries = new TreeMap<>();

    private HostileTree(Path share, Path outside) throws IOException {
        this.share = share;
        this.victim = Files.createDirectories(share.resolve("vols/victim"));
        this.sibling = Files.createDirectories(share.resolve("vols/sibling"));
        this.outside = outside;
        canary(sibling.resolve("canary.txt"));
        canary(outside.resolve("canary.txt"));
        canary(Files.createDirectories(outside.resolve("dir")).resolve("canary.txt"));
        canary(share.resolve("canary.txt"));
    }

    /** The share and its volumes under {@code work}, canaries under {@code outside} (outside the share). */
    static HostileTree under(Path work, Path outside) throws IOException {
        return new HostileTree(Files.createDirectories(work.resolve("share")), outside);
    }

    private void canary(Path file) throws IOException {
        String content = CANARY + " " + file.getFileName() + " " + canaries.size();
        Files.writeString(file, content);
        canaries.put(file, content);
    }

    /** Canaries whose content differs from what was written, or that are gone. */
    List<Path> damagedCanaries() throws IOException {
        List<Path> damaged = new ArrayList<>();
        for (var e : canaries.entrySet()) {
            if (!Files.isRegularFile(e.getKey(), LinkOption.NOFOLLOW_LINKS)
                    || !Files.readString(e.getKey(), StandardCharsets.UTF_8).equals(e.getValue())) {
                damaged.add(e.getKey());
            }
        }
        return damaged;
    }

    /**
     * Fills the victim with everything hostile: nested and empty directories, links to the outside, to the
     * sibling, to "..", a dangling one, a FIFO (when mkfifo exists), a mode-000 file and a mode-0500 directory.
     *
     * @return how many non-directories and directories (the victim included) were created
     */
    Counts populateVictim() throws IOException, InterruptedException {
        long files = 0;
        long dirs = 1;
        Path nested = Files.createDirectories(victim.resolve("a/b/c"));
        dirs += 3;
        for (int i = 0; i < 5; i++) {
            Files.writeString(nested.resolve("f" + i), "data " + i);
            Files.writeString(victim.resolve("a/g" + i), "data " + i);
            files += 2;
        }
        Files.createDirectories(victim.resolve("empty/emptier"));
        dirs += 2;
        Files.createSymbolicLink(victim.resolve("to-outside"), outside);
        Files.createSymbolicLink(victim.resolve("a/b/to-outside-file"), outside.resolve("canary.txt"));
        Files.createSymbolicLink(victim.resolve("to-sibling"), Path.of("../sibling"));
        Files.createSymbolicLink(victim.resolve("a/b/c/to-share"), Path.of("../../../../.."));
        Files.createSymbolicLink(victim.resolve("to-parent"), Path.of(".."));
        Files.createSymbolicLink(victim.resolve("a/to-self"), Path.of("."));
        Files.createSymbolicLink(victim.resolve("dangling"), Path.of("no/such/thing"));
        files += 7;
        if (mkfifo(victim.resolve("a/fifo"))) {
            files++;
        }
        Path locked = Files.writeString(victim.resolve("a/b/mode000"), "locked");
        Files.setPosixFilePermissions(locked, PosixFilePermissions.fromString("---------"));
        files++;
        Path readOnly = Files.createDirectory(victim.resolve("readonly"));
        Files.writeString(readOnly.resolve("inside"), "x");
        Files.createSymbolicLink(readOnly.resolve("link"), outside.resolve("dir"));
        Files.setPosixFilePermissions(readOnly, PosixFilePermissions.fromString("r-x------"));
        files += 2;
        dirs++;
        return new Counts(files, dirs);
    }

    record Counts(long files, long directories) {}

    /** Creates a FIFO with mkfifo(1); false when the command is not available. */
    static boolean mkfifo(Path path) throws InterruptedException {
        try {
            Process p = new ProcessBuilder("mkfifo", path.toString()).redirectErrorStream(true).start();
            p.getInputStream().transferTo(java.io.OutputStream.nullOutputStream());
            return p.waitFor() == 0;
        } catch (IOException e) {
            return false;
        }
    }

    /** Counts entries below {@code dir} without following links: non-directories and directories. */
    static Counts count(Path dir) throws IOException {
        long[] n = new long[2];
        Files.walkFileTree(dir, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path d, BasicFileAttributes attrs) {
                n[1]++;
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path f, BasicFileAttributes attrs) {
                n[0]++;
                return FileVisitResult.CONTINUE;
            }
        });
        return new Counts(n[0], n[1]);
    }

    /** Removes a test tree without following links (for jqwik tries, which get no @TempDir). */
    static void removeQuietly(Path dir) {
        try {
            Files.walkFileTree(dir, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult visitFile(Path f, BasicFileAttributes attrs) throws IOException {
                    Files.delete(f);
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult postVisitDirectory(Path d, IOException e) throws IOException {
                    Files.delete(d);
                    return FileVisitResult.CONTINUE;
                }
            });
        } catch (IOException ignored) {
            // a leftover in /tmp is no reason to fail a test
        }
    }
}
