package io.nfscsi.snapshot;

import static java.nio.file.LinkOption.NOFOLLOW_LINKS;

import io.nfscsi.mount.Posix;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributeView;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.stream.Stream;

/** Test trees with every kind of entry, and a description of a tree to compare two of them by. */
final class Trees {

    static final int UID = 1234;
    static final int GID = 5678;
    static final Instant OLD = Instant.parse("2001-02-03T04:05:06.123456700Z");
    static final String LONG_NAME = "long-" + "n".repeat(150);
    static final String DEEP_DIR = "dirs/" + "sub-directory/".repeat(8);

    private Trees() {}

    /** One entry as it matters to a snapshot; {@code content} is a digest, a link target, or empty. */
    record Node(String type, int mode, int uid, int gid, Instant mtime, long size, String content,
                List<String> hardLinks) {}

    /**
     * Fills {@code root} with nested and empty directories, an empty file, a few MiB of random data, modes 4755,
     * 2775, 1777 and 0600, owner 1234:5678, a symlink to "/", a relative and a dangling one, a hard-link pair, a
     * long name, a non-ASCII name, a deep path and a FIFO; then sets old modification times on everything.
     */
    static void populate(Path root) throws Exception {
        Files.createDirectories(root.resolve("dirs/nested/deeper"));
        Files.writeString(root.resolve("dirs/nested/deeper/leaf.txt"), "leaf\n");
        Files.createDirectories(root.resolve("empty"));
        Files.createDirectories(root.resolve("setgid"));
        Files.writeString(root.resolve("setgid/inside"), "group file\n");
        Files.createDirectories(root.resolve("sticky"));
        Files.write(root.resolve("zero"), new byte[0]);
        byte[] random = new byte[3 * 1024 * 1024 + 17];
        new Random(42).nextBytes(random);
        Files.write(root.resolve("random.bin"), random);
        Files.writeString(root.resolve("suid"), "#!/bin/sh\necho suid\n");
        Files.writeString(root.resolve("private"), "secret\n");
        Files.createSymbolicLink(root.resolve("abs-link"), Path.of("/"));
        Files.createSymbolicLink(root.resolve("rel-link"), Path.of("dirs/nested/deeper/leaf.txt"));
        Files.createSymbolicLink(root.resolve("dangling"), Path.of("no/such/file"));
        Files.writeString(root.resolve("hard-a"), "shared inode\n");
        Files.createLink(root.resolve("dirs/hard-b"), root.resolve("hard-a"));
        Files.writeString(root.resolve(LONG_NAME), "long name\n");
        Files.writeString(root.resolve("résumé-数据.txt"), "unicode\n");
        Files.createDirectories(root.resolve(DEEP_DIR));
        Files.writeString(root.resolve(DEEP_DIR + "deep-file"), "deep\n");
        run(root, "mkfifo", "fifo");

        Posix.chmod(root, 0750);
        Posix.chmod(root.resolve("suid"), 04755);
        Posix.chmod(root.resolve("setgid"), 02775);
        Posix.chmod(root.resolve("sticky"), 01777);
        Posix.chmod(root.resolve("private"), 0600);
        for (String owned : List.of("", "private", "setgid", "setgid/inside", "rel-link", "dirs/hard-b")) {
            Files.setAttribute(root.resolve(owned), "unix:uid", UID, NOFOLLOW_LINKS);
            Files.setAttribute(root.resolve(owned), "unix:gid", GID, NOFOLLOW_LINKS);
        }
        Posix.chmod(root.resolve("setgid"), 02775); // chown clears setgid
        setOldTimes(root);
    }

    /** Old, distinct modification times on everything below and including {@code root} but FIFOs, directories last. */
    static void setOldTimes(Path root) throws IOException {
        List<Path> all;
        try (Stream<Path> walk = Files.walk(root)) {
            all = new ArrayList<>(walk.toList());
        }
        all.sort(Comparator.comparingInt(Path::getNameCount).reversed()); // children before parents
        int i = 0;
        for (Path p : all) {
            if (Files.readAttributes(p, BasicFileAttributes.class, NOFOLLOW_LINKS).isOther()) {
                continue; // Java opens the file to set its times: a FIFO would block
            }
            FileTime t = FileTime.from(OLD.plusSeconds(i++ * 3601L));
            Files.getFileAttributeView(p, BasicFileAttributeView.class, NOFOLLOW_LINKS).setTimes(t, null, null);
        }
    }

    /**
     * Every entry below and including {@code root} (as ""), by relative name, with times truncated to
     * {@code precision}. Hard links are listed by the names sharing their inode.
     */
    static Map<String, Node> describe(Path root, ChronoUnit precision) throws IOException {
        Map<Object, List<String>> inodes = new TreeMap<>(Comparator.comparing(Object::toString));
        Map<String, Map<String, Object>> attributes = new TreeMap<>();
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path p : walk.toList()) {
                String name = root.relativize(p).toString();
                Map<String, Object> a = Files.readAttributes(p, "unix:*", NOFOLLOW_LINKS);
                attributes.put(name, a);
                if ((int) a.get("nlink") > 1 && !(boolean) a.get("isDirectory")) {
                    inodes.computeIfAbsent(a.get("ino") + "/" + a.get("dev"), k -> new ArrayList<>()).add(name);
                }
            }
        }
        Map<String, Node> nodes = new TreeMap<>();
        for (var e : attributes.entrySet()) {
            Path p = root.resolve(e.getKey());
            Map<String, Object> a = e.getValue();
            String type;
            String content = "";
            if ((boolean) a.get("isDirectory")) {
                type = "dir";
            } else if ((boolean) a.get("isSymbolicLink")) {
                type = "symlink";
                content = Files.readSymbolicLink(p).toString();
            } else if ((boolean) a.get("isRegularFile")) {
                type = "file";
                content = sha256(p);
            } else {
                type = "other";
            }
            List<String> links = inodes.getOrDefault(a.get("ino") + "/" + a.get("dev"), List.of());
            Instant mtime = ((FileTime) a.get("lastModifiedTime")).toInstant().truncatedTo(precision);
            int mode = type.equals("symlink") ? 0777 : (int) a.get("mode") & 07777;
            long size = type.equals("dir") ? 0 : (long) a.get("size");
            nodes.put(e.getKey(), new Node(type, mode, (int) a.get("uid"), (int) a.get("gid"), mtime, size,
                    content, links.stream().sorted().toList()));
        }
        return nodes;
    }

    private static String sha256(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file, NOFOLLOW_LINKS)) {
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            byte[] buf = new byte[1 << 16];
            int n;
            while ((n = in.read(buf)) > 0) {
                digest.update(buf, 0, n);
            }
            return HexFormat.of().formatHex(digest.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }

    /** Runs a command in {@code dir}; fails with its output unless it exits 0. Returns its output. */
    static String run(Path dir, String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        int rc = p.waitFor();
        if (rc != 0) {
            throw new AssertionError(String.join(" ", command) + " exited " + rc + ":\n" + output);
        }
        return output;
    }

    /** Whether zstd-jni's native library loads here. */
    static boolean zstdLoads() {
        try {
            Zstd.compress(java.io.OutputStream.nullOutputStream()).close();
            return true;
        } catch (IOException e) {
            return false;
        }
    }
}
