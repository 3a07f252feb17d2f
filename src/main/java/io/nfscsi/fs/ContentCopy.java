package io.nfscsi.fs;

import static java.nio.file.LinkOption.NOFOLLOW_LINKS;
import static java.util.concurrent.TimeUnit.NANOSECONDS;

import io.nfscsi.concurrent.Deadline;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.SeekableByteChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.SecureDirectoryStream;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The copy of one non-directory entry of a {@link ParallelCopy}: a regular file's contents (or, for a second name
 * of a multiply-linked file, a hard link to the first name's copy) or a symbolic link's text, then its attributes.
 * The source file is opened through its directory's handle with {@code O_NOFOLLOW}; the target is created new.
 */
final class ContentCopy {

    /** Bytes per transferTo call: the deadline is checked between them. */
    private static final long CHUNK = 64L << 20;

    /** Buffer for channels that cannot transfer directly (not expected from the default file system). */
    private static final int BUFFER = 1 << 20;

    private static final Set<OpenOption> READ = Set.of(StandardOpenOption.READ, NOFOLLOW_LINKS);
    private static final Set<OpenOption> CREATE =
            Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE, NOFOLLOW_LINKS);

    /** An entry, as seen through its directory's handle and, matched by inode, by path. */
    record Entry(BasicFileAttributes seen, CopyAttributes attributes, int links) {}

    /** What a copy has done so far. */
    static final class Tally {
        final AtomicLong files = new AtomicLong();
        final AtomicLong directories = new AtomicLong();
        final AtomicLong symlinks = new AtomicLong();
        final AtomicLong bytes = new AtomicLong();
        final AtomicLong skipped = new AtomicLong();

        long entries() {
            return files.get() + directories.get() + symlinks.get() + skipped.get();
        }
    }

    /** The failure for an entry whose path and handle no longer lead to the same inode. */
    @FunctionalInterface
    interface Replaced {
        RuntimeException of(Path source);
    }

    private final RunControl control;
    private final Deadline deadline;
    private final Tally tally;
    private final Replaced replaced;
    /** The first copy of each multiply-linked source inode: its target, once created; null if it was not. */
    private final Map<Object, CompletableFuture<Path>> linked = new ConcurrentHashMap<>();

    ContentCopy(RunControl control, Deadline deadline, Tally tally, Replaced replaced) {
        this.control = control;
        this.deadline = deadline;
        this.tally = tally;
        this.replaced = replaced;
    }

    /** Copies the regular file {@code name} of {@code dir} to {@code target}; the first of several names copies. */
    void copyFile(SecureDirectoryStream<Path> dir, Path name, Entry entry, Path target) throws IOException {
        if (entry.links() <= 1) {
            copyContents(dir, name, entry, target, null);
            return;
        }
        Object key = entry.seen().fileKey();
        while (true) {
            CompletableFuture<Path> mine = new CompletableFuture<>();
            CompletableFuture<Path> first = linked.putIfAbsent(key, mine);
            if (first == null) {
                try {
                    copyContents(dir, name, entry, target, mine);
                } finally {
                    if (mine.complete(null)) {
                        linked.remove(key, mine); // never created (gone, or failed): another name may copy it
                    }
                }
                return;
            }
            Path existing = awaitFirst(first);
            if (existing != null) {
                control.checkpoint();
                Files.createLink(target, existing);
                tally.files.incrementAndGet();
                return;
            }
        }
    }

    private Path awaitFirst(CompletableFuture<Path> first) {
        try {
            // The first name's copier completes this right after creating its target, before copying contents.
            return first.get(Math.max(0, deadline.timeRemaining(NANOSECONDS)), NANOSECONDS);
        } catch (TimeoutException e) {
            control.fail(RunControl.DEADLINE);
            throw RunControl.STOPPED;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            control.fail(e);
            throw RunControl.STOPPED;
        } catch (ExecutionException e) {
            throw new IllegalStateException(e); // never completed exceptionally
        }
    }

    /**
     * Copies a regular file's contents and attributes; false when it is gone. {@code created}, if given, is
     * completed with the target as soon as that exists.
     */
    private boolean copyContents(SecureDirectoryStream<Path> dir, Path name, Entry entry, Path target,
                                 CompletableFuture<Path> created) throws IOException {
        long copied;
        SeekableByteChannel in;
        try {
            in = dir.newByteChannel(name, READ);
        } catch (NoSuchFileException e) {
            return false;
        }
        try (in; FileChannel out = FileChannel.open(target, CREATE)) {
            if (created != null) {
                created.complete(target);
            }
            copied = transfer(in, out);
        }
        control.checkpoint();
        entry.attributes().applyTo(target, true, true);
        tally.files.incrementAndGet();
        tally.bytes.addAndGet(copied);
        return true;
    }

    /** Copies until end of file (the source may have grown since its lstat), in chunks with checks in between. */
    private long transfer(SeekableByteChannel in, FileChannel out) throws IOException {
        long position = 0;
        if (in instanceof FileChannel from) {
            // transferTo: copy_file_range(2) within one file system (server-side for NFS 4.2), else sendfile.
            long n;
            while ((n = from.transferTo(position, CHUNK, out)) > 0) {
                position += n;
                control.checkpoint();
            }
            return position;
        }
        ByteBuffer buffer = ByteBuffer.allocate(BUFFER);
        while (in.read(buffer) >= 0) {
            buffer.flip();
            while (buffer.hasRemaining()) {
                position += out.write(buffer);
            }
            buffer.clear();
            control.checkpoint();
        }
        return position;
    }

    /** Copies the symbolic link at {@code source} to {@code target}, its text as it is, never resolved. */
    void copyLink(Path source, Entry entry, Path target) throws IOException {
        Path text;
        try {
            text = Files.readSymbolicLink(source);
            // The text was read by path: it counts only if the path still leads to the link the handle saw.
            Object key = Files.readAttributes(source, BasicFileAttributes.class, NOFOLLOW_LINKS).fileKey();
            if (!entry.seen().fileKey().equals(key)) {
                throw replaced.of(source);
            }
        } catch (NoSuchFileException e) {
            return;
        }
        Files.createSymbolicLink(target, text); // the text as it is: never resolved, wherever it points
        control.checkpoint();
        entry.attributes().applyTo(target, false, true);
        tally.symlinks.incrementAndGet();
    }
}
