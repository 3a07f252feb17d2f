package io.nfscsi.fs;

import static java.nio.file.LinkOption.NOFOLLOW_LINKS;
import static java.util.concurrent.TimeUnit.NANOSECONDS;

import io.nfscsi.concurrent.Deadline;
import io.nfscsi.error.CsiException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.SeekableByteChannel;
import java.nio.file.DirectoryIteratorException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.SecureDirectoryStream;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The parallel part of {@link TreeCopier}: copies the entries of an open source directory into a target directory.
 *
 * <p>Copying a small file over NFS is a dozen round trips, so the work is cut into tasks that never wait for one
 * another (list a directory; copy a batch of its entries; finish a directory once its count of unfinished work drops
 * to zero) and run by a pool of {@code parallelism} platform threads, as in {@link ParallelDelete}, whose reasons
 * (LIFO per thread, so depth-first; no virtual threads) hold here too.
 *
 * <p>The source is reached only through directory handles: every directory through its parent's handle, opened with
 * {@code O_NOFOLLOW} and checked to have the device and inode that its parent's lstat saw; every file opened through
 * its directory's handle with {@code O_NOFOLLOW}. Java offers no handle-relative call for what a copy also needs
 * (the full mode, numeric owner, link count, a link's text), so those are read by path, and used only when the path
 * leads to the inode the handle saw: a directory above that was swapped for a link makes the path lead elsewhere,
 * and is refused. Handles are closed once a directory's own entries are done, or earlier, when idle and over budget;
 * a directory is reopened from its nearest open ancestor, checked against the inode it had.
 *
 * <p>The target is written by path, below the target root, which must be empty and which only this copy writes to:
 * every entry is created new ({@code O_EXCL}, mkdir, symlink, link) under a directory this copy created, so no path
 * in it passes through a link. A directory's mode, owner and times are set once all of its entries are in, so that a
 * read-only or setgid mode does not affect its own copying, and its mtime is the source's.
 *
 * <p>Between the lstat that finds a regular file or a directory and the open of it, a pod still writing to the tree
 * could put a FIFO in its place: the open would then block. The deadline still ends the call, but that one thread
 * stays blocked until the FIFO gets a writer.
 */
final class ParallelCopy {

    private static final Logger log = LoggerFactory.getLogger(TreeCopier.class);

    /**
     * Entries per task. Copying one entry takes several round trips, so batches are small: a directory of a dozen
     * files still spreads over several threads, and scheduling still costs nothing next to the file-system calls.
     */
    static final int BATCH = 4;

    /** Unfinished pieces of one directory above which its lister copies a batch itself instead of queueing it. */
    private static final int MAX_PENDING = 1024;

    /** How long to wait, once stopped, for threads to finish the call each is in, before leaving them behind. */

    /** How often the caller's thread reports progress while it waits. */
    static final Duration PROGRESS_INTERVAL = Duration.ofSeconds(1);

    /** Bytes per transferTo call: the deadline is checked between them. */
    private static final long CHUNK = 64L << 20;

    /** Buffer for channels that cannot transfer directly (not expected from the default file system). */
    private static final int BUFFER = 1 << 20;

    /** What is read by path for every entry, and the key that ties it to what the handle saw. */
    static final String UNIX_ATTRIBUTES = "unix:mode,uid,gid,nlink,fileKey,lastAccessTime,lastModifiedTime";

    /** Attempts at reading an entry's attributes whose handle and path views disagree (it is being replaced). */
    private static final int ATTEMPTS = 3;

    private static final int S_IFMT = 0170000;

    private static final Set<OpenOption> READ = Set.of(StandardOpenOption.READ, NOFOLLOW_LINKS);
    private static final Set<OpenOption> CREATE =
            Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE, NOFOLLOW_LINKS);

    /** What a source entry looks like and what its copy gets, read once. */
    record Meta(int mode, int uid, int gid, FileTime accessed, FileTime modified) {

        /** From the map read with {@link #UNIX_ATTRIBUTES}. */
        static Meta of(Map<String, Object> attrs) {
            return new Meta((Integer) attrs.get("mode"), (Integer) attrs.get("uid"), (Integer) attrs.get("gid"),
                    (FileTime) attrs.get("lastAccessTime"), (FileTime) attrs.get("lastModifiedTime"));
        }
    }

    /** What the caller learns: the counts, and (for tests) how many handles were open at most. */
    record Outcome(long files, long directories, long symlinks, long bytes, long skipped, int peakOpenHandles) {}

    /** An entry, as seen through its directory's handle and, matched by inode, by path. */
    private record Entry(BasicFileAttributes seen, Meta meta, int links) {}

    /** A source directory being copied. Its handle may be closed while no one uses it, and reopened. */
    private static final class Node {
        final Node parent;
        final Path name;
        final Path source;
        final Path target;
        final Object key;
        final Meta meta;
        /** Work before this directory is complete: its listing, its batches, its unfinished subdirectories. */
        final AtomicInteger pending = new AtomicInteger(1);
        // guarded by this
        SecureDirectoryStream<Path> handle;
        int users;
        /** Work that needs the handle: the listing, queued batches, subdirectories not yet opened through it. */
        int needed = 1;
        boolean queuedIdle;

        Node(Node parent, Path name, Path source, Path target, Object key, Meta meta) {
            this.parent = parent;
            this.name = name;
            this.source = source;
            this.target = target;
            this.key = key;
            this.meta = meta;
        }
    }

    private final String context;
    private final Deadline deadline;
    private final int handleBudget;
    private final Object targetKey;
    private final RunControl control;
    private final Node root;
    private final AtomicLong files = new AtomicLong();
    private final AtomicLong directories = new AtomicLong();
    private final AtomicLong symlinks = new AtomicLong();
    private final AtomicLong bytes = new AtomicLong();
    private final AtomicLong skipped = new AtomicLong();
    /** The first copy of each multiply-linked source inode: its target, once created; null if it was not. */
    private final Map<Object, CompletableFuture<Path>> linked = new ConcurrentHashMap<>();
    /** Nodes whose handle was open and unused when last released, oldest first: the order of closing. */
    private final ConcurrentLinkedQueue<Node> idle = new ConcurrentLinkedQueue<>();
    private final Set<SecureDirectoryStream<Path>> openHandles = ConcurrentHashMap.newKeySet();
    private final AtomicInteger open = new AtomicInteger();
    private final AtomicInteger peakOpen = new AtomicInteger();
    private final AtomicLong releases = new AtomicLong();
    private final AtomicBoolean sweeping = new AtomicBoolean();

    private ParallelCopy(SecureDirectoryStream<Path> sourceHandle, Path sourceRoot, Object sourceKey, Meta rootMeta,
                         Path targetRoot, Object targetKey, String context, int parallelism, Deadline deadline,
                         int handleBudget) {
        this.context = context;
        this.deadline = deadline;
        this.handleBudget = handleBudget;
        this.targetKey = targetKey;
        this.control = new RunControl(context, deadline, parallelism);
        this.root = new Node(null, null, sourceRoot, targetRoot, sourceKey, rootMeta);
        root.handle = sourceHandle;
        root.users = 1; // never idle, so never closed before the end
    }

    /**
     * Copies the entries of {@code sourceHandle} into {@code targetRoot}, then gives the target root the source
     * root's mode, owner and times. Takes ownership of {@code sourceHandle}, which is closed when this returns, or,
     * if a thread is still blocked in the kernel then, when it comes back.
     *
     * @param context      what is being done, to start messages ("copying a to b")
     * @param handleBudget open directory handles above which idle ones are closed
     * @param progress     told about once every {@link #PROGRESS_INTERVAL}, on the calling thread
     * @throws CsiException.DeadlineExceeded   when the deadline expires first; what was copied stays
     * @throws CsiException.Aborted            when a source entry was replaced while it was being copied
     * @throws CsiException.FailedPrecondition when the target root turns up inside the source, or a directory is
     *                                         the same as one above it (a bind mount)
     * @throws CsiException.Internal           on any other failure of a file-system call
     */
    static Outcome run(SecureDirectoryStream<Path> sourceHandle, Path sourceRoot, Object sourceKey, Meta rootMeta,
                       Path targetRoot, Object targetKey, String context, int parallelism, Deadline deadline,
                       int handleBudget, TreeCopier.Progress progress) {
        ParallelCopy run = new ParallelCopy(sourceHandle, sourceRoot, sourceKey, rootMeta, targetRoot, targetKey,
                context, parallelism, deadline, handleBudget);
        run.fork(() -> run.list(run.root));
        run.await(progress);
        Throwable failed = run.control.failure();
        if (failed != null) {
            throw run.describe(failed);
        }
        progress.update(run.entries(), run.bytes.get());
        return new Outcome(run.files.get(), run.directories.get(), run.symlinks.get(), run.bytes.get(),
                run.skipped.get(), run.peakOpen.get());
    }

    private long entries() {
        return files.get() + directories.get() + symlinks.get() + skipped.get();
    }

    private void await(TreeCopier.Progress progress) {
        long interval = PROGRESS_INTERVAL.toNanos();
        try {
            // The threads check the deadline between calls; this bound is for a call that never returns (a hung
            // server), which no check between calls can notice.
            while (!control.awaitFinished(Math.max(0, Math.min(interval, deadline.timeRemaining(NANOSECONDS))))) {
                if (deadline.isExpired()) {
                    fail(RunControl.DEADLINE);
                    break;
                }
                try {
                    progress.update(entries(), bytes.get());
                } catch (RuntimeException e) {
                    fail(e);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            fail(e);
        }
        control.shutDown(this::closeAll, "fs-copy-cleanup");
    }

    private CsiException describe(Throwable failed) {
        String progress = entries() + " entries copied; the target holds a partial copy";
        return control.describe(failed, progress);
    }

    private void fail(Throwable t) {
        control.fail(t);
    }

    private void checkpoint() {
        control.checkpoint();
    }

    private void fork(RunControl.Step step) {
        control.fork(step);
    }

    private String shown(Node dir, Path name) {
        Path relative = root.source.relativize(dir.source);
        return (relative.toString().isEmpty() ? name : relative.resolve(name)).toString();
    }

    // --- tasks ---

    /** Lists {@code dir}, handing its entries out in batches while the listing goes on. */
    private void list(Node dir) throws IOException {
        SecureDirectoryStream<Path> handle;
        try {
            handle = acquire(dir);
        } catch (NoSuchFileException e) {
            handle = null; // removed since its parent listed it: its copy stays empty
        } finally {
            if (dir.parent != null) {
                unneed(dir.parent); // it was kept open for this first open of dir
            }
        }
        if (handle != null) {
            try {
                // A node is listed only right after its first open, so the stream has not been iterated, which a
                // stream allows only once.
                List<Path> batch = new ArrayList<>(BATCH);
                for (Path entry : handle) {
                    batch.add(entry.getFileName());
                    if (batch.size() == BATCH) {
                        dispatch(dir, batch);
                        batch = new ArrayList<>(BATCH);
                        checkpoint();
                    }
                }
                if (!batch.isEmpty()) {
                    dispatch(dir, batch);
                }
            } catch (DirectoryIteratorException e) {
                throw e.getCause();
            } finally {
                release(dir, true);
            }
        } else {
            unneed(dir);
        }
        finishedOne(dir);
    }

    private void dispatch(Node dir, List<Path> names) throws IOException {
        dir.pending.incrementAndGet();
        need(dir);
        if (dir.pending.get() > MAX_PENDING) {
            copyBatch(dir, names); // a huge directory: list no further ahead of the copying
        } else {
            fork(() -> copyBatch(dir, names));
        }
    }

    private void copyBatch(Node dir, List<Path> names) throws IOException {
        SecureDirectoryStream<Path> handle;
        try {
            handle = acquire(dir);
        } catch (NoSuchFileException e) {
            unneed(dir); // the directory was removed from the source, and these entries with it
            finishedOne(dir);
            return;
        }
        try {
            for (Path name : names) {
                checkpoint();
                copyEntry(handle, dir, name);
            }
        } finally {
            release(dir, true);
        }
        finishedOne(dir);
    }

    private void copyEntry(SecureDirectoryStream<Path> handle, Node dir, Path name) throws IOException {
        Entry entry = inspect(handle, dir, name);
        if (entry == null) {
            return; // removed since the listing
        }
        Path target = dir.target.resolve(name);
        BasicFileAttributes seen = entry.seen();
        try {
            if (seen.isDirectory()) {
                if (seen.fileKey().equals(targetKey)) {
                    throw new CsiException.FailedPrecondition(context + ": the target is inside the source, at "
                            + shown(dir, name));
                }
                for (Node above = dir; above != null; above = above.parent) {
                    if (seen.fileKey().equals(above.key)) { // a bind mount of an ancestor: copying would not end
                        throw new CsiException.FailedPrecondition(context + ": " + shown(dir, name)
                                + " is the same directory as one above it");
                    }
                }
                Files.createDirectory(target);
                Node child = new Node(dir, name, dir.source.resolve(name), target, seen.fileKey(), entry.meta());
                dir.pending.incrementAndGet();
                need(dir); // to open the child through
                fork(() -> list(child));
            } else if (seen.isRegularFile()) {
                copyFile(handle, dir, name, entry, target);
            } else if (seen.isSymbolicLink()) {
                copyLink(dir, name, entry, target);
            } else {
                skipped.incrementAndGet();
                log.info("{}: skipping {}, a {}: only regular files, directories and symbolic links are copied",
                        context, shown(dir, name), kind(entry.meta().mode()));
            }
        } catch (FileAlreadyExistsException e) {
            // Only this copy writes to the target, which was empty: the listing returned this name twice (NFS may,
            // for a directory that changes while it is read), and the first is copied.
            log.debug("{}: {} listed twice; copied once", context, shown(dir, name));
        }
    }

    /**
     * The entry's attributes: through the handle, and by path for what only a path offers, used when both lead to
     * the same inode. Null when the entry is gone.
     *
     * @throws CsiException.Aborted when the two keep disagreeing: the entry, or a directory above it, is being
     *                              replaced
     */
    private Entry inspect(SecureDirectoryStream<Path> handle, Node dir, Path name) throws IOException {
        for (int attempt = 1; ; attempt++) {
            BasicFileAttributes seen = Dirs.lstat(handle, name);
            if (seen == null) {
                return null;
            }
            Map<String, Object> attrs;
            try {
                attrs = Files.readAttributes(dir.source.resolve(name), UNIX_ATTRIBUTES, NOFOLLOW_LINKS);
            } catch (NoSuchFileException e) {
                attrs = null;
            }
            if (attrs != null && seen.fileKey().equals(attrs.get("fileKey"))) {
                return new Entry(seen, Meta.of(attrs), (Integer) attrs.get("nlink"));
            }
            if (attempt == ATTEMPTS) {
                throw replaced(dir, name);
            }
            checkpoint();
        }
    }

    private CsiException.Aborted replaced(Node dir, Path name) {
        return new CsiException.Aborted(context + ": " + shown(dir, name) + ", or a directory above it, was"
                + " replaced while it was being copied; retry continues");
    }

    private void copyFile(SecureDirectoryStream<Path> handle, Node dir, Path name, Entry entry, Path target)
            throws IOException {
        if (entry.links() <= 1) {
            copyContents(handle, name, entry, target, null);
            return;
        }
        Object key = entry.seen().fileKey();
        while (true) {
            CompletableFuture<Path> mine = new CompletableFuture<>();
            CompletableFuture<Path> first = linked.putIfAbsent(key, mine);
            if (first == null) {
                try {
                    copyContents(handle, name, entry, target, mine);
                } finally {
                    if (mine.complete(null)) {
                        linked.remove(key, mine); // never created (gone, or failed): another name may copy it
                    }
                }
                return;
            }
            Path existing = awaitFirst(first);
            if (existing != null) {
                checkpoint();
                Files.createLink(target, existing);
                files.incrementAndGet();
                return;
            }
        }
    }

    private Path awaitFirst(CompletableFuture<Path> first) {
        try {
            // The first name's copier completes this right after creating its target, before copying contents.
            return first.get(Math.max(0, deadline.timeRemaining(NANOSECONDS)), NANOSECONDS);
        } catch (TimeoutException e) {
            fail(RunControl.DEADLINE);
            throw RunControl.STOPPED;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            fail(e);
            throw RunControl.STOPPED;
        } catch (ExecutionException e) {
            throw new IllegalStateException(e); // never completed exceptionally
        }
    }

    /**
     * Copies a regular file's contents and attributes; false when it is gone. {@code created}, if given, is
     * completed with the target as soon as that exists.
     */
    private boolean copyContents(SecureDirectoryStream<Path> handle, Path name, Entry entry, Path target,
                                 CompletableFuture<Path> created) throws IOException {
        long copied;
        SeekableByteChannel in;
        try {
            in = handle.newByteChannel(name, READ);
        } catch (NoSuchFileException e) {
            return false;
        }
        try (in; FileChannel out = FileChannel.open(target, CREATE)) {
            if (created != null) {
                created.complete(target);
            }
            copied = transfer(in, out);
        }
        apply(target, entry.meta(), true, true);
        files.incrementAndGet();
        bytes.addAndGet(copied);
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
                checkpoint();
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
            checkpoint();
        }
        return position;
    }

    private void copyLink(Node dir, Path name, Entry entry, Path target) throws IOException {
        Path source = dir.source.resolve(name);
        Path text;
        try {
            text = Files.readSymbolicLink(source);
            // The text was read by path: it counts only if the path still leads to the link the handle saw.
            Object key = Files.readAttributes(source, BasicFileAttributes.class, NOFOLLOW_LINKS).fileKey();
            if (!entry.seen().fileKey().equals(key)) {
                throw replaced(dir, name);
            }
        } catch (NoSuchFileException e) {
            return;
        }
        Files.createSymbolicLink(target, text); // the text as it is: never resolved, wherever it points
        apply(target, entry.meta(), false, true);
        symlinks.incrementAndGet();
    }

    /**
     * Gives a target entry the owner, mode and times of its source: owner first, since a chown clears setuid and
     * setgid bits; times last. The owner of an entry this copy created is ours, and is left alone when it should be.
     */
    private void apply(Path target, Meta meta, boolean hasMode, boolean created) throws IOException {
        checkpoint();
        if (!created || meta.uid() != TargetAttributes.EUID || meta.gid() != TargetAttributes.EGID) {
            TargetAttributes.chown(target, meta.uid(), meta.gid());
        }
        if (hasMode) {
            TargetAttributes.chmod(target, meta.mode());
        }
        TargetAttributes.setTimes(target, meta.accessed(), meta.modified());
    }

    private void finishedOne(Node dir) throws IOException {
        Node node = dir;
        while (node.pending.decrementAndGet() == 0) {
            // every entry is in: a read-only mode or an mtime now sticks; the target root was not created by us
            apply(node.target, node.meta, true, node.parent != null);
            if (node.parent == null) {
                control.finish();
                return;
            }
            directories.incrementAndGet();
            node = node.parent;
        }
    }

    private static String kind(int mode) {
        return switch (mode & S_IFMT) {
            case 0010000 -> "FIFO";
            case 0020000 -> "character device";
            case 0060000 -> "block device";
            case 0140000 -> "socket";
            default -> "file of type " + Integer.toOctalString(mode & S_IFMT);
        };
    }

    // --- handles: open on demand, closed when no longer needed, or when idle and over budget ---

    private static void need(Node node) {
        synchronized (node) {
            node.needed++;
        }
    }

    private void unneed(Node node) {
        synchronized (node) {
            node.needed--;
            closeIfUnneeded(node);
        }
    }

    /** Caller holds {@code node}'s lock. */
    private void closeIfUnneeded(Node node) {
        if (node.needed == 0 && node.users == 0 && node.handle != null && node.parent != null) {
            close(node.handle);
            node.handle = null;
        }
    }

    /** Holds {@code node}'s handle open until {@link #release}, opening it if it is closed. */
    private SecureDirectoryStream<Path> acquire(Node node) throws IOException {
        SecureDirectoryStream<Path> handle = tryUse(node);
        if (handle != null) {
            return handle;
        }
        // Walk up to the nearest open ancestor (the root always is), then open downwards.
        Deque<Node> closed = new ArrayDeque<>();
        Node above = node;
        do {
            closed.push(above);
            above = above.parent;
            handle = tryUse(above);
        } while (handle == null);
        while (!closed.isEmpty()) {
            Node next = closed.pop();
            SecureDirectoryStream<Path> nextHandle;
            try {
                synchronized (next) {
                    if (next.handle == null) {
                        next.handle = openVerified(handle, next);
                    }
                    next.users++;
                    nextHandle = next.handle;
                }
            } finally {
                release(above, false);
                closeIdleOverBudget(); // at each step: a long chain must not have all of itself open at once
            }
            above = next;
            handle = nextHandle;
        }
        return handle;
    }

    private static SecureDirectoryStream<Path> tryUse(Node node) {
        synchronized (node) {
            if (node.handle == null) {
                return null;
            }
            node.users++;
            return node.handle;
        }
    }

    /** Ends a use of {@code node}'s handle; {@code done} also ends a piece of work that needed it. */
    private void release(Node node, boolean done) {
        synchronized (node) {
            if (done) {
                node.needed--;
            }
            node.users--;
            if (node.users > 0 || node.handle == null) {
                return;
            }
            if (node.needed == 0) {
                closeIfUnneeded(node);
                return;
            }
            if (node.queuedIdle) {
                return;
            }
            node.queuedIdle = true;
        }
        idle.add(node);
        if (releases.incrementAndGet() % (4L * handleBudget + 64) == 0) {
            dropClosedFromIdle();
        }
    }

    /** Drops the nodes whose handle was closed from the idle queue, where they would otherwise pile up. */
    private void dropClosedFromIdle() {
        if (!sweeping.compareAndSet(false, true)) {
            return;
        }
        try {
            idle.removeIf(node -> {
                synchronized (node) {
                    if (node.handle != null) {
                        return false;
                    }
                    node.queuedIdle = false;
                    return true;
                }
            });
        } finally {
            sweeping.set(false);
        }
    }

    /** Opens {@code node} through its parent's handle without following a link; caller holds its lock. */
    private SecureDirectoryStream<Path> openVerified(SecureDirectoryStream<Path> parent, Node node)
            throws IOException {
        SecureDirectoryStream<Path> handle = parent.newDirectoryStream(node.name, NOFOLLOW_LINKS);
        try {
            if (!node.key.equals(Dirs.key(handle))) {
                throw replaced(node.parent, node.name);
            }
        } catch (IOException | RuntimeException e) {
            Dirs.closeQuietly(handle);
            throw e;
        }
        openHandles.add(handle);
        peakOpen.accumulateAndGet(open.incrementAndGet(), Math::max);
        return handle;
    }

    private void close(SecureDirectoryStream<Path> handle) {
        if (openHandles.remove(handle)) {
            open.decrementAndGet();
        }
        Dirs.closeQuietly(handle);
    }

    /** Closes idle handles, least recently released first, while more than the budget are open. */
    private void closeIdleOverBudget() {
        // Never called under a node's lock: it takes other nodes' locks, and two threads each holding one lock
        // while wanting the other's would deadlock.
        while (open.get() > handleBudget) {
            Node node = idle.poll();
            if (node == null) {
                return;
            }
            synchronized (node) {
                node.queuedIdle = false;
                if (node.users == 0 && node.handle != null) {
                    close(node.handle);
                    node.handle = null;
                }
            }
        }
    }

    private void closeAll() {
        for (SecureDirectoryStream<Path> handle : openHandles) {
            close(handle);
        }
        Dirs.closeQuietly(root.handle);
    }
}
